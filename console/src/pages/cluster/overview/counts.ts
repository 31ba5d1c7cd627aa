/**
 * Counting without reading: how many objects match, from the `totalItems` of a one-item page
 * of the cached list API, so a cluster of 150,000 pods costs one small answer per number.
 * Counts are polled (not watched): a watch of every pod in a cluster only to count it would
 * cost far more than the number is worth.
 */
import { useQuery } from "@tanstack/react-query";
import { fetchPage, type ListQuery } from "@/lib/api/hooks";
import type { Kind } from "@/lib/k8s/kinds";

export const POD_PHASES = ["Running", "Pending", "Succeeded", "Failed", "Unknown"] as const;

export function useCount(kind: Kind, query: Omit<ListQuery, "page" | "limit">) {
  return useQuery({
    queryKey: ["count", query.cluster, kind.resource, query.namespace ?? "", query.labelSelector ?? "", query.fieldSelector ?? ""],
    queryFn: ({ signal }) => fetchPage(kind, { ...query, limit: 1 }, signal).then((page) => page.totalItems),
    refetchInterval: 15_000,
  });
}

/** Nodes whose Ready condition is True, of those given. */
export function readyNodes(nodes: { status?: { conditions?: { type: string; status: string }[] } }[]): number {
  return nodes.filter((node) => node.status?.conditions?.some((item) => item.type === "Ready" && item.status === "True")).length;
}
