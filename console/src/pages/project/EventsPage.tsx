/**
 * Every event of the project, live, newest first (server-paged like any list), with a switch
 * between all events and warnings only; the choice is kept in the URL (`?type=Warning`), so
 * the overview can link straight to the warnings.
 */
import { PageSection, Title, ToggleGroup, ToggleGroupItem } from "@patternfly/react-core";
import { useParams, useSearchParams } from "react-router-dom";
import { useTranslation } from "react-i18next";
import { ResourceTable, ageColumn } from "@/components/ResourceTable";
import { Event } from "@/lib/k8s/kinds";
import { eventColumns } from "./columns";

export default function EventsPage() {
  const { t } = useTranslation();
  const { cluster = "", namespace = "" } = useParams();
  const [params, setParams] = useSearchParams();
  const warnings = params.get("type") === "Warning";
  const show = (onlyWarnings: boolean) => setParams(onlyWarnings ? { type: "Warning" } : {}, { replace: true });
  return (
    <>
      <PageSection>
        <Title headingLevel="h1">{t("project:nav.events")}</Title>
      </PageSection>
      <PageSection>
        <ResourceTable
          key={warnings ? "warnings" : "all"}
          kind={Event}
          scope={{ cluster, namespace, fieldSelector: warnings ? "type=Warning" : undefined }}
          columns={[...eventColumns(t), ageColumn(t("age"))]}
          ariaLabel={t("project:nav.events")}
          emptyText={warnings ? t("project:events.noWarnings") : t("events.none")}
          toolbar={
            <ToggleGroup aria-label={t("project:events.filter")}>
              <ToggleGroupItem text={t("project:events.all")} isSelected={!warnings} onChange={() => show(false)} data-testid="events-all" />
              <ToggleGroupItem text={t("project:events.warnings")} isSelected={warnings} onChange={() => show(true)} data-testid="events-warnings" />
            </ToggleGroup>
          }
        />
      </PageSection>
    </>
  );
}
