/**
 * Counting objects by status word, the worst first (a failure is what a glance should catch):
 * the overview's workload health, a workload's pod squares, the project's pods by phase.
 */
import type { Health, StatusWord } from "@/lib/k8s/status";
import type { K8sObject } from "@/lib/k8s/types";

export interface HealthCount {
  status: StatusWord;
  count: number;
}

const ORDER: Health[] = ["error", "warning", "progress", "ok", "unknown"];

export function healthCounts(objects: K8sObject[], statusOf: (object: K8sObject) => StatusWord): HealthCount[] {
  const counts = new Map<string, HealthCount>();
  for (const object of objects) {
    const status = statusOf(object);
    const found = counts.get(status.text);
    if (found) found.count++;
    else counts.set(status.text, { status, count: 1 });
  }
  return [...counts.values()].sort(
    (a, b) =>
      ORDER.indexOf(a.status.health) - ORDER.indexOf(b.status.health) ||
      b.count - a.count ||
      a.status.text.localeCompare(b.status.text),
  );
}

/** A pod's phase (what the server can filter on), with the health its word carries. */
export const POD_PHASES: StatusWord[] = [
  { text: "Running", health: "ok" },
  { text: "Pending", health: "progress" },
  { text: "Succeeded", health: "ok" },
  { text: "Failed", health: "error" },
  { text: "Unknown", health: "unknown" },
];
