/**
 * What the Jobs and CronJobs lists and overviews say about a run: completions, how long it
 * took (or has been running), as kubectl prints them.
 */
import type { K8sObject } from "@/lib/k8s/types";

/** `1m30s`, `2h5m`, `3d4h`: a span in kubectl's words. */
export function duration(seconds: number): string {
  const s = Math.max(0, Math.floor(seconds));
  if (s < 60) return `${s}s`;
  const minutes = Math.floor(s / 60);
  if (minutes < 60) return s % 60 ? `${minutes}m${s % 60}s` : `${minutes}m`;
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return minutes % 60 ? `${hours}h${minutes % 60}m` : `${hours}h`;
  const days = Math.floor(hours / 24);
  return hours % 24 ? `${days}d${hours % 24}h` : `${days}d`;
}

/** How long a Job ran: start to completion, or to now while it runs; "" before it starts. */
export function jobDuration(job: K8sObject, now = Date.now()): string {
  const start = job.status?.startTime as string | undefined;
  if (!start) return "";
  const end = (job.status?.completionTime as string | undefined) ?? undefined;
  return duration(((end ? Date.parse(end) : now) - Date.parse(start)) / 1000);
}

/** `succeeded/completions`; a Job without completions (a work queue) is done after one. */
export function completions(job: K8sObject): string {
  return `${job.status?.succeeded ?? 0}/${job.spec?.completions ?? 1}`;
}
