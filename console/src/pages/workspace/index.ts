/**
 * The workspace area (`/workspaces/:workspace/...`): its projects in every cluster it may
 * use, its members and roles, and its quotas. Nav entries carry no access check: the
 * workspace's own grants cannot be asked per workspace from a static entry, and each page
 * offers only what the user may do there.
 */
import type { Extension } from "@/lib/extensions/types";

export const workspace: Extension[] = [
  {
    type: "page",
    id: "tenant.workspace-projects",
    component: "tenant",
    area: "workspace",
    path: "projects",
    load: () => import("./projects/ProjectsPage"),
    nav: { label: "workspace:nav.projects", order: 10 },
  },
  {
    type: "page",
    id: "tenant.workspace-members",
    component: "tenant",
    area: "workspace",
    path: "members",
    load: () => import("./members/MembersPage"),
    nav: { label: "workspace:nav.members", section: "workspace:nav.settings", order: 20 },
  },
  {
    type: "page",
    id: "tenant.workspace-roles",
    component: "tenant",
    area: "workspace",
    path: "roles",
    load: () => import("./roles/RolesPage"),
    nav: { label: "workspace:nav.roles", section: "workspace:nav.settings", order: 21 },
  },
  {
    type: "page",
    id: "tenant.workspace-quotas",
    component: "tenant",
    area: "workspace",
    path: "quotas",
    load: () => import("./quotas/QuotasPage"),
    nav: { label: "workspace:nav.quotas", section: "workspace:nav.settings", order: 22 },
  },
];
