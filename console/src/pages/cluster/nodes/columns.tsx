/**
 * The nodes list's columns (after the name): status as kubectl words it, roles, kubelet
 * version, internal IP, what the node can give pods (allocatable CPU and memory) and how
 * many pods run there of how many it takes. The pod count is one `limit=1` question per
 * node in view (rows are virtualized), so a long list costs no more than the rows shown.
 */
import { useQuery } from "@tanstack/react-query";
import { useParams } from "react-router-dom";
import type { Column } from "@/components/ResourceTable";
import { StatusLabel } from "@/components/StatusLabel";
import { fetchPage } from "@/lib/api/hooks";
import { bytes } from "@/lib/format";
import { Pod } from "@/lib/k8s/kinds";
import type { K8sObject } from "@/lib/k8s/types";
import { cores, nodeAmounts } from "./capacity";
import { address, nodeRoles, nodeStatus, pressures } from "./node";

/** Pods on a node that hold resources (not those that ended). */
export function podsOnNode(node: string): string {
  return `spec.nodeName=${node},status.phase!=Succeeded,status.phase!=Failed`;
}

function NodePods({ node }: { node: K8sObject }) {
  const { cluster = "" } = useParams();
  const name = node.metadata.name;
  const count = useQuery({
    queryKey: ["node-pods", cluster, name],
    queryFn: ({ signal }) => fetchPage(Pod, { cluster, fieldSelector: podsOnNode(name), limit: 1 }, signal),
    staleTime: 15_000,
  });
  const allocatable = nodeAmounts(node, "allocatable").pods;
  return <span data-testid={`node-pods-${name}`}>{`${count.data?.totalItems ?? "…"} / ${allocatable}`}</span>;
}

function NodeState({ node }: { node: K8sObject }) {
  const bad = pressures(node);
  return (
    <>
      <StatusLabel status={nodeStatus(node)} /> {bad.length > 0 && <small style={{ color: "var(--pf-t--global--text--color--status--warning--default)" }}>{bad.join(", ")}</small>}
    </>
  );
}

export function nodeColumns(t: (key: string) => string): Column[] {
  return [
    { id: "status", title: t("status"), width: 20, render: (node) => <NodeState node={node} /> },
    { id: "roles", title: t("cluster:nodes.roles"), width: 10, render: (node) => nodeRoles(node).join(", ") || t("none") },
    { id: "version", title: t("cluster:nodes.version"), width: 10, render: (node) => node.status?.nodeInfo?.kubeletVersion ?? "" },
    { id: "ip", title: t("cluster:nodes.internalIP"), width: 10, render: (node) => address(node, "InternalIP") },
    { id: "cpu", title: t("cluster:nodes.cpu"), width: 10, render: (node) => cores(nodeAmounts(node, "allocatable").cpu) },
    { id: "memory", title: t("cluster:nodes.memory"), width: 10, render: (node) => bytes(nodeAmounts(node, "allocatable").memory) },
    { id: "pods", title: t("cluster:nodes.pods"), width: 10, render: (node) => <NodePods node={node} /> },
  ];
}
