/**
 * Platform › Components: Atoll's components, each on or off, required or not, ready or not.
 * A platform administrator switches an optional one with its switch; the console then hides
 * (or shows again) that component's pages at once, since they read the same query.
 */
import { useState } from "react";
import { Alert, Label, PageSection, Switch, Title } from "@patternfly/react-core";
import { Table, Tbody, Td, Th, Thead, Tr } from "@patternfly/react-table";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { useTranslation } from "react-i18next";
import { ErrorState, Loading } from "@/components/States";
import { useCan } from "@/lib/api/access";
import { api } from "@/lib/api/client";
import { describe } from "@/lib/api/errors";

export interface AtollComponent {
  name: string;
  description: string;
  enabled: boolean;
  required: boolean;
  ready: boolean;
}

const API = "/kapis/config.atoll.io/v1alpha1/components";
/** The key App.tsx reads to hide a switched-off component's pages: shared on purpose. */
export const COMPONENTS_KEY = ["components"];

function Ready({ component }: { component: AtollComponent }) {
  const { t } = useTranslation();
  if (!component.enabled) return <Label isCompact color="grey" data-status="Off">{t("platform:components.off")}</Label>;
  return component.ready ? (
    <Label isCompact color="green" data-status="Ready">{t("platform:components.ready")}</Label>
  ) : (
    <Label isCompact color="blue" data-status="Starting">{t("platform:components.starting")}</Label>
  );
}

export default function ComponentsPage() {
  const { t } = useTranslation();
  const client = useQueryClient();
  const components = useQuery({
    queryKey: COMPONENTS_KEY,
    queryFn: () => api.get<{ items: AtollComponent[] }>(API),
    refetchInterval: 10_000,
  });
  const maySwitch = useCan({ verb: "update", group: "config.atoll.io", resource: "components" });
  const [busy, setBusy] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);

  async function toggle(component: AtollComponent, enabled: boolean) {
    setBusy(component.name);
    setError(null);
    try {
      await api.put(`${API}/${encodeURIComponent(component.name)}`, { enabled });
    } catch (caught) {
      setError(t("platform:components.failed", { name: component.name, reason: describe(caught) }));
    }
    setBusy(null);
    await client.invalidateQueries({ queryKey: COMPONENTS_KEY });
  }

  return (
    <>
      <PageSection>
        <Title headingLevel="h1">{t("platform:components.title")}</Title>
      </PageSection>
      <PageSection>
        {error && <Alert variant="danger" isInline title={error} style={{ marginBottom: 16 }} />}
        {components.isPending ? (
          <Loading />
        ) : components.error ? (
          <ErrorState error={components.error} retry={() => void components.refetch()} />
        ) : (
          <Table variant="compact" aria-label={t("platform:components.title")}>
            <Thead>
              <Tr>
                <Th width={15}>{t("name")}</Th>
                <Th>{t("platform:components.description")}</Th>
                <Th width={10}>{t("status")}</Th>
                <Th width={10}>{t("platform:components.required")}</Th>
                <Th width={15}>{t("platform:components.enabled")}</Th>
              </Tr>
            </Thead>
            <Tbody>
              {components.data.items.map((component) => (
                <Tr key={component.name} data-row={component.name}>
                  <Td dataLabel={t("name")}>{component.name}</Td>
                  <Td dataLabel={t("platform:components.description")}>{component.description}</Td>
                  <Td dataLabel={t("status")}>
                    <Ready component={component} />
                  </Td>
                  <Td dataLabel={t("platform:components.required")}>{component.required ? t("yes") : t("no")}</Td>
                  <Td dataLabel={t("platform:components.enabled")}>
                    <Switch
                      id={`component-${component.name}`}
                      data-testid={`component-${component.name}`}
                      aria-label={t("platform:components.switch", { name: component.name })}
                      isChecked={component.enabled}
                      isDisabled={!maySwitch || component.required || busy !== null}
                      onChange={(_event, checked) => void toggle(component, checked)}
                    />
                  </Td>
                </Tr>
              ))}
            </Tbody>
          </Table>
        )}
      </PageSection>
    </>
  );
}
