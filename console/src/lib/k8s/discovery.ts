/**
 * Kinds a cluster serves that the console does not know by name (CRDs, aggregated APIs):
 * found through the cluster's discovery documents, cached for the session.
 */
import { useQuery } from "@tanstack/react-query";
import { api } from "../api/client";
import { ApiError } from "../api/errors";
import { Kind, byResource } from "./kinds";

interface ApiResource {
  name: string;
  kind: string;
  namespaced: boolean;
  verbs: string[];
}

interface ResourceList {
  groupVersion: string;
  resources: ApiResource[];
}

interface GroupList {
  groups: { name: string; preferredVersion: { groupVersion: string; version: string } }[];
}

export interface Served {
  kind: Kind;
  verbs: string[];
}

async function served(cluster: string, groupVersion: string): Promise<Served[]> {
  const path = groupVersion === "v1" ? "/api/v1" : `/apis/${groupVersion}`;
  const list = await api.get<ResourceList>(`/clusters/${encodeURIComponent(cluster)}${path}`);
  const [group, version] = groupVersion.includes("/") ? groupVersion.split("/") : ["", groupVersion];
  return list.resources
    .filter((resource) => !resource.name.includes("/"))
    .map((resource) => ({
      kind: Kind.discovered({ kind: resource.kind, group, version, plural: resource.name, namespaced: resource.namespaced }),
      verbs: resource.verbs,
    }));
}

/** Every listable kind of a cluster, preferred versions only. */
export async function discover(cluster: string): Promise<Served[]> {
  const groups = await api.get<GroupList>(`/clusters/${encodeURIComponent(cluster)}/apis`);
  const lists = await Promise.all([
    served(cluster, "v1"),
    ...groups.groups.map((group) => served(cluster, group.preferredVersion.groupVersion).catch(() => [])),
  ]);
  return lists.flat().filter((item) => item.verbs.includes("list"));
}

export function useDiscovery(cluster: string, enabled = true) {
  return useQuery({ queryKey: ["discovery", cluster], queryFn: () => discover(cluster), staleTime: 5 * 60_000, enabled });
}

/** The kind a URL names (`deployments.apps`, `widgets.example.com`). */
export function useKind(cluster: string, resource: string): { kind?: Kind; error?: unknown; pending: boolean } {
  const known = byResource(resource);
  const discovery = useDiscovery(cluster, !known);
  if (known) return { kind: known, pending: false };
  if (discovery.isPending) return { pending: true };
  if (discovery.error) return { error: discovery.error, pending: false };
  const found = discovery.data.find((item) => item.kind.resource === resource);
  return found
    ? { kind: found.kind, pending: false }
    : { error: new ApiError(404, `this cluster serves no resource ${resource}`), pending: false };
}
