/**
 * Projects of a workspace through Atoll's tenant API: the clusters a workspace may use, its
 * projects in each, and the Namespace a new project is created as (name, and its alias and
 * description as annotations; the server adds the workspace label and the creator).
 */
import type { K8sObject } from "@/lib/k8s/types";

export const ALIAS_ANNOTATION = "atoll.io/alias";
export const DESCRIPTION_ANNOTATION = "atoll.io/description";
export const CREATOR_ANNOTATION = "atoll.io/creator";

const TENANT = "/kapis/tenant.atoll.io/v1alpha1";

export function clustersPath(workspace: string): string {
  return `${TENANT}/workspaces/${encodeURIComponent(workspace)}/clusters`;
}

export function projectsPath(workspace: string, cluster: string, project?: string): string {
  const path = `${clustersPath(workspace)}/${encodeURIComponent(cluster)}/namespaces`;
  return project ? `${path}/${encodeURIComponent(project)}` : path;
}

export function projectsKey(workspace: string, cluster: string): unknown[] {
  return ["workspace-projects", workspace, cluster];
}

export interface ProjectForm {
  cluster: string;
  name: string;
  alias: string;
  description: string;
}

export function projectBody(form: ProjectForm): K8sObject {
  const annotations: Record<string, string> = {};
  if (form.alias.trim()) annotations[ALIAS_ANNOTATION] = form.alias.trim();
  if (form.description.trim()) annotations[DESCRIPTION_ANNOTATION] = form.description.trim();
  return {
    apiVersion: "v1",
    kind: "Namespace",
    metadata: { name: form.name, ...(Object.keys(annotations).length ? { annotations } : {}) },
  };
}

export function projectOverview(cluster: string, project: string): string {
  return `/clusters/${encodeURIComponent(cluster)}/projects/${encodeURIComponent(project)}/overview`;
}
