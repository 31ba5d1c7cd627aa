/**
 * Cluster › Overview: the cluster's health as Atoll's probe sees it, its version and nodes
 * (ready of total), what its nodes offer (capacity, allocatable) against the pods placed,
 * its pods by phase, and its most recent warnings. Requests per pod are summed only on a
 * node's own page: here every number is a sum over nodes or a count, cheap at any scale.
 */
import {
  Card,
  CardBody,
  CardTitle,
  DescriptionList,
  Gallery,
  PageSection,
  Progress,
  Title,
} from "@patternfly/react-core";
import { Table, Tbody, Td, Th, Thead, Tr } from "@patternfly/react-table";
import { useQuery } from "@tanstack/react-query";
import { Link, useParams } from "react-router-dom";
import { useTranslation } from "react-i18next";
import { ErrorState, Loading } from "@/components/States";
import { StatusLabel } from "@/components/StatusLabel";
import { fetchPage, useAll, useObject } from "@/lib/api/hooks";
import { age } from "@/lib/format";
import { Cluster, Event, Node, Pod } from "@/lib/k8s/kinds";
import type { K8sObject } from "@/lib/k8s/types";
import { Conditions, Fact } from "@/pages/resources/Overview";
import { listPath } from "@/pages/resources/views";
import { clusterHealth } from "@/pages/platform/clusters/health";
import { AMOUNTS, percent, sumNodes } from "../nodes/capacity";
import { POD_PHASES, readyNodes, useCount } from "./counts";

function Health({ name }: { name: string }) {
  const { t } = useTranslation();
  const found = useObject(Cluster, "host", undefined, name);
  if (found.isPending) return <Loading />;
  if (found.error) return <ErrorState error={found.error} />;
  const cluster = found.data;
  const health = clusterHealth(cluster);
  return (
    <>
      <DescriptionList isHorizontal isCompact>
        <Fact term={t("status")}>
          <StatusLabel status={health} /> {health.message}
        </Fact>
        <Fact term={t("cluster:overview.version")}>{cluster.status?.kubernetesVersion ?? ""}</Fact>
        <Fact term={t("cluster:overview.provider")}>{cluster.spec?.provider ?? ""}</Fact>
        <Fact term={t("cluster:overview.lastProbe")}>{cluster.status?.lastProbeTime ? t("time.ago", { value: age(cluster.status.lastProbeTime) }) : t("none")}</Fact>
      </DescriptionList>
      <Conditions conditions={cluster.status?.conditions} />
    </>
  );
}

function Capacity({ nodes, placed }: { nodes: K8sObject[]; placed: number | undefined }) {
  const { t } = useTranslation();
  const capacity = sumNodes(nodes, "capacity");
  const allocatable = sumNodes(nodes, "allocatable");
  return (
    <>
      <Table variant="compact" aria-label={t("cluster:capacity.title")}>
        <Thead>
          <Tr>
            <Th>{t("cluster:capacity.resource")}</Th>
            <Th>{t("cluster:capacity.capacity")}</Th>
            <Th>{t("cluster:capacity.allocatable")}</Th>
          </Tr>
        </Thead>
        <Tbody>
          {AMOUNTS.map((row) => (
            <Tr key={row.id} data-row={row.id}>
              <Td>{t(row.label)}</Td>
              <Td>{row.show(capacity[row.id])}</Td>
              <Td>{row.show(allocatable[row.id])}</Td>
            </Tr>
          ))}
        </Tbody>
      </Table>
      {placed !== undefined && (
        <Progress
          style={{ marginTop: 16 }}
          title={t("cluster:overview.podsPlaced")}
          value={percent(placed, allocatable.pods)}
          label={t("cluster:overview.ofAllocatable", { used: placed, total: allocatable.pods })}
          size="sm"
        />
      )}
    </>
  );
}

function Nodes({ cluster }: { cluster: string }) {
  const { t } = useTranslation();
  const nodes = useAll(Node, { cluster });
  const running = useCount(Pod, { cluster, fieldSelector: "status.phase=Running" });
  const pending = useCount(Pod, { cluster, fieldSelector: "status.phase=Pending" });
  if (nodes.isPending) return <Loading />;
  if (nodes.error) return <ErrorState error={nodes.error} />;
  const { items, totalItems } = nodes.data;
  const ready = readyNodes(items);
  const placed = running.data !== undefined && pending.data !== undefined ? running.data + pending.data : undefined;
  return (
    <>
      {/* A progress bar's title is hidden from assistive technology: the link goes beside it. */}
      <Link to={`/clusters/${encodeURIComponent(cluster)}/nodes`}>{t("cluster:overview.nodesReady")}</Link>
      <Progress
        title={t("cluster:overview.nodesReady")}
        value={percent(ready, items.length)}
        label={t("cluster:overview.ofTotal", { used: ready, total: totalItems })}
        variant={ready < items.length ? "warning" : "success"}
        size="sm"
        data-testid="nodes-ready"
      />
      {totalItems > items.length && <p>{t("cluster:overview.firstNodes", { count: items.length })}</p>}
      <div style={{ marginTop: 16 }}>
        <Capacity nodes={items} placed={placed} />
      </div>
    </>
  );
}

function Phase({ cluster, phase }: { cluster: string; phase: string }) {
  const count = useCount(Pod, { cluster, fieldSelector: `status.phase=${phase}` });
  return <>{count.error ? "?" : (count.data ?? "…")}</>;
}

function Pods({ cluster }: { cluster: string }) {
  const { t } = useTranslation();
  const total = useCount(Pod, { cluster });
  if (total.error) return <ErrorState error={total.error} />;
  return (
    <DescriptionList isHorizontal isCompact>
      <Fact term={t("cluster:overview.allPods")}>{total.data ?? "…"}</Fact>
      {POD_PHASES.map((phase) => (
        <Fact key={phase} term={phase}>
          <span data-testid={`pods-${phase}`}>
            <Phase cluster={cluster} phase={phase} />
          </span>
        </Fact>
      ))}
    </DescriptionList>
  );
}

function Warnings({ cluster }: { cluster: string }) {
  const { t } = useTranslation();
  const events = useQuery({
    queryKey: ["warnings", cluster],
    queryFn: ({ signal }) => fetchPage(Event, { cluster, fieldSelector: "type=Warning", limit: 10, sortBy: "createTime", ascending: false }, signal),
    refetchInterval: 15_000,
  });
  if (events.isPending) return <Loading />;
  if (events.error) return <ErrorState error={events.error} />;
  if (!events.data.items.length) return <p>{t("cluster:overview.noWarnings")}</p>;
  return (
    <Table variant="compact" aria-label={t("cluster:overview.warnings")}>
      <Thead>
        <Tr>
          <Th width={20}>{t("events.object")}</Th>
          <Th width={15}>{t("namespace")}</Th>
          <Th width={15}>{t("events.reason")}</Th>
          <Th>{t("events.message")}</Th>
          <Th width={10}>{t("events.last")}</Th>
        </Tr>
      </Thead>
      <Tbody>
        {events.data.items.map((event) => {
          const object = event.involvedObject ?? {};
          return (
            <Tr key={`${event.metadata.namespace}/${event.metadata.name}`}>
              <Td>{`${object.kind ?? ""} ${object.name ?? ""}`}</Td>
              <Td>{event.metadata.namespace}</Td>
              <Td>{event.reason}</Td>
              <Td>{event.message}</Td>
              <Td>{age(event.lastTimestamp || event.eventTime || event.metadata.creationTimestamp)}</Td>
            </Tr>
          );
        })}
      </Tbody>
    </Table>
  );
}

export default function OverviewPage() {
  const { t } = useTranslation();
  const { cluster = "" } = useParams();
  return (
    <>
      <PageSection>
        <Title headingLevel="h1">{t("cluster:overview.title", { name: cluster })}</Title>
      </PageSection>
      <PageSection>
        <Gallery hasGutter minWidths={{ default: "100%", lg: "calc(50% - 16px)" }}>
          <Card>
            <CardTitle>{t("cluster:overview.health")}</CardTitle>
            <CardBody>
              <Health name={cluster} />
            </CardBody>
          </Card>
          <Card>
            <CardTitle>{t("cluster:overview.nodes")}</CardTitle>
            <CardBody>
              <Nodes cluster={cluster} />
            </CardBody>
          </Card>
          <Card>
            <CardTitle>
              <Link to={listPath(cluster, Pod.resource)}>{t("cluster:overview.pods")}</Link>
            </CardTitle>
            <CardBody>
              <Pods cluster={cluster} />
            </CardBody>
          </Card>
        </Gallery>
        <Card style={{ marginTop: 16 }}>
          <CardTitle>
            <Link to={listPath(cluster, Event.resource)}>{t("cluster:overview.warnings")}</Link>
          </CardTitle>
          <CardBody>
            <Warnings cluster={cluster} />
          </CardBody>
        </Card>
      </PageSection>
    </>
  );
}
