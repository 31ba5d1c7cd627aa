/**
 * A namespace as a project: the workspace it belongs to (the label Atoll's tenant component
 * puts on it) and its state (Active, or Terminating while everything in it is deleted).
 */
import type { StatusWord } from "@/lib/k8s/status";
import type { K8sObject } from "@/lib/k8s/types";

export const WORKSPACE_LABEL = "atoll.io/workspace";

export function workspaceOf(namespace: K8sObject): string | undefined {
  return namespace.metadata.labels?.[WORKSPACE_LABEL];
}

export function namespaceStatus(namespace: K8sObject): StatusWord {
  const phase: string = namespace.status?.phase ?? (namespace.metadata.deletionTimestamp ? "Terminating" : "Active");
  return { text: phase, health: phase === "Active" ? "ok" : phase === "Terminating" ? "progress" : "unknown" };
}
