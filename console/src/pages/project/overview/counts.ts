/**
 * How the project overview counts without reading whole lists: a total is the `totalItems`
 * of a one-item page (filtered server-side by a field selector where it needs to be), and a
 * workload kind's health is read from its newest objects only (a bounded sample).
 */
import { useResourcePage, type ListQuery } from "@/lib/api/hooks";
import type { Kind } from "@/lib/k8s/kinds";

/** How many workloads of a kind the overview reads to tell their health. */
export const SAMPLE = 100;

type Scope = Pick<ListQuery, "cluster" | "namespace" | "fieldSelector" | "labelSelector">;

/** The number of objects in a scope, live; `undefined` while asked or when refused. */
export function useTotal(kind: Kind, scope: Scope) {
  const page = useResourcePage(kind, { ...scope, page: 1, limit: 1 });
  return { total: page.data?.totalItems, error: page.error };
}

/** A kind's newest objects (at most `SAMPLE`), live, with the kind's total. */
export function useSample(kind: Kind, scope: Scope) {
  return useResourcePage(kind, { ...scope, page: 1, limit: SAMPLE, sortBy: "createTime", ascending: false });
}
