/**
 * The project's members through Atoll's members API
 * (`/kapis/iam.atoll.io/v1alpha1/clusters/{cluster}/namespaces/{namespace}/members`): who has
 * which of the project's roles. Adding a member who has a role already changes it (the server
 * grants the new role before taking the old away). The list stays live by watching the
 * member RoleBindings of the namespace, which is what the API reads.
 */
import { useEffect } from "react";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { api } from "@/lib/api/client";
import { watches } from "@/lib/api/watch";
import { RoleBinding } from "@/lib/k8s/kinds";

export interface Member {
  username: string;
  roleRef: string;
}

/** The label the members API puts on each member's RoleBinding. */
const USER_LABEL = "iam.atoll.io/user";

/** The project roles every Atoll project has, offered when its Roles cannot be listed. */
export const BUILT_IN_ROLES = ["admin", "operator", "viewer"];

export function membersPath(cluster: string, namespace: string, user?: string): string {
  const base = `/kapis/iam.atoll.io/v1alpha1/clusters/${encodeURIComponent(cluster)}/namespaces/${encodeURIComponent(namespace)}/members`;
  return user ? `${base}/${encodeURIComponent(user)}` : base;
}

export function membersKey(cluster: string, namespace: string): unknown[] {
  return ["members", cluster, namespace];
}

/** Gives a user a role in the project (adds them, or changes their role). */
export function saveMember(cluster: string, namespace: string, member: Member): Promise<unknown> {
  return api.post(membersPath(cluster, namespace), [member]);
}

export function removeMember(cluster: string, namespace: string, user: string): Promise<unknown> {
  return api.delete(membersPath(cluster, namespace, user));
}

export function useMembers(cluster: string, namespace: string) {
  const client = useQueryClient();
  const key = membersKey(cluster, namespace);
  const result = useQuery({
    queryKey: key,
    queryFn: ({ signal }) => api.get<{ items: Member[]; totalItems: number }>(membersPath(cluster, namespace), undefined, signal),
  });
  const loaded = result.data !== undefined;
  useEffect(() => {
    if (!loaded) return;
    let synced = false;
    const refresh = () => void client.invalidateQueries({ queryKey: key });
    return watches.subscribe(
      {
        cluster,
        group: RoleBinding.group,
        version: RoleBinding.version,
        resource: RoleBinding.plural,
        namespace,
        labelSelector: USER_LABEL,
      },
      {
        // The first frames are the bindings as they are: only what changes after counts.
        onEvent() {
          if (synced) refresh();
        },
        onSynced() {
          synced = true;
        },
        onResync() {
          synced = false;
          refresh();
        },
      },
    );
    // The key is made of these.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [cluster, namespace, loaded]);
  return result;
}
