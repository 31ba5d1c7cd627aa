/**
 * The requests behind the workload actions, shaped as kubectl sends them: `scale` patches the
 * scale subresource, `rollout restart` stamps the pod template with the time (a new template
 * makes a new rollout), `rollout pause`/`resume` and `cronjob suspend` flip one field, and
 * `create job --from=cronjob/…` copies the CronJob's job template.
 */
import { api } from "@/lib/api/client";
import type { Kind } from "@/lib/k8s/kinds";
import type { K8sObject } from "@/lib/k8s/types";

export const RESTARTED_AT = "kubectl.kubernetes.io/restartedAt";

export function scalePatch(replicas: number) {
  return { spec: { replicas } };
}

export function restartPatch(now: Date) {
  return { spec: { template: { metadata: { annotations: { [RESTARTED_AT]: now.toISOString() } } } } };
}

/** A boolean in `spec`: `paused` (Deployment), `suspend` (CronJob, Job). */
export type SpecFlag = "paused" | "suspend";

export function flagPatch(flag: SpecFlag, value: boolean) {
  return { spec: { [flag]: value } };
}

function pathOf(kind: Kind, cluster: string, object: K8sObject, subresource?: string): string {
  return kind.path(cluster, object.metadata.namespace, object.metadata.name, subresource);
}

export function scale(kind: Kind, cluster: string, object: K8sObject, replicas: number): Promise<unknown> {
  return api.patch(pathOf(kind, cluster, object, "scale"), scalePatch(replicas));
}

export function restart(kind: Kind, cluster: string, object: K8sObject, now = new Date()): Promise<unknown> {
  return api.patch(pathOf(kind, cluster, object), restartPatch(now));
}

export function setFlag(kind: Kind, cluster: string, object: K8sObject, flag: SpecFlag, value: boolean): Promise<unknown> {
  return api.patch(pathOf(kind, cluster, object), flagPatch(flag, value));
}

/** At most 63 characters, as a Job's name must be (its pods add a suffix of their own). */
export function manualJobName(cronJob: string, now = new Date()): string {
  const suffix = `-manual-${Math.floor(now.getTime() / 1000).toString(36)}`;
  return cronJob.slice(0, 63 - suffix.length).replace(/[-.]+$/, "") + suffix;
}

/** A Job from a CronJob's template, owned by it, as `kubectl create job --from=cronjob/…` makes. */
export function jobFromCronJob(cronJob: K8sObject, name: string): K8sObject {
  const template = cronJob.spec?.jobTemplate ?? {};
  return {
    apiVersion: "batch/v1",
    kind: "Job",
    metadata: {
      name,
      namespace: cronJob.metadata.namespace,
      labels: template.metadata?.labels,
      annotations: { ...(template.metadata?.annotations ?? {}), "cronjob.kubernetes.io/instantiate": "manual" },
      ownerReferences: [
        { apiVersion: "batch/v1", kind: "CronJob", name: cronJob.metadata.name, uid: cronJob.metadata.uid ?? "", controller: true },
      ],
    },
    spec: template.spec,
  };
}
