/**
 * Platform › Clusters: every cluster Atoll manages with its health (the Ready condition of
 * each probe, and why not), Kubernetes version, node count and provider; each links to its
 * overview. Platform administrators add member clusters by kubeconfig and remove them (the
 * host stays).
 */
import { useState } from "react";
import { Button, PageSection, Title } from "@patternfly/react-core";
import { useQueryClient } from "@tanstack/react-query";
import { useTranslation } from "react-i18next";
import { ResourceTable, ageColumn, nameColumn, type Column } from "@/components/ResourceTable";
import { StatusLabel } from "@/components/StatusLabel";
import { useCan } from "@/lib/api/access";
import { api } from "@/lib/api/client";
import { age } from "@/lib/format";
import { Cluster } from "@/lib/k8s/kinds";
import type { K8sObject } from "@/lib/k8s/types";
import { ConfirmDialog } from "../ConfirmDialog";
import { AddClusterDialog } from "./AddClusterDialog";
import { CLUSTERS_API, clusterHealth, isHost } from "./health";

function Health({ cluster }: { cluster: K8sObject }) {
  const health = clusterHealth(cluster);
  return (
    <span title={health.message}>
      <StatusLabel status={health} /> {health.health !== "ok" && health.reason && <small style={{ opacity: 0.75 }}>{health.reason}</small>}
    </span>
  );
}

function clusterColumns(t: (key: string, options?: Record<string, string>) => string): Column[] {
  return [
    nameColumn(t("name")),
    { id: "status", title: t("status"), width: 20, render: (cluster) => <Health cluster={cluster} /> },
    { id: "version", title: t("platform:clusters.version"), width: 10, render: (cluster) => cluster.status?.kubernetesVersion ?? "" },
    { id: "nodes", title: t("platform:clusters.nodes"), width: 10, render: (cluster) => cluster.status?.nodeCount ?? "" },
    { id: "provider", title: t("platform:clusters.provider"), width: 10, render: (cluster) => cluster.spec?.provider ?? "" },
    {
      id: "probe",
      title: t("platform:clusters.lastProbe"),
      width: 10,
      render: (cluster) =>
        cluster.status?.lastProbeTime ? (
          <span title={cluster.status.lastProbeTime}>{t("time.ago", { value: age(cluster.status.lastProbeTime) })}</span>
        ) : (
          ""
        ),
    },
    ageColumn(t("age")),
  ];
}

export default function ClustersPage() {
  const { t } = useTranslation();
  const client = useQueryClient();
  const [adding, setAdding] = useState(false);
  const [removing, setRemoving] = useState<K8sObject | null>(null);
  const mayAdd = useCan({ verb: "create", group: Cluster.group, resource: Cluster.plural });
  const mayRemove = useCan({ verb: "delete", group: Cluster.group, resource: Cluster.plural });
  const refresh = () => {
    void client.invalidateQueries({ queryKey: ["clusters"] });
    void client.invalidateQueries({ queryKey: ["list", "host", Cluster.resource] });
  };
  return (
    <>
      <PageSection>
        <Title headingLevel="h1">{t("platform:clusters.title")}</Title>
      </PageSection>
      <PageSection>
        <ResourceTable
          kind={Cluster}
          scope={{ cluster: "host" }}
          columns={clusterColumns(t)}
          link={(cluster) => `/clusters/${encodeURIComponent(cluster.metadata.name)}/overview`}
          actions={
            mayRemove
              ? (cluster) =>
                  [
                    isHost(cluster)
                      ? { title: t("platform:clusters.remove"), isAriaDisabled: true, tooltipProps: { content: t("platform:clusters.hostKept") } }
                      : { title: t("platform:clusters.remove"), isDanger: true, onClick: () => setRemoving(cluster) },
                  ]
              : undefined
          }
          toolbar={
            mayAdd ? (
              <Button onClick={() => setAdding(true)} data-testid="add-cluster">
                {t("platform:clusters.add")}
              </Button>
            ) : undefined
          }
        />
      </PageSection>
      {adding && (
        <AddClusterDialog
          onClose={(added) => {
            setAdding(false);
            if (added) refresh();
          }}
        />
      )}
      {removing && (
        <ConfirmDialog
          title={t("platform:clusters.removeTitle", { name: removing.metadata.name })}
          body={t("platform:clusters.removeBody")}
          confirm={t("platform:clusters.remove")}
          typed={removing.metadata.name}
          run={() => api.delete(`${CLUSTERS_API}/${encodeURIComponent(removing.metadata.name)}`)}
          onClose={(done) => {
            setRemoving(null);
            if (done) refresh();
          }}
        />
      )}
    </>
  );
}
