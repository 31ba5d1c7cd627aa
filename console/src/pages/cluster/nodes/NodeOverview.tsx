/**
 * A node's overview tab: status, addresses and system information; what it offers against
 * what the pods placed on it ask for (their requests and limits summed here, over the pods
 * of this one node only); its conditions, labels and taints; and the pods it runs.
 */
import type { ReactNode } from "react";
import {
  DescriptionList,
  DescriptionListDescription,
  DescriptionListGroup,
  DescriptionListTerm,
  Grid,
  GridItem,
  Progress,
  Title,
} from "@patternfly/react-core";
import { Table, Tbody, Td, Th, Thead, Tr } from "@patternfly/react-table";
import { Link } from "react-router-dom";
import { useTranslation } from "react-i18next";
import { ErrorState, Loading } from "@/components/States";
import { StatusLabel } from "@/components/StatusLabel";
import { useAll } from "@/lib/api/hooks";
import type { DetailTabProps } from "@/lib/extensions/types";
import { age, bytes } from "@/lib/format";
import { Pod } from "@/lib/k8s/kinds";
import { podStatus } from "@/lib/k8s/status";
import type { K8sObject } from "@/lib/k8s/types";
import { Conditions, Labels } from "@/pages/resources/Overview";
import { detailPath } from "@/pages/resources/views";
import { cores, nodeAmounts, percent, podTotals, type Amounts } from "./capacity";
import { nodeRoles, nodeStatus, type Taint } from "./node";

function Term({ label, children }: { label: string; children: ReactNode }) {
  return (
    <DescriptionListGroup>
      <DescriptionListTerm>{label}</DescriptionListTerm>
      <DescriptionListDescription>{children}</DescriptionListDescription>
    </DescriptionListGroup>
  );
}

function Section({ title }: { title: string }) {
  return (
    <Title headingLevel="h2" size="lg" style={{ margin: "24px 0 8px" }}>
      {title}
    </Title>
  );
}

const SYSTEM_INFO = ["osImage", "kernelVersion", "containerRuntimeVersion", "kubeletVersion", "architecture", "operatingSystem"] as const;

function Resources({ node, pods }: { node: K8sObject; pods: K8sObject[] }) {
  const { t } = useTranslation();
  const capacity = nodeAmounts(node, "capacity");
  const allocatable = nodeAmounts(node, "allocatable");
  const { requests, limits } = podTotals(pods);
  const rows: { id: keyof Amounts; label: string; show(value: number): string }[] = [
    { id: "cpu", label: t("cluster:nodes.cpu"), show: cores },
    { id: "memory", label: t("cluster:nodes.memory"), show: bytes },
    { id: "pods", label: t("cluster:nodes.pods"), show: String },
  ];
  return (
    <Table variant="compact" aria-label={t("cluster:capacity.title")}>
      <Thead>
        <Tr>
          <Th>{t("cluster:capacity.resource")}</Th>
          <Th>{t("cluster:capacity.capacity")}</Th>
          <Th>{t("cluster:capacity.allocatable")}</Th>
          <Th>{t("cluster:capacity.requested")}</Th>
          <Th>{t("cluster:capacity.limits")}</Th>
          <Th width={25}>{t("cluster:capacity.requestedShare")}</Th>
        </Tr>
      </Thead>
      <Tbody>
        {rows.map((row) => {
          const share = percent(requests[row.id], allocatable[row.id]);
          return (
            <Tr key={row.id} data-row={row.id}>
              <Td>{row.label}</Td>
              <Td>{row.show(capacity[row.id])}</Td>
              <Td>{row.show(allocatable[row.id])}</Td>
              <Td>{row.show(requests[row.id])}</Td>
              <Td>{row.id === "pods" ? "" : row.show(limits[row.id])}</Td>
              <Td>
                <Progress value={share} aria-label={t("cluster:capacity.shareOf", { resource: row.label })} size="sm" variant={share >= 90 ? "danger" : share >= 75 ? "warning" : undefined} />
              </Td>
            </Tr>
          );
        })}
      </Tbody>
    </Table>
  );
}

function Taints({ taints }: { taints: Taint[] | undefined }) {
  const { t } = useTranslation();
  if (!taints?.length) return <p>{t("none")}</p>;
  return (
    <Table variant="compact" aria-label={t("cluster:taints.title")}>
      <Thead>
        <Tr>
          <Th>{t("cluster:taints.key")}</Th>
          <Th>{t("cluster:taints.value")}</Th>
          <Th>{t("cluster:taints.effect")}</Th>
        </Tr>
      </Thead>
      <Tbody>
        {taints.map((taint) => (
          <Tr key={`${taint.key}:${taint.effect}`}>
            <Td>{taint.key}</Td>
            <Td>{taint.value}</Td>
            <Td>{taint.effect}</Td>
          </Tr>
        ))}
      </Tbody>
    </Table>
  );
}

function Pods({ pods, cluster }: { pods: K8sObject[]; cluster: string }) {
  const { t } = useTranslation();
  if (!pods.length) return <p>{t("cluster:nodes.noPods")}</p>;
  return (
    <Table variant="compact" aria-label={t("cluster:nodes.podsOnNode")}>
      <Thead>
        <Tr>
          <Th>{t("name")}</Th>
          <Th>{t("namespace")}</Th>
          <Th>{t("status")}</Th>
          <Th>{t("cluster:nodes.cpuRequest")}</Th>
          <Th>{t("cluster:nodes.memoryRequest")}</Th>
          <Th>{t("age")}</Th>
        </Tr>
      </Thead>
      <Tbody>
        {pods.map((pod) => {
          const { requests } = podTotals([pod]);
          return (
            <Tr key={`${pod.metadata.namespace}/${pod.metadata.name}`} data-row={pod.metadata.name}>
              <Td>
                <Link to={detailPath(cluster, Pod.resource, pod.metadata.name, pod.metadata.namespace)}>{pod.metadata.name}</Link>
              </Td>
              <Td>{pod.metadata.namespace}</Td>
              <Td>
                <StatusLabel status={podStatus(pod)} />
              </Td>
              <Td>{cores(requests.cpu)}</Td>
              <Td>{bytes(requests.memory)}</Td>
              <Td>{age(pod.metadata.creationTimestamp)}</Td>
            </Tr>
          );
        })}
      </Tbody>
    </Table>
  );
}

export default function NodeOverview({ object: node, cluster }: DetailTabProps) {
  const { t } = useTranslation();
  const pods = useAll(Pod, { cluster, fieldSelector: `spec.nodeName=${node.metadata.name}` });
  const info = node.status?.nodeInfo ?? {};
  return (
    <>
      <Grid hasGutter md={6}>
        <GridItem>
          <DescriptionList isHorizontal isCompact>
            <Term label={t("status")}>
              <StatusLabel status={nodeStatus(node)} />
            </Term>
            <Term label={t("cluster:nodes.roles")}>{nodeRoles(node).join(", ") || t("none")}</Term>
            {((node.status?.addresses ?? []) as { type: string; address: string }[]).map((item) => (
              <Term key={item.type} label={item.type}>
                {item.address}
              </Term>
            ))}
            <Term label={t("created")}>{t("time.ago", { value: age(node.metadata.creationTimestamp) })}</Term>
          </DescriptionList>
        </GridItem>
        <GridItem>
          <DescriptionList isHorizontal isCompact>
            {SYSTEM_INFO.map((field) => (
              <Term key={field} label={t(`cluster:nodes.info.${field}`)}>
                {info[field] ?? ""}
              </Term>
            ))}
          </DescriptionList>
        </GridItem>
      </Grid>
      <Section title={t("cluster:capacity.title")} />
      {pods.isPending ? <Loading /> : pods.error ? <ErrorState error={pods.error} /> : <Resources node={node} pods={pods.data.items} />}
      <Conditions conditions={node.status?.conditions} />
      <Section title={t("labels")} />
      <Labels labels={node.metadata.labels} />
      <Section title={t("cluster:taints.title")} />
      <Taints taints={node.spec?.taints} />
      <Section title={t("cluster:nodes.podsOnNode")} />
      {pods.isPending ? <Loading /> : pods.error ? <ErrorState error={pods.error} /> : <Pods pods={pods.data.items} cluster={cluster} />}
    </>
  );
}
