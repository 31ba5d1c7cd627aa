/**
 * A Workspace as the create form makes it (`tenant.atoll.io/v1alpha1`, cluster-scoped in the
 * host): its manager becomes its first administrator, `spec.clusters` the clusters its
 * projects may live in (none chosen: the host only), `spec.description` what it is for.
 */
import { Workspace } from "@/lib/k8s/kinds";
import type { K8sObject } from "@/lib/k8s/types";

export interface WorkspaceForm {
  name: string;
  description: string;
  manager: string;
  clusters: string[];
}

export function workspaceBody(form: WorkspaceForm): K8sObject {
  const spec: Record<string, unknown> = {};
  if (form.manager.trim()) spec.manager = form.manager.trim();
  if (form.description.trim()) spec.description = form.description.trim();
  if (form.clusters.length) spec.clusters = [...form.clusters].sort();
  return { apiVersion: Workspace.apiVersion, kind: Workspace.kind, metadata: { name: form.name }, spec };
}

/** The clusters a workspace's projects may live in, as the server reads `spec.clusters`. */
export function workspaceClusters(workspace: K8sObject): string[] {
  const clusters: string[] = workspace.spec?.clusters ?? [];
  return clusters.length ? clusters : ["host"];
}
