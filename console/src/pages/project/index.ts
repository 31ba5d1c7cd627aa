/**
 * The project area (`/clusters/:cluster/projects/:namespace`): its navigation and pages
 * (overview, the lists of each kind under stable paths, events, members, roles, quotas) and
 * the views of the kinds a project holds (their list columns and overview tabs). Everything
 * React is loaded lazily except the columns, which lists need at once.
 */
import type { Extension, Lazy, PageExtension, PageProps, ResourceViewExtension } from "@/lib/extensions/types";
import type { Column } from "@/components/ResourceTable";
import {
  ConfigMap,
  CronJob,
  DaemonSet,
  Deployment,
  Event,
  Ingress,
  Job,
  PersistentVolumeClaim,
  Pod,
  ReplicaSet,
  ResourceQuota,
  Role,
  Secret,
  Service,
  ServiceAccount,
  StatefulSet,
  type Kind,
} from "@/lib/k8s/kinds";
import {
  claimColumns,
  configMapColumns,
  cronJobColumns,
  eventColumns,
  ingressColumns,
  jobColumns,
  podColumns,
  quotaColumns,
  replicaSetColumns,
  roleColumns,
  secretColumns,
  serviceAccountColumns,
  serviceColumns,
  workloadColumns,
} from "./columns";

const C = "project";

function page(id: string, path: string, load: Lazy<PageProps>, nav?: PageExtension["nav"]): PageExtension {
  return { type: "page", id: `project.${id}`, component: C, area: "project", path, load, nav };
}

/** A kind's list page under its resource name (`deployments.apps`), in the navigation. */
function list(kind: Kind, label: string, section: string, order: number): PageExtension {
  return page(
    kind.plural,
    kind.resource,
    () => import("./KindList").then((module) => ({ default: module.listPage(kind, `project:nav.${label}`) })),
    { label: `project:nav.${label}`, section: section && `project:nav.${section}`, order },
  );
}

function view(
  kind: Kind,
  columns: (t: (key: string) => string) => Column[],
  overview: ResourceViewExtension["overview"],
  createPath?: string,
): ResourceViewExtension {
  return { type: "resource-view", id: `project.view.${kind.plural}`, component: C, resource: kind.resource, columns, overview, createPath };
}

const wizard = (kind: Kind) => `workloads/new?kind=${kind.kind}`;
const workload = () => import("./views/Workload");
const jobs = () => import("./views/Job");

export const project: Extension[] = [
  page("overview", "overview", () => import("./overview/ProjectOverview"), { label: "project:nav.overview", order: 0 }),
  list(Deployment, "deployments", "workloads", 10),
  list(StatefulSet, "statefulsets", "workloads", 11),
  list(DaemonSet, "daemonsets", "workloads", 12),
  list(Job, "jobs", "workloads", 13),
  list(CronJob, "cronjobs", "workloads", 14),
  list(Pod, "pods", "workloads", 15),
  list(Service, "services", "networking", 20),
  list(Ingress, "ingresses", "networking", 21),
  list(ConfigMap, "configmaps", "configuration", 30),
  list(Secret, "secrets", "configuration", 31),
  list(ServiceAccount, "serviceaccounts", "configuration", 32),
  list(PersistentVolumeClaim, "pvcs", "storage", 40),
  page("events", "events", () => import("./EventsPage"), { label: "project:nav.events", order: 50 }),
  page("members", "members", () => import("./settings/Members"), { label: "project:nav.members", section: "project:nav.settings", order: 60 }),
  list(Role, "roles", "settings", 61),
  page("quotas", "quotas", () => import("./settings/Quotas"), { label: "project:nav.quotas", section: "project:nav.settings", order: 62 }),

  view(Deployment, workloadColumns, workload, wizard(Deployment)),
  view(StatefulSet, workloadColumns, workload, wizard(StatefulSet)),
  view(DaemonSet, workloadColumns, workload, wizard(DaemonSet)),
  view(ReplicaSet, replicaSetColumns, workload),
  view(Job, jobColumns, () => jobs().then((module) => ({ default: module.JobOverview })), wizard(Job)),
  view(CronJob, cronJobColumns, () => jobs().then((module) => ({ default: module.CronJobOverview })), wizard(CronJob)),
  view(Pod, podColumns, () => import("./views/Pod")),
  view(Service, serviceColumns, () => import("./views/Service")),
  view(Ingress, ingressColumns, () => import("./views/Ingress")),
  view(ConfigMap, configMapColumns, () => import("./views/ConfigMap")),
  view(Secret, secretColumns, () => import("./views/Secret")),
  view(PersistentVolumeClaim, claimColumns, () => import("./views/Claim")),
  view(Event, eventColumns, () => import("./views/Event")),
  view(ResourceQuota, quotaColumns, () => import("./views/Quota")),
  view(ServiceAccount, serviceAccountColumns, () => import("./views/Account")),
  view(Role, roleColumns, () => import("./views/Role")),
];
