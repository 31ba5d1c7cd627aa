/**
 * Operating workloads: the actions on their detail pages (scale, restart, roll back, pause
 * and resume, suspend and resume, run a CronJob now), the Revisions tab, and a pod's Logs and
 * Terminal tabs (Logs also on workloads, with a pod to pick). Each action is offered only to
 * those allowed the request it makes, and only in the state it changes.
 */
import type { AccessCheck } from "@/lib/api/access";
import type { ActionExtension, Extension } from "@/lib/extensions/types";
import type { Kind } from "@/lib/k8s/kinds";
import type { K8sObject } from "@/lib/k8s/types";

const C = "workload";

const DEPLOYMENTS = "deployments.apps";
const STATEFULSETS = "statefulsets.apps";
const DAEMONSETS = "daemonsets.apps";
const REPLICASETS = "replicasets.apps";
const JOBS = "jobs.batch";
const CRONJOBS = "cronjobs.batch";
const ROLLING = [DEPLOYMENTS, STATEFULSETS, DAEMONSETS];

/** Patching the object itself (or one of its subresources). */
function patch(subresource?: string): ActionExtension["requires"] {
  return (kind: Kind, object: K8sObject, cluster: string): AccessCheck => ({
    cluster,
    verb: "patch",
    group: kind.group,
    resource: kind.plural,
    subresource,
    namespace: object.metadata.namespace,
    name: object.metadata.name,
  });
}

const flag = (field: "paused" | "suspend", value: boolean) => (object: K8sObject) => (object.spec?.[field] === true) === value;

export const workload: Extension[] = [
  {
    type: "action",
    id: "workload.scale",
    component: C,
    resources: [DEPLOYMENTS, STATEFULSETS, REPLICASETS],
    title: "workload:scale.action",
    order: 10,
    requires: patch("scale"),
    load: () => import("./actions/ScaleDialog"),
  },
  {
    type: "action",
    id: "workload.restart",
    component: C,
    resources: ROLLING,
    title: "workload:restart.action",
    order: 20,
    requires: patch(),
    load: () => import("./actions/RestartDialog"),
  },
  {
    type: "action",
    id: "workload.rollback",
    component: C,
    resources: ROLLING,
    title: "workload:rollback.action",
    order: 30,
    requires: patch(),
    load: () => import("./revisions/RollbackDialog"),
  },
  {
    type: "action",
    id: "workload.pause",
    component: C,
    resources: [DEPLOYMENTS],
    title: "workload:pause.action",
    order: 40,
    requires: patch(),
    available: flag("paused", false),
    load: () => import("./actions/FlagDialogs").then((module) => ({ default: module.PauseDialog })),
  },
  {
    type: "action",
    id: "workload.resume",
    component: C,
    resources: [DEPLOYMENTS],
    title: "workload:resumeRollouts.action",
    order: 40,
    requires: patch(),
    available: flag("paused", true),
    load: () => import("./actions/FlagDialogs").then((module) => ({ default: module.ResumeRolloutsDialog })),
  },
  {
    type: "action",
    id: "workload.suspend",
    component: C,
    resources: [CRONJOBS, JOBS],
    title: "workload:suspend.action",
    order: 40,
    requires: patch(),
    available: flag("suspend", false),
    load: () => import("./actions/FlagDialogs").then((module) => ({ default: module.SuspendDialog })),
  },
  {
    type: "action",
    id: "workload.unsuspend",
    component: C,
    resources: [CRONJOBS, JOBS],
    title: "workload:unsuspend.action",
    order: 40,
    requires: patch(),
    available: flag("suspend", true),
    load: () => import("./actions/FlagDialogs").then((module) => ({ default: module.UnsuspendDialog })),
  },
  {
    type: "action",
    id: "workload.run-now",
    component: C,
    resources: [CRONJOBS],
    title: "workload:runNow.action",
    order: 50,
    requires: (_kind, object, cluster) => ({
      cluster,
      verb: "create",
      group: "batch",
      resource: "jobs",
      namespace: object.metadata.namespace,
    }),
    load: () => import("./actions/RunNowDialog"),
  },
  {
    type: "detail-tab",
    id: "workload.revisions",
    component: C,
    resources: ROLLING,
    title: "workload:revisions.tab",
    order: 40,
    load: () => import("./revisions/RevisionsTab"),
  },
  {
    type: "detail-tab",
    id: "workload.logs",
    component: C,
    resources: ["pods"],
    title: "workload:logs.tab",
    order: 30,
    load: () => import("./logs/LogsTab"),
  },
  {
    type: "detail-tab",
    id: "workload.workload-logs",
    component: C,
    resources: [...ROLLING, JOBS],
    title: "workload:logs.tab",
    order: 30,
    load: () => import("./logs/WorkloadLogsTab"),
  },
  {
    type: "detail-tab",
    id: "workload.terminal",
    component: C,
    resources: ["pods"],
    title: "workload:terminal.tab",
    order: 35,
    requires: (_kind, object, cluster) => ({
      cluster,
      verb: "create",
      resource: "pods",
      subresource: "exec",
      namespace: object.metadata.namespace,
      name: object.metadata.name,
    }),
    load: () => import("./terminal/TerminalTab"),
  },
];
