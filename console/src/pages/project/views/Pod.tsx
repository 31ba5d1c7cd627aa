/**
 * A pod's overview: where it runs (node, IPs), its QoS class and status, who controls it (a
 * ReplicaSet's Deployment too), each container's state, readiness and restarts, the volumes it
 * mounts (claims, ConfigMaps and Secrets linked) and the Services that select it.
 */
import { Label, LabelGroup } from "@patternfly/react-core";
import { Table, Tbody, Td, Th, Thead, Tr } from "@patternfly/react-table";
import { useTranslation } from "react-i18next";
import { StatusLabel } from "@/components/StatusLabel";
import { useAll, useObject } from "@/lib/api/hooks";
import type { DetailTabProps } from "@/lib/extensions/types";
import { ConfigMap, Node, PersistentVolumeClaim, ReplicaSet, Secret, Service, ServiceAccount } from "@/lib/k8s/kinds";
import { podStatus } from "@/lib/k8s/status";
import type { K8sObject } from "@/lib/k8s/types";
import { Conditions, Metadata } from "@/pages/resources/Overview";
import { Containers } from "../parts/Containers";
import { Facts, Section } from "../parts/Details";
import { Fetched } from "../parts/Fetched";
import { ObjectLink } from "../parts/Links";
import { controllerOf, kindOf, servicesSelecting } from "../related";

/** The pod's controller, and the controller's controller (a ReplicaSet's Deployment). */
function Owners({ pod, cluster }: { pod: K8sObject; cluster: string }) {
  const owner = controllerOf(pod);
  const namespace = pod.metadata.namespace ?? "";
  const replicaSet = useObject(ReplicaSet, cluster, namespace, owner?.kind === "ReplicaSet" ? owner.name : "");
  if (!owner) return null;
  const kind = kindOf(owner.apiVersion, owner.kind);
  const above = replicaSet.data ? controllerOf(replicaSet.data) : undefined;
  const aboveKind = above && kindOf(above.apiVersion, above.kind);
  return (
    <>
      {above && aboveKind && (
        <div>
          {aboveKind.kind} <ObjectLink kind={aboveKind} name={above.name} namespace={namespace} cluster={cluster} />
        </div>
      )}
      <div>
        {owner.kind} {kind ? <ObjectLink kind={kind} name={owner.name} namespace={namespace} cluster={cluster} /> : owner.name}
      </div>
    </>
  );
}

interface Volume {
  name: string;
  persistentVolumeClaim?: { claimName: string };
  configMap?: { name: string };
  secret?: { secretName: string };
  emptyDir?: object;
  hostPath?: { path: string };
  projected?: object;
}

function VolumeSource({ volume, namespace, cluster }: { volume: Volume; namespace: string; cluster: string }) {
  const link = (kind: typeof Secret, name: string) => (
    <>
      {kind.kind} <ObjectLink kind={kind} name={name} namespace={namespace} cluster={cluster} />
    </>
  );
  if (volume.persistentVolumeClaim) return link(PersistentVolumeClaim, volume.persistentVolumeClaim.claimName);
  if (volume.configMap) return link(ConfigMap, volume.configMap.name);
  if (volume.secret) return link(Secret, volume.secret.secretName);
  if (volume.hostPath) return <>hostPath {volume.hostPath.path}</>;
  const type = Object.keys(volume).find((key) => key !== "name");
  return <>{type}</>;
}

function Volumes({ pod, cluster }: { pod: K8sObject; cluster: string }) {
  const { t } = useTranslation();
  const volumes = (pod.spec?.volumes ?? []) as Volume[];
  if (!volumes.length) return <p>{t("none")}</p>;
  return (
    <Table variant="compact" aria-label={t("project:pod.volumes")}>
      <Thead>
        <Tr>
          <Th>{t("name")}</Th>
          <Th>{t("project:pod.source")}</Th>
        </Tr>
      </Thead>
      <Tbody>
        {volumes.map((volume) => (
          <Tr key={volume.name}>
            <Td>{volume.name}</Td>
            <Td>
              <VolumeSource volume={volume} namespace={pod.metadata.namespace ?? ""} cluster={cluster} />
            </Td>
          </Tr>
        ))}
      </Tbody>
    </Table>
  );
}

function SelectingServices({ pod, cluster }: { pod: K8sObject; cluster: string }) {
  const { t } = useTranslation();
  const namespace = pod.metadata.namespace ?? "";
  const services = useAll(Service, { cluster, namespace });
  return (
    <Fetched result={services}>
      {(page) => {
        const found = servicesSelecting(page.items, pod);
        if (!found.length) return <p>{t("project:pod.noServices")}</p>;
        return (
          <LabelGroup numLabels={20}>
            {found.map((service) => (
              <Label key={service.metadata.name} isCompact>
                <ObjectLink kind={Service} name={service.metadata.name} namespace={namespace} cluster={cluster} />
              </Label>
            ))}
          </LabelGroup>
        );
      }}
    </Fetched>
  );
}

export default function PodOverview({ object: pod, cluster }: DetailTabProps) {
  const { t } = useTranslation();
  const namespace = pod.metadata.namespace ?? "";
  const status = pod.status ?? {};
  const ips = ((status.podIPs ?? []) as { ip: string }[]).map((entry) => entry.ip);
  return (
    <>
      <Metadata object={pod} cluster={cluster} />
      <Section title={t("project:pod.details")}>
        <Facts
          items={[
            [t("project:col.status"), <StatusLabel key="status" status={podStatus(pod)} />],
            [t("project:pod.controlledBy"), controllerOf(pod) ? <Owners key="owners" pod={pod} cluster={cluster} /> : undefined],
            [t("project:col.node"), pod.spec?.nodeName ? <ObjectLink key="node" kind={Node} name={pod.spec.nodeName} cluster={cluster} /> : undefined],
            [t("project:col.podIP"), (ips.length ? ips : [status.podIP].filter(Boolean)).join(", ")],
            [t("project:pod.hostIP"), status.hostIP],
            [t("project:pod.qos"), status.qosClass],
            [
              t("project:pod.serviceAccount"),
              pod.spec?.serviceAccountName ? (
                <ObjectLink key="sa" kind={ServiceAccount} name={pod.spec.serviceAccountName} namespace={namespace} cluster={cluster} />
              ) : undefined,
            ],
            [t("project:pod.restartPolicy"), pod.spec?.restartPolicy],
            [t("project:pod.started"), status.startTime],
          ]}
        />
      </Section>
      <Section title={t("project:containers.title")}>
        <Containers
          containers={pod.spec?.containers ?? []}
          init={pod.spec?.initContainers}
          statuses={[...(status.initContainerStatuses ?? []), ...(status.containerStatuses ?? [])]}
        />
      </Section>
      <Section title={t("project:pod.volumes")}>
        <Volumes pod={pod} cluster={cluster} />
      </Section>
      <Section title={t("project:pod.services")} testId="related-services">
        <SelectingServices pod={pod} cluster={cluster} />
      </Section>
      <Conditions conditions={status.conditions} />
    </>
  );
}
