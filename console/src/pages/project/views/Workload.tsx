/**
 * The overview of a Deployment, StatefulSet, DaemonSet or ReplicaSet: replicas, update
 * strategy, selector and containers, and what it runs, live — a Deployment's ReplicaSets
 * (its own, by owner uid, newest revision first) and the pods its selector picks, at a
 * glance and in a table.
 */
import { useTranslation } from "react-i18next";
import type { Column } from "@/components/ResourceTable";
import { useAll } from "@/lib/api/hooks";
import type { DetailTabProps } from "@/lib/extensions/types";
import { Pod, ReplicaSet } from "@/lib/k8s/kinds";
import type { K8sObject } from "@/lib/k8s/types";
import { Conditions, Labels, Metadata } from "@/pages/resources/Overview";
import { podColumns, replicaSetColumns } from "../columns";
import { Containers } from "../parts/Containers";
import { Facts, Section } from "../parts/Details";
import { Fetched } from "../parts/Fetched";
import { ObjectLink } from "../parts/Links";
import { ObjectTable } from "../parts/ObjectTable";
import { PodSquares } from "../parts/PodSquares";
import { Pods } from "../parts/Pods";
import { controllerOf, podsByOwner, replicaSetsOf, revisionOf, selectorText } from "../related";

type Translate = (key: string, options?: Record<string, unknown>) => string;

/** The update strategy in a line: `RollingUpdate (max surge 25%, max unavailable 25%)`. */
function strategy(object: K8sObject, t: Translate): string | undefined {
  const spec = object.spec ?? {};
  const chosen = object.kind === "Deployment" ? spec.strategy : spec.updateStrategy;
  if (!chosen?.type) return undefined;
  const rolling = chosen.rollingUpdate ?? {};
  if (chosen.type !== "RollingUpdate") return chosen.type;
  if (object.kind === "Deployment") {
    return t("project:workload.rolling", { type: chosen.type, surge: rolling.maxSurge ?? "25%", unavailable: rolling.maxUnavailable ?? "25%" });
  }
  if (object.kind === "StatefulSet") return t("project:workload.partition", { type: chosen.type, partition: rolling.partition ?? 0 });
  return t("project:workload.unavailable", { type: chosen.type, unavailable: rolling.maxUnavailable ?? 1 });
}

function replicaFacts(object: K8sObject, t: Translate): [string, string | number | undefined][] {
  const status = object.status ?? {};
  if (object.kind === "DaemonSet") {
    return [
      [t("project:workload.desired"), status.desiredNumberScheduled ?? 0],
      [t("project:workload.ready"), status.numberReady ?? 0],
      [t("project:workload.updated"), status.updatedNumberScheduled ?? 0],
      [t("project:workload.available"), status.numberAvailable ?? 0],
    ];
  }
  return [
    [t("project:workload.desired"), object.spec?.replicas ?? 1],
    [t("project:workload.ready"), status.readyReplicas ?? 0],
    [t("project:workload.updated"), object.kind === "ReplicaSet" ? undefined : (status.updatedReplicas ?? 0)],
    [t("project:workload.available"), status.availableReplicas ?? 0],
  ];
}

function ownerColumn(t: Translate, cluster: string): Column {
  return {
    id: "owner",
    title: t("project:col.replicaSet"),
    render: (pod) => {
      const owner = controllerOf(pod);
      return owner?.kind === "ReplicaSet" ? (
        <ObjectLink kind={ReplicaSet} name={owner.name} namespace={pod.metadata.namespace} cluster={cluster} />
      ) : (
        owner?.name
      );
    },
  };
}

function ReplicaSets({ object, cluster, namespace, selector, pods }: { object: K8sObject; cluster: string; namespace: string; selector: string; pods: K8sObject[] }) {
  const { t } = useTranslation();
  const found = useAll(ReplicaSet, { cluster, namespace, labelSelector: selector });
  const owned = podsByOwner(pods);
  const columns: Column[] = [
    ...replicaSetColumns(t),
    { id: "pods", title: t("project:col.pods"), render: (set) => <PodSquares pods={owned.get(set.metadata.uid ?? "") ?? []} cluster={cluster} compact /> },
  ];
  return (
    <Section title={t("project:workload.replicaSets")} testId="related-replicasets">
      <Fetched result={found}>
        {(page) => (
          <ObjectTable kind={ReplicaSet} objects={replicaSetsOf(object, page.items)} columns={columns} cluster={cluster} label={t("project:workload.replicaSets")} />
        )}
      </Fetched>
    </Section>
  );
}

export default function WorkloadOverview({ object, cluster }: DetailTabProps) {
  const { t } = useTranslation();
  const namespace = object.metadata.namespace ?? "";
  const selector = selectorText(object.spec?.selector);
  const pods = useAll(Pod, { cluster, namespace, labelSelector: selector ?? undefined }, { enabled: selector !== null });
  const template = object.spec?.template?.spec ?? {};
  const podList = pods.data?.items ?? [];
  return (
    <>
      <Metadata object={object} cluster={cluster} />
      <Section title={t("project:workload.details")}>
        <Facts
          items={[
            ...replicaFacts(object, t),
            [t("project:workload.strategy"), strategy(object, t)],
            [t("project:workload.selector"), <Labels key="selector" labels={object.spec?.selector?.matchLabels} />],
            [t("project:workload.serviceName"), object.spec?.serviceName],
            [t("project:workload.revision"), revisionOf(object) || undefined],
          ]}
        />
      </Section>
      {object.kind === "Deployment" && selector !== null && (
        <ReplicaSets object={object} cluster={cluster} namespace={namespace} selector={selector} pods={podList} />
      )}
      <Section title={t("project:col.pods")} testId="related-pods">
        {selector === null ? (
          <p>{t("project:workload.noSelector")}</p>
        ) : (
          <Fetched result={pods}>
            {(page) => (
              <Pods
                pods={page.items}
                total={page.totalItems}
                cluster={cluster}
                columns={object.kind === "Deployment" ? [...podColumns(t), ownerColumn(t, cluster)] : podColumns(t)}
              />
            )}
          </Fetched>
        )}
      </Section>
      <Section title={t("project:containers.title")}>
        <Containers containers={template.containers ?? []} init={template.initContainers} />
      </Section>
      <Conditions conditions={object.status?.conditions} />
    </>
  );
}
