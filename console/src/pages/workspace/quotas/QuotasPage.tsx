/**
 * Workspace › Quotas: per cluster the workspace may use, what its projects may request
 * together (the hard limits) against what they use now, and editing the limits for those
 * allowed to change the Workspace. Usage is read only where a quota is set.
 */
import { useState } from "react";
import { Alert, Button, Card, CardBody, CardHeader, CardTitle, PageSection, Progress, Title } from "@patternfly/react-core";
import { Table, Tbody, Td, Th, Thead, Tr } from "@patternfly/react-table";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { useParams } from "react-router-dom";
import { useTranslation } from "react-i18next";
import { ErrorState, Loading } from "@/components/States";
import { useCan } from "@/lib/api/access";
import { useObject } from "@/lib/api/hooks";
import { bytes, quantity } from "@/lib/format";
import { Workspace } from "@/lib/k8s/kinds";
import type { K8sObject } from "@/lib/k8s/types";
import { cores, percent } from "@/pages/cluster/nodes/capacity";
import { workspaceClusters } from "@/pages/platform/workspaces/workspace";
import { QuotaDialog } from "./QuotaDialog";
import { hardOf, measureOf } from "./quota";
import { workspaceUsage } from "./usage";

function shown(key: string, value: number): string {
  const measure = measureOf(key);
  return measure === "cores" ? cores(value) : measure === "bytes" ? bytes(value) : String(value);
}

function ClusterQuota({ workspace, cluster, mayEdit }: { workspace: K8sObject; cluster: string; mayEdit: boolean }) {
  const { t } = useTranslation();
  const client = useQueryClient();
  const [editing, setEditing] = useState(false);
  const name = workspace.metadata.name;
  const hard = hardOf(workspace, cluster);
  const keys = Object.keys(hard).sort();
  const usage = useQuery({
    queryKey: ["workspace-usage", name, cluster, keys],
    queryFn: ({ signal }) => workspaceUsage(name, cluster, keys, signal),
    enabled: keys.length > 0,
    staleTime: 30_000,
  });
  return (
    <Card data-testid={`quota-${cluster}`}>
      <CardHeader
        actions={{
          actions: mayEdit ? (
            <Button variant="secondary" onClick={() => setEditing(true)} data-testid={`quota-edit-${cluster}`}>
              {keys.length ? t("workspace:quotas.edit") : t("workspace:quotas.set")}
            </Button>
          ) : undefined,
        }}
      >
        <CardTitle>{t("workspace:quotas.inCluster", { cluster })}</CardTitle>
      </CardHeader>
      <CardBody>
        {!keys.length ? (
          <p>{t("workspace:quotas.none")}</p>
        ) : usage.error ? (
          <ErrorState error={usage.error} retry={() => void usage.refetch()} />
        ) : (
          <>
            {usage.data?.partial && <Alert variant="info" isInline isPlain title={t("workspace:quotas.partial")} />}
            <Table variant="compact" aria-label={t("workspace:quotas.inCluster", { cluster })}>
              <Thead>
                <Tr>
                  <Th>{t("workspace:quotas.resource")}</Th>
                  <Th>{t("workspace:quotas.used")}</Th>
                  <Th>{t("workspace:quotas.hard")}</Th>
                  <Th width={30}>{t("workspace:quotas.share")}</Th>
                </Tr>
              </Thead>
              <Tbody>
                {keys.map((key) => {
                  const limit = quantity(hard[key]);
                  const used = usage.data?.usage[key] ?? 0;
                  const share = percent(used, limit);
                  return (
                    <Tr key={key} data-row={key}>
                      <Td>{key}</Td>
                      <Td>{usage.isPending ? "…" : shown(key, used)}</Td>
                      <Td>{hard[key]}</Td>
                      <Td>
                        <Progress value={share} size="sm" aria-label={t("workspace:quotas.shareOf", { key })} variant={share >= 100 ? "danger" : share >= 80 ? "warning" : undefined} />
                      </Td>
                    </Tr>
                  );
                })}
              </Tbody>
            </Table>
          </>
        )}
      </CardBody>
      {editing && (
        <QuotaDialog
          workspace={workspace}
          cluster={cluster}
          onClose={(saved) => {
            setEditing(false);
            if (saved) void client.invalidateQueries({ queryKey: ["workspace-usage", name, cluster] });
          }}
        />
      )}
    </Card>
  );
}

export default function QuotasPage() {
  const { t } = useTranslation();
  const { workspace = "" } = useParams();
  const found = useObject(Workspace, "host", undefined, workspace);
  const mayEdit = useCan({ verb: "patch", group: Workspace.group, resource: Workspace.plural, name: workspace });
  return (
    <>
      <PageSection>
        <Title headingLevel="h1">{t("workspace:quotas.title")}</Title>
      </PageSection>
      <PageSection>
        {found.isPending ? (
          <Loading />
        ) : found.error ? (
          <ErrorState error={found.error} retry={() => void found.refetch()} />
        ) : (
          workspaceClusters(found.data).map((cluster) => (
            <div key={cluster} style={{ marginBottom: 16 }}>
              <ClusterQuota workspace={found.data} cluster={cluster} mayEdit={Boolean(mayEdit)} />
            </div>
          ))
        )}
      </PageSection>
    </>
  );
}
