/** Where Atoll's access-control objects live: the host cluster, cluster-scoped. */
export { GroupBinding, WorkspaceRole } from "@/lib/k8s/kinds";

/** Where users, workspaces, groups and every role but a cluster's own live. */
export const HOST = "host";

/** The label naming the workspace a WorkspaceRole (and its bindings) belongs to. */
export const WORKSPACE_OF_ROLE = "tenant.atoll.io/workspace";
