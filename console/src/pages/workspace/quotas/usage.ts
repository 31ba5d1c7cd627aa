/**
 * Reading a workspace's usage in one cluster: its projects there, the workloads in each
 * (one page of at most 500 per kind and project) and the number of objects of each kind its
 * quota counts. It costs a few requests per project, so it is read only for a cluster whose
 * quota is shown; a page cut short makes the usage a lower bound, and says so.
 */
import { fetchPage } from "@/lib/api/hooks";
import { api } from "@/lib/api/client";
import { Kind } from "@/lib/k8s/kinds";
import type { K8sObject } from "@/lib/k8s/types";
import { projectsPath } from "../projects/project";
import { WORKLOADS, addUsage, countKey, objectUsage, type Usage } from "./quota";

const LIMIT = 500;

function kindOf(plural: string, group: string): Kind {
  return new Kind({ kind: "", group, version: "v1", plural, namespaced: true });
}

/** `count/deployments.apps` → deployments in apps; `count/services` → services in the core group. */
export function countedKind(key: string): { plural: string; group: string } | null {
  if (!key.startsWith("count/")) return null;
  const resource = key.slice("count/".length);
  const dot = resource.indexOf(".");
  return dot < 0 ? { plural: resource, group: "" } : { plural: resource.slice(0, dot), group: resource.slice(dot + 1) };
}

async function projectUsage(cluster: string, namespace: string, counted: { plural: string; group: string }[], signal?: AbortSignal) {
  let usage: Usage = {};
  let partial = false;
  for (const { plural, group } of WORKLOADS) {
    const page = await fetchPage(kindOf(plural, group), { cluster, namespace, limit: LIMIT }, signal);
    partial ||= page.totalItems > page.items.length;
    for (const object of page.items) usage = addUsage(usage, objectUsage(plural, object));
    usage = addUsage(usage, { [countKey(plural, group)]: page.totalItems });
  }
  const others = counted.filter((item) => !WORKLOADS.some((workload) => workload.plural === item.plural && workload.group === item.group));
  const totals = await Promise.all(others.map((item) => fetchPage(kindOf(item.plural, item.group), { cluster, namespace, limit: 1 }, signal)));
  others.forEach((item, at) => (usage = addUsage(usage, { [countKey(item.plural, item.group)]: totals[at].totalItems })));
  return { usage, partial };
}

export async function workspaceUsage(workspace: string, cluster: string, keys: string[], signal?: AbortSignal): Promise<{ usage: Usage; partial: boolean }> {
  const projects = await api.get<{ items: K8sObject[] }>(projectsPath(workspace, cluster), undefined, signal);
  const counted = keys.map(countedKind).filter((item): item is { plural: string; group: string } => item !== null);
  const each = await Promise.all(projects.items.map((project) => projectUsage(cluster, project.metadata.name, counted, signal)));
  return {
    usage: each.reduce((total, item) => addUsage(total, item.usage), {} as Usage),
    partial: each.some((item) => item.partial),
  };
}
