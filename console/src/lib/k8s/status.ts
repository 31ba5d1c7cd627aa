/**
 * The status words the console shows, computed as kubectl computes them: a pod's STATUS
 * column (waiting/terminated reasons win over the phase), readiness counts, and a workload's
 * rollout state.
 */
import type { Condition, K8sObject } from "./types";

export type Health = "ok" | "progress" | "warning" | "error" | "unknown";

export interface StatusWord {
  text: string;
  health: Health;
}

export function podStatus(pod: K8sObject): StatusWord {
  if (pod.metadata.deletionTimestamp) return { text: "Terminating", health: "progress" };
  const status = pod.status ?? {};
  let reason: string = status.reason || status.phase || "Pending";
  const init = status.initContainerStatuses ?? [];
  for (const [at, container] of init.entries()) {
    const terminated = container.state?.terminated;
    const waiting = container.state?.waiting;
    if (terminated && terminated.exitCode === 0) continue;
    if (terminated) reason = `Init:${terminated.reason || `ExitCode:${terminated.exitCode}`}`;
    else if (waiting?.reason && waiting.reason !== "PodInitializing") reason = `Init:${waiting.reason}`;
    else reason = `Init:${at}/${init.length}`;
    return { text: reason, health: /Error|BackOff|Err/.test(reason) ? "error" : "progress" };
  }
  let running = false;
  for (const container of [...(status.containerStatuses ?? [])].reverse()) {
    const waiting = container.state?.waiting;
    const terminated = container.state?.terminated;
    if (waiting?.reason) reason = waiting.reason;
    else if (terminated?.reason) reason = terminated.reason;
    else if (terminated) reason = terminated.signal ? `Signal:${terminated.signal}` : `ExitCode:${terminated.exitCode}`;
    else if (container.ready && container.state?.running) running = true;
  }
  if (reason === "Completed" && running) reason = "Running";
  return { text: reason, health: healthOf(reason) };
}

function healthOf(reason: string): Health {
  if (reason === "Running" || reason === "Succeeded" || reason === "Completed") return "ok";
  if (/Pending|ContainerCreating|PodInitializing|Terminating|Init:\d/.test(reason)) return "progress";
  if (/Error|BackOff|Failed|Err|OOMKilled|Evicted|Unknown/.test(reason)) return "error";
  return "warning";
}

export function readyCount(pod: K8sObject): string {
  const statuses = pod.status?.containerStatuses ?? [];
  const total = pod.spec?.containers?.length ?? statuses.length;
  const ready = statuses.filter((container: { ready?: boolean }) => container.ready).length;
  return `${ready}/${total}`;
}

export function restarts(pod: K8sObject): number {
  return (pod.status?.containerStatuses ?? []).reduce(
    (sum: number, container: { restartCount?: number }) => sum + (container.restartCount ?? 0),
    0,
  );
}

export function condition(object: K8sObject, type: string): Condition | undefined {
  return (object.status?.conditions as Condition[] | undefined)?.find((found) => found.type === type);
}

/** A Deployment's, StatefulSet's or DaemonSet's state: ready replicas against desired. */
export function workloadStatus(workload: K8sObject): StatusWord {
  const kind = workload.kind;
  if (kind === "DaemonSet") {
    const desired = workload.status?.desiredNumberScheduled ?? 0;
    const ready = workload.status?.numberReady ?? 0;
    return ready >= desired ? { text: "Running", health: "ok" } : { text: "Updating", health: "progress" };
  }
  if (kind === "Job") {
    if (condition(workload, "Complete")?.status === "True") return { text: "Completed", health: "ok" };
    if (condition(workload, "Failed")?.status === "True") return { text: "Failed", health: "error" };
    return { text: "Running", health: "progress" };
  }
  if (kind === "CronJob") {
    return workload.spec?.suspend ? { text: "Suspended", health: "warning" } : { text: "Active", health: "ok" };
  }
  const desired = workload.spec?.replicas ?? 1;
  const ready = workload.status?.readyReplicas ?? 0;
  const updated = workload.status?.updatedReplicas ?? 0;
  if (workload.spec?.paused) return { text: "Paused", health: "warning" };
  if (desired === 0) return { text: "Stopped", health: "unknown" };
  const progressing = condition(workload, "Progressing");
  if (progressing?.reason === "ProgressDeadlineExceeded") return { text: "Failed", health: "error" };
  if (ready >= desired && updated >= desired && (workload.status?.replicas ?? 0) <= desired) {
    return { text: "Running", health: "ok" };
  }
  return { text: "Updating", health: "progress" };
}

export function replicasText(workload: K8sObject): string {
  if (workload.kind === "DaemonSet") {
    return `${workload.status?.numberReady ?? 0}/${workload.status?.desiredNumberScheduled ?? 0}`;
  }
  return `${workload.status?.readyReplicas ?? 0}/${workload.spec?.replicas ?? 1}`;
}
