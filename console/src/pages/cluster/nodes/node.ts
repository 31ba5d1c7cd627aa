/**
 * Nodes as kubectl shows them (STATUS `Ready,SchedulingDisabled`, ROLES from the
 * `node-role.kubernetes.io/<role>` labels, INTERNAL-IP), and the patches the node actions
 * send: cordon and uncordon (`spec.unschedulable`), labels (a merge patch that names only
 * what changed, with null for a removed key, so concurrent edits of other labels survive)
 * and taints (the whole list, as merge patches replace lists).
 */
import { condition, type StatusWord } from "@/lib/k8s/status";
import type { K8sObject } from "@/lib/k8s/types";

export const TAINT_EFFECTS = ["NoSchedule", "PreferNoSchedule", "NoExecute"] as const;
export type TaintEffect = (typeof TAINT_EFFECTS)[number];

export interface Taint {
  key: string;
  value?: string;
  effect: TaintEffect;
  timeAdded?: string;
}

export function nodeStatus(node: K8sObject): StatusWord {
  const ready = condition(node, "Ready")?.status;
  const word = ready === "True" ? "Ready" : ready === "False" ? "NotReady" : "Unknown";
  if (node.spec?.unschedulable) return { text: `${word},SchedulingDisabled`, health: ready === "True" ? "warning" : "error" };
  return { text: word, health: ready === "True" ? "ok" : ready === "False" ? "error" : "unknown" };
}

export function isCordoned(node: K8sObject): boolean {
  return Boolean(node.spec?.unschedulable);
}

/** Conditions that are bad news when True (MemoryPressure, DiskPressure, PIDPressure…). */
export function pressures(node: K8sObject): string[] {
  return ((node.status?.conditions ?? []) as { type: string; status: string }[])
    .filter((item) => item.type !== "Ready" && item.status === "True")
    .map((item) => item.type);
}

export function nodeRoles(node: K8sObject): string[] {
  const roles = new Set<string>();
  for (const [key, value] of Object.entries(node.metadata.labels ?? {})) {
    if (key.startsWith("node-role.kubernetes.io/")) roles.add(key.slice("node-role.kubernetes.io/".length));
    else if (key === "kubernetes.io/role" && value) roles.add(value);
  }
  return [...roles].filter(Boolean).sort();
}

export function address(node: K8sObject, type: "InternalIP" | "ExternalIP" | "Hostname"): string {
  const found = ((node.status?.addresses ?? []) as { type: string; address: string }[]).find((item) => item.type === type);
  return found?.address ?? "";
}

export function cordonPatch(cordon: boolean): { spec: { unschedulable: true | null } } {
  return { spec: { unschedulable: cordon ? true : null } };
}

/** The merge patch turning labels `before` into `after`: changed and new keys, null for removed. */
export function labelsPatch(
  before: Record<string, string> | undefined,
  after: Record<string, string>,
): { metadata: { labels: Record<string, string | null> } } {
  const labels: Record<string, string | null> = {};
  for (const key of Object.keys(before ?? {})) if (!(key in after)) labels[key] = null;
  for (const [key, value] of Object.entries(after)) if (before?.[key] !== value) labels[key] = value;
  return { metadata: { labels } };
}

export function taintsPatch(taints: Taint[]): { spec: { taints: Taint[] | null } } {
  const cleaned = taints.map(({ key, value, effect, timeAdded }) => ({
    key: key.trim(),
    effect,
    ...(value?.trim() ? { value: value.trim() } : {}),
    ...(timeAdded ? { timeAdded } : {}),
  }));
  return { spec: { taints: cleaned.length ? cleaned : null } };
}

const NAME = /^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;
const PREFIX = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

export type KeyProblem = "keys.required" | "keys.invalid" | "keys.duplicate" | "keys.badValue";

/** What is wrong with a label or taint key (`[prefix/]name`), as an i18n key of `cluster`. */
export function keyProblem(key: string): KeyProblem | null {
  if (!key) return "keys.required";
  const slash = key.lastIndexOf("/");
  const prefix = slash >= 0 ? key.slice(0, slash) : "";
  const name = slash >= 0 ? key.slice(slash + 1) : key;
  if (slash >= 0 && (!prefix || prefix.length > 253 || !PREFIX.test(prefix))) return "keys.invalid";
  if (!name || name.length > 63 || !NAME.test(name)) return "keys.invalid";
  return null;
}

/** What is wrong with a label value (empty, or up to 63 of letters, digits, '-', '_', '.'). */
export function valueProblem(value: string): KeyProblem | null {
  return value === "" || (value.length <= 63 && NAME.test(value)) ? null : "keys.badValue";
}

/** Problems of an edited list of key/value rows, by row (duplicates count). */
export function rowProblems(rows: { key: string; value: string }[]): (KeyProblem | null)[] {
  return rows.map((row, at) => {
    const key = row.key.trim();
    if (rows.findIndex((other) => other.key.trim() === key) !== at) return "keys.duplicate";
    return keyProblem(key) ?? valueProblem(row.value.trim());
  });
}

/** Problems of an edited list of taints, by row (a key may repeat with another effect). */
export function taintProblems(taints: Taint[]): (KeyProblem | null)[] {
  return taints.map((taint, at) => {
    const key = taint.key.trim();
    if (taints.findIndex((other) => other.key.trim() === key && other.effect === taint.effect) !== at) return "keys.duplicate";
    return keyProblem(key) ?? valueProblem((taint.value ?? "").trim());
  });
}
