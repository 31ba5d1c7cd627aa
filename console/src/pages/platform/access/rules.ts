/**
 * Roles made readable: a role's PolicyRules become one row per resource (or URL) with the
 * verbs allowed on it, so "verbs × resources" reads as a table instead of nested lists. Rules
 * naming the same resource are merged; `*` stays a wildcard the table shows in words.
 */
import type { K8sObject } from "@/lib/k8s/types";

export interface PolicyRule {
  apiGroups?: string[];
  resources?: string[];
  resourceNames?: string[];
  verbs?: string[];
  nonResourceURLs?: string[];
}

export interface RuleRow {
  key: string;
  /** A resource in an API group, or a non-resource URL (`/healthz`). */
  kind: "resource" | "url";
  /** "" for the core group, `*` for every group. */
  group: string;
  /** `pods`, `pods/log`, `*`, or the URL. */
  resource: string;
  /** Only these objects, when the rule names them. */
  names: string[];
  /** Sorted, without repeats; `*` means every verb. */
  verbs: string[];
}

/** The verbs a table shows a column for; any other verb is listed beside them. */
export const STANDARD_VERBS = ["get", "list", "watch", "create", "update", "patch", "delete", "deletecollection"] as const;

function groupOrder(group: string): number {
  if (group === "*") return 0;
  if (group === "") return 1;
  return 2;
}

function merge(rows: Map<string, RuleRow>, row: Omit<RuleRow, "key">): void {
  const key = `${row.kind}|${row.group}|${row.resource}|${row.names.join(",")}`;
  const found = rows.get(key);
  const verbs = new Set([...(found?.verbs ?? []), ...row.verbs]);
  rows.set(key, { ...row, key, verbs: [...verbs].sort() });
}

export function ruleRows(rules: PolicyRule[] | undefined): RuleRow[] {
  const rows = new Map<string, RuleRow>();
  for (const rule of rules ?? []) {
    const verbs = rule.verbs ?? [];
    const names = [...(rule.resourceNames ?? [])].sort();
    for (const url of rule.nonResourceURLs ?? []) {
      merge(rows, { kind: "url", group: "", resource: url, names: [], verbs });
    }
    for (const group of rule.apiGroups ?? []) {
      for (const resource of rule.resources ?? []) {
        merge(rows, { kind: "resource", group, resource, names, verbs });
      }
    }
  }
  return [...rows.values()].sort(
    (a, b) =>
      (a.kind === b.kind ? 0 : a.kind === "resource" ? -1 : 1) ||
      groupOrder(a.group) - groupOrder(b.group) ||
      a.group.localeCompare(b.group) ||
      (a.resource === "*" ? -1 : b.resource === "*" ? 1 : a.resource.localeCompare(b.resource)) ||
      a.names.join(",").localeCompare(b.names.join(",")),
  );
}

export function allows(row: RuleRow, verb: string): boolean {
  return row.verbs.includes("*") || row.verbs.includes(verb);
}

/** Verbs beyond the standard columns (`bind`, `escalate`, `impersonate`, `use`). */
export function otherVerbs(row: RuleRow): string[] {
  return row.verbs.filter((verb) => verb !== "*" && !(STANDARD_VERBS as readonly string[]).includes(verb));
}

/** Whether a role grants every verb on every resource (an administrator's role). */
export function grantsEverything(rules: PolicyRule[] | undefined): boolean {
  return ruleRows(rules).some((row) => row.kind === "resource" && row.group === "*" && row.resource === "*" && !row.names.length && row.verbs.includes("*"));
}

/** Roles Atoll or Kubernetes made and keep: shown as built in, never offered for deletion. */
export function isBuiltIn(role: K8sObject): boolean {
  const labels = role.metadata.labels ?? {};
  return (
    labels["iam.atoll.io/built-in"] === "true" ||
    labels["kubernetes.io/bootstrapping"] === "rbac-defaults" ||
    role.metadata.name.startsWith("system:")
  );
}

/** The label selectors an aggregated ClusterRole gathers its rules from (`a=b,c=d` each). */
export function aggregationSelectors(role: K8sObject): string[] {
  const selectors: { matchLabels?: Record<string, string> }[] = role.aggregationRule?.clusterRoleSelectors ?? [];
  return selectors.map((selector) =>
    Object.entries(selector.matchLabels ?? {})
      .map(([key, value]) => `${key}=${value}`)
      .join(","),
  );
}
