/**
 * A workspace's quota per cluster (`spec.quotas[].hard`, as a ResourceQuota's `hard`) and
 * its usage, counted the way Atoll's tenant component enforces it: a workload without an
 * owner counts its replicas' pods (a Job its parallelism, a DaemonSet one), a pod counts
 * itself unless a controller owns it or it ended; requests and limits are a pod's effective
 * ones; `count/<resource>[.<group>]` counts objects. `cpu` and `memory` mean requests.
 */
import { quantity } from "@/lib/format";
import type { K8sObject } from "@/lib/k8s/types";

export type Usage = Record<string, number>;
export type Hard = Record<string, string>;

const ALIASES: Record<string, string> = { cpu: "requests.cpu", memory: "requests.memory" };

/** The workload kinds usage is counted from: plural, group. */
export const WORKLOADS: readonly { plural: string; group: string }[] = [
  { plural: "pods", group: "" },
  { plural: "replicationcontrollers", group: "" },
  { plural: "deployments", group: "apps" },
  { plural: "statefulsets", group: "apps" },
  { plural: "replicasets", group: "apps" },
  { plural: "daemonsets", group: "apps" },
  { plural: "jobs", group: "batch" },
];

/** Keys a quota commonly limits, offered when editing. */
export const COMMON_KEYS = [
  "pods",
  "requests.cpu",
  "requests.memory",
  "limits.cpu",
  "limits.memory",
  "count/deployments.apps",
  "count/statefulsets.apps",
  "count/services",
  "count/configmaps",
  "count/secrets",
  "count/persistentvolumeclaims",
];

export function normalizeKey(key: string): string {
  return ALIASES[key] ?? key;
}

export function countKey(plural: string, group: string): string {
  return group ? `count/${plural}.${group}` : `count/${plural}`;
}

interface Container {
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
}

function effective(spec: K8sObject["spec"], kind: "requests" | "limits", resource: "cpu" | "memory"): number {
  const read = (container: Container) => quantity(container.resources?.[kind]?.[resource]) || 0;
  const sum = ((spec?.containers ?? []) as Container[]).reduce((total, container) => total + read(container), 0);
  return Math.max(sum, ...((spec?.initContainers ?? []) as Container[]).map(read));
}

export function podUsage(spec: K8sObject["spec"]): Usage {
  return {
    "requests.cpu": effective(spec, "requests", "cpu"),
    "requests.memory": effective(spec, "requests", "memory"),
    "limits.cpu": effective(spec, "limits", "cpu"),
    "limits.memory": effective(spec, "limits", "memory"),
    pods: 1,
  };
}

function controlled(object: K8sObject): boolean {
  return (object.metadata.ownerReferences ?? []).some((owner) => owner.controller);
}

/** What one object counts towards the quota (`count/…` aside), as the server counts it. */
export function objectUsage(plural: string, object: K8sObject): Usage {
  if (plural === "pods") {
    const phase = object.status?.phase;
    return controlled(object) || phase === "Succeeded" || phase === "Failed" ? {} : podUsage(object.spec);
  }
  if (!WORKLOADS.some((workload) => workload.plural === plural) || controlled(object)) return {};
  const spec = object.spec ?? {};
  const wanted = plural === "jobs" ? (spec.parallelism ?? 1) : plural === "daemonsets" ? 1 : (spec.replicas ?? 1);
  const copies = Number.isInteger(wanted) && wanted >= 0 ? wanted : 1;
  return Object.fromEntries(Object.entries(podUsage(spec.template?.spec)).map(([key, value]) => [key, value * copies]));
}

export function addUsage(total: Usage, more: Usage): Usage {
  const sum = { ...total };
  for (const [key, value] of Object.entries(more)) sum[key] = (sum[key] ?? 0) + value;
  return sum;
}

/** The quota of `workspace` in `cluster`, keys normalized; none: `{}`. */
export function hardOf(workspace: K8sObject, cluster: string): Hard {
  const quotas: { cluster: string; hard?: Record<string, string | number> }[] = workspace.spec?.quotas ?? [];
  const found = quotas.find((quota) => quota.cluster === cluster);
  return Object.fromEntries(Object.entries(found?.hard ?? {}).map(([key, value]) => [normalizeKey(key), String(value)]));
}

/**
 * The merge patch setting `cluster`'s quota to `hard` (none left: the cluster's entry goes),
 * keeping the other clusters'; it carries the version read, so a concurrent change is refused
 * instead of overwritten (a merge patch replaces the whole list).
 */
export function quotasPatch(workspace: K8sObject, cluster: string, hard: Hard): K8sObject {
  const others = ((workspace.spec?.quotas ?? []) as { cluster: string }[]).filter((quota) => quota.cluster !== cluster);
  const quotas = Object.keys(hard).length ? [...others, { cluster, hard }] : others;
  return { metadata: { name: workspace.metadata.name, resourceVersion: workspace.metadata.resourceVersion }, spec: { quotas } };
}

export type Measure = "cores" | "bytes" | "count";

export function measureOf(key: string): Measure {
  if (key.endsWith("cpu")) return "cores";
  if (key.endsWith("memory") || key.includes("storage")) return "bytes";
  return "count";
}

/** What is wrong with a quota row: an empty or repeated key, or a value that is no quantity. */
export function hardProblem(key: string, value: string, keys: string[]): "quota.keyRequired" | "quota.keyRepeated" | "quota.badValue" | null {
  if (!key.trim()) return "quota.keyRequired";
  if (keys.filter((other) => normalizeKey(other.trim()) === normalizeKey(key.trim())).length > 1) return "quota.keyRepeated";
  return Number.isNaN(quantity(value.trim())) || !value.trim() ? "quota.badValue" : null;
}
