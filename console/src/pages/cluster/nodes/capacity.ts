/**
 * Capacity arithmetic: what nodes offer (capacity, and allocatable once the system's share is
 * set aside), summed over nodes, and what pods ask for. A pod's request is Kubernetes' own
 * effective one: the larger of its containers' sum and its largest init container; pods that
 * ended (Succeeded, Failed) hold nothing.
 */
import { bytes, quantity } from "@/lib/format";
import type { K8sObject } from "@/lib/k8s/types";

export interface Amounts {
  /** Cores. */
  cpu: number;
  /** Bytes. */
  memory: number;
  pods: number;
}

const ZERO: Amounts = { cpu: 0, memory: 0, pods: 0 };

function amounts(list: Record<string, string> | undefined): Amounts {
  return {
    cpu: quantity(list?.cpu) || 0,
    memory: quantity(list?.memory) || 0,
    pods: quantity(list?.pods) || 0,
  };
}

function add(a: Amounts, b: Amounts): Amounts {
  return { cpu: a.cpu + b.cpu, memory: a.memory + b.memory, pods: a.pods + b.pods };
}

export function nodeAmounts(node: K8sObject, field: "capacity" | "allocatable"): Amounts {
  return amounts(node.status?.[field]);
}

export function sumNodes(nodes: K8sObject[], field: "capacity" | "allocatable"): Amounts {
  return nodes.reduce((total, node) => add(total, nodeAmounts(node, field)), ZERO);
}

interface Container {
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
}

function effective(pod: K8sObject, kind: "requests" | "limits", resource: "cpu" | "memory"): number {
  const read = (container: Container) => quantity(container.resources?.[kind]?.[resource]) || 0;
  const containers: Container[] = pod.spec?.containers ?? [];
  const inits: Container[] = pod.spec?.initContainers ?? [];
  const sum = containers.reduce((total, container) => total + read(container), 0);
  return Math.max(sum, ...inits.map(read));
}

export function holdsResources(pod: K8sObject): boolean {
  const phase = pod.status?.phase;
  return phase !== "Succeeded" && phase !== "Failed";
}

/** What the pods still running or waiting ask for (`pods` counts them) and are limited to. */
export function podTotals(pods: K8sObject[]): { requests: Amounts; limits: Amounts } {
  let requests = ZERO;
  let limits = ZERO;
  for (const pod of pods.filter(holdsResources)) {
    requests = add(requests, { cpu: effective(pod, "requests", "cpu"), memory: effective(pod, "requests", "memory"), pods: 1 });
    limits = add(limits, { cpu: effective(pod, "limits", "cpu"), memory: effective(pod, "limits", "memory"), pods: 1 });
  }
  return { requests, limits };
}

/** Cores as people write them: `250m` below one core, else up to two decimals. */
export function cores(value: number): string {
  if (value > 0 && value < 1) return `${Math.round(value * 1000)}m`;
  return String(Math.round(value * 100) / 100);
}

/** The amounts as the capacity tables list them: the i18n key of each, and how it is written. */
export const AMOUNTS: readonly { id: keyof Amounts; label: string; show(value: number): string }[] = [
  { id: "cpu", label: "cluster:nodes.cpu", show: cores },
  { id: "memory", label: "cluster:nodes.memory", show: bytes },
  { id: "pods", label: "cluster:nodes.pods", show: String },
];

/** A share in percent (0–100), 0 when there is nothing to share. */
export function percent(part: number, whole: number): number {
  return whole > 0 ? Math.min(100, Math.round((part / whole) * 100)) : 0;
}
