/**
 * The cluster area (`/clusters/:cluster/...`): overview, nodes (with their view and
 * actions), projects, storage, every served kind and the CRDs, members and roles. Nav
 * entries are shown to those allowed to list what the page lists, in that cluster.
 */
import type { Extension } from "@/lib/extensions/types";
import { atollCheck } from "@/pages/platform/access/checks";
import { nodeColumns } from "./nodes/columns";
import { isCordoned } from "./nodes/node";

const patchNode = (cluster: string, name: string) => ({ cluster, verb: "patch", resource: "nodes", name });

export const cluster: Extension[] = [
  {
    type: "page",
    id: "clusters.cluster-overview",
    component: "clusters",
    area: "cluster",
    path: "overview",
    load: () => import("./overview/OverviewPage"),
    nav: { label: "cluster:nav.overview", order: 10 },
  },
  {
    type: "page",
    id: "clusters.cluster-nodes",
    component: "clusters",
    area: "cluster",
    path: "nodes",
    load: () => import("./nodes/NodesPage"),
    nav: { label: "cluster:nav.nodes", order: 20, requires: { verb: "list", resource: "nodes" } },
  },
  {
    type: "page",
    id: "clusters.cluster-projects",
    component: "clusters",
    area: "cluster",
    path: "projects",
    load: () => import("./projects/ProjectsPage"),
    nav: { label: "cluster:nav.projects", order: 30, requires: { verb: "list", resource: "namespaces" } },
  },
  {
    type: "page",
    id: "clusters.cluster-storageclasses",
    component: "clusters",
    area: "cluster",
    path: "resources/storageclasses.storage.k8s.io",
    load: () => import("./storage/StorageClassesPage"),
    nav: { label: "cluster:nav.storageClasses", section: "cluster:nav.storage", order: 40, requires: { verb: "list", group: "storage.k8s.io", resource: "storageclasses" } },
  },
  {
    type: "page",
    id: "clusters.cluster-persistentvolumes",
    component: "clusters",
    area: "cluster",
    path: "resources/persistentvolumes",
    load: () => import("./storage/PersistentVolumesPage"),
    nav: { label: "cluster:nav.persistentVolumes", section: "cluster:nav.storage", order: 41, requires: { verb: "list", resource: "persistentvolumes" } },
  },
  {
    type: "page",
    id: "clusters.cluster-resources",
    component: "clusters",
    area: "cluster",
    path: "resources",
    load: () => import("./resources/ResourcesPage"),
    nav: { label: "cluster:nav.allResources", section: "cluster:nav.resources", order: 50 },
  },
  {
    type: "page",
    id: "clusters.cluster-crds",
    component: "clusters",
    area: "cluster",
    path: "crds",
    load: () => import("./resources/CrdsPage"),
    nav: {
      label: "cluster:nav.crds",
      section: "cluster:nav.resources",
      order: 51,
      requires: { verb: "list", group: "apiextensions.k8s.io", resource: "customresourcedefinitions" },
    },
  },
  {
    type: "page",
    id: "tenant.cluster-members",
    component: "tenant",
    area: "cluster",
    path: "members",
    load: () => import("./members/MembersPage"),
    nav: { label: "cluster:nav.members", section: "cluster:nav.access", order: 60, requires: atollCheck({ verb: "list", group: "iam.atoll.io", resource: "clustermembers" }) },
  },
  {
    type: "page",
    id: "iam.cluster-roles",
    component: "iam",
    area: "cluster",
    path: "roles",
    load: () => import("./roles/RolesPage"),
    nav: { label: "cluster:nav.roles", section: "cluster:nav.access", order: 61, requires: { verb: "list", group: "rbac.authorization.k8s.io", resource: "clusterroles" } },
  },
  { type: "resource-view", id: "clusters.view-nodes", component: "clusters", resource: "nodes", columns: nodeColumns, overview: () => import("./nodes/NodeOverview") },
  {
    type: "action",
    id: "clusters.node-cordon",
    component: "clusters",
    resources: ["nodes"],
    title: "cluster:nodes.cordon",
    order: 10,
    requires: (_kind, node, cluster) => patchNode(cluster, node.metadata.name),
    available: (node) => !isCordoned(node),
    load: () => import("./nodes/CordonAction"),
  },
  {
    type: "action",
    id: "clusters.node-uncordon",
    component: "clusters",
    resources: ["nodes"],
    title: "cluster:nodes.uncordon",
    order: 11,
    requires: (_kind, node, cluster) => patchNode(cluster, node.metadata.name),
    available: isCordoned,
    load: () => import("./nodes/CordonAction"),
  },
  {
    type: "action",
    id: "clusters.node-labels",
    component: "clusters",
    resources: ["nodes"],
    title: "cluster:nodes.editLabels",
    order: 20,
    requires: (_kind, node, cluster) => patchNode(cluster, node.metadata.name),
    load: () => import("./nodes/LabelsAction"),
  },
  {
    type: "action",
    id: "clusters.node-taints",
    component: "clusters",
    resources: ["nodes"],
    title: "cluster:nodes.editTaints",
    order: 21,
    requires: (_kind, node, cluster) => patchNode(cluster, node.metadata.name),
    load: () => import("./nodes/TaintsAction"),
  },
];
