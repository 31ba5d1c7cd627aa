/**
 * Every kind, generically: list and detail pages in a cluster and in a project, and the
 * detail tabs every object has (overview, events, YAML). Kinds with views of their own
 * (workloads, pods…) add columns, overviews and actions through their own extensions.
 */
import type { Extension } from "@/lib/extensions/types";

const C = "resources";

export const resources: Extension[] = [
  { type: "page", id: "resources.cluster-list", component: C, area: "cluster", path: "resources/:resource", load: () => import("./ListPage") },
  { type: "page", id: "resources.cluster-new", component: C, area: "cluster", path: "resources/:resource/~new", load: () => import("./CreatePage") },
  { type: "page", id: "resources.cluster-detail", component: C, area: "cluster", path: "resources/:resource/:name", load: () => import("./DetailPage") },
  { type: "page", id: "resources.project-list", component: C, area: "project", path: ":resource", load: () => import("./ListPage") },
  { type: "page", id: "resources.project-new", component: C, area: "project", path: ":resource/~new", load: () => import("./CreatePage") },
  { type: "page", id: "resources.project-detail", component: C, area: "project", path: ":resource/:name", load: () => import("./DetailPage") },
  { type: "detail-tab", id: "resources.overview", component: C, resources: ["*"], title: "detail.overview", order: 0, load: () => import("./Overview") },
  { type: "detail-tab", id: "resources.events", component: C, resources: ["*"], title: "detail.events", order: 80, load: () => import("./Events") },
  { type: "detail-tab", id: "resources.yaml", component: C, resources: ["*"], title: "detail.yaml", order: 90, load: () => import("./Yaml") },
];
