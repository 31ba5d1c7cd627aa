/**
 * A node's overview tab: status, addresses and system information; what it offers against
 * what the pods placed on it ask for (their requests and limits summed here, over the pods
 * of this one node only); its conditions, labels and taints; and the pods it runs.
 */
import {
  DescriptionList,
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
import { Conditions, Fact, Labels } from "@/pages/resources/Overview";
import { detailPath } from "@/pages/resources/views";
import { AMOUNTS, cores, nodeAmounts, percent, podTotals } from "./capacity";
import { nodeRoles, nodeStatus, type Taint } from "./node";

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
        {AMOUNTS.map((row) => {
          const share = percent(requests[row.id], allocatable[row.id]);
          return (
            <Tr key={row.id} data-row={row.id}>
              <Td>{t(row.label)}</Td>
              <Td>{row.show(capacity[row.id])}</Td>
              <Td>{row.show(allocatable[row.id])}</Td>
              <Td>{row.show(requests[row.id])}</Td>
              <Td>{row.id === "pods" ? "" : row.show(limits[row.id])}</Td>
              <Td>
                <Progress value={share} aria-label={t("cluster:capacity.shareOf", { resource: t(row.label) })} size="sm" variant={share >= 90 ? "danger" : share >= 75 ? "warning" : undefined} />
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
            <Fact term={t("status")}>
              <StatusLabel status={nodeStatus(node)} />
            </Fact>
            <Fact term={t("cluster:nodes.roles")}>{nodeRoles(node).join(", ") || t("none")}</Fact>
            {((node.status?.addresses ?? []) as { type: string; address: string }[]).map((item) => (
              <Fact key={item.type} term={item.type}>
                {item.address}
              </Fact>
            ))}
            <Fact term={t("created")}>{t("time.ago", { value: age(node.metadata.creationTimestamp) })}</Fact>
          </DescriptionList>
        </GridItem>
        <GridItem>
          <DescriptionList isHorizontal isCompact>
            {SYSTEM_INFO.map((field) => (
              <Fact key={field} term={t(`cluster:nodes.info.${field}`)}>
                {info[field] ?? ""}
              </Fact>
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
