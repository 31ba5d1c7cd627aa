/**
 * The platform area (`/platform/...`): clusters, workspaces, users, groups, platform roles,
 * components and the audit trail, each shown only to those allowed to list it in the host
 * cluster. The role kinds' views (rules as a table) are registered here too, so their
 * generic detail pages read well wherever they are opened.
 */
import type { Extension } from "@/lib/extensions/types";
import { roleColumns } from "./access/RulesTable";

const roleOverview = () => import("./access/RoleOverview");

export const platform: Extension[] = [
  {
    type: "page",
    id: "clusters.platform-clusters",
    component: "clusters",
    area: "platform",
    path: "clusters",
    load: () => import("./clusters/ClustersPage"),
    nav: { label: "platform:nav.clusters", order: 10, requires: { verb: "list", group: "cluster.atoll.io", resource: "clusters" } },
  },
  {
    type: "page",
    id: "tenant.platform-workspaces",
    component: "tenant",
    area: "platform",
    path: "workspaces",
    load: () => import("./workspaces/WorkspacesPage"),
    nav: { label: "platform:nav.workspaces", order: 20, requires: { verb: "list", group: "tenant.atoll.io", resource: "workspaces" } },
  },
  {
    type: "page",
    id: "iam.platform-users",
    component: "iam",
    area: "platform",
    path: "users",
    load: () => import("./users/UsersPage"),
    nav: { label: "platform:nav.users", section: "platform:nav.access", order: 30, requires: { verb: "list", group: "iam.atoll.io", resource: "users" } },
  },
  {
    type: "page",
    id: "iam.platform-groups",
    component: "iam",
    area: "platform",
    path: "groups",
    load: () => import("./groups/GroupsPage"),
    nav: { label: "platform:nav.groups", section: "platform:nav.access", order: 31, requires: { verb: "list", group: "iam.atoll.io", resource: "groups" } },
  },
  {
    type: "page",
    id: "iam.platform-roles",
    component: "iam",
    area: "platform",
    path: "roles",
    load: () => import("./roles/GlobalRolesPage"),
    nav: { label: "platform:nav.roles", section: "platform:nav.access", order: 32, requires: { verb: "list", group: "iam.atoll.io", resource: "globalroles" } },
  },
  {
    type: "page",
    id: "core.platform-components",
    component: "core",
    area: "platform",
    path: "components",
    load: () => import("./components/ComponentsPage"),
    nav: { label: "platform:nav.components", section: "platform:nav.settings", order: 40, requires: { verb: "list", group: "config.atoll.io", resource: "components" } },
  },
  {
    type: "page",
    id: "auditing.platform-audit",
    component: "auditing",
    area: "platform",
    path: "audit",
    load: () => import("./audit/AuditPage"),
    nav: { label: "platform:nav.audit", section: "platform:nav.settings", order: 41, requires: { verb: "list", group: "auditing.atoll.io", resource: "events" } },
  },
  { type: "resource-view", id: "iam.view-globalroles", component: "iam", resource: "globalroles.iam.atoll.io", columns: roleColumns, overview: roleOverview },
  { type: "resource-view", id: "iam.view-workspaceroles", component: "iam", resource: "workspaceroles.iam.atoll.io", columns: roleColumns, overview: roleOverview },
  {
    type: "resource-view",
    id: "iam.view-clusterroles",
    component: "iam",
    resource: "clusterroles.rbac.authorization.k8s.io",
    columns: roleColumns,
    overview: roleOverview,
  },
];
