/**
 * The arithmetic of project quotas: a ResourceQuota's used against hard, per resource, as a
 * share and a level (warn at 80 %, full at 100 %), in units a person reads (cores, bytes,
 * counts); and a LimitRange's defaults as rows. Pure, so the bars and the forms agree.
 */
import type { K8sObject } from "@/lib/k8s/types";
import { bytes, quantity } from "@/lib/format";

export type QuotaLevel = "ok" | "warning" | "full";

export interface QuotaLine {
  resource: string;
  used: string;
  hard: string;
  /** used / hard; 1 when something is used of nothing allowed. */
  ratio: number;
  /** 0–100, for a progress bar. */
  percent: number;
  level: QuotaLevel;
}

const WARN_AT = 0.8;

function ratioOf(used: number, hard: number): number {
  if (Number.isNaN(used) || Number.isNaN(hard)) return 0;
  if (hard <= 0) return used > 0 ? 1 : 0;
  return used / hard;
}

export function levelOf(ratio: number): QuotaLevel {
  if (ratio >= 1) return "full";
  if (ratio >= WARN_AT) return "warning";
  return "ok";
}

/** One line per resource the quota limits (its status once the controller has counted). */
export function quotaLines(quota: K8sObject): QuotaLine[] {
  const hard: Record<string, string> = quota.status?.hard ?? quota.spec?.hard ?? {};
  const used: Record<string, string> = quota.status?.used ?? {};
  return Object.keys(hard)
    .sort()
    .map((resource) => {
      const ratio = ratioOf(quantity(used[resource] ?? "0"), quantity(hard[resource]));
      return {
        resource,
        used: used[resource] ?? "0",
        hard: hard[resource],
        ratio,
        percent: Math.round(Math.min(1, ratio) * 100),
        level: levelOf(ratio),
      };
    });
}

/** The fullest line of a quota (for a list column), or none when it limits nothing. */
export function fullest(quota: K8sObject): QuotaLine | undefined {
  return quotaLines(quota).reduce<QuotaLine | undefined>((top, line) => (!top || line.ratio > top.ratio ? line : top), undefined);
}

export type Measure = "cpu" | "bytes" | "count";

/** What a quota resource counts: cores, bytes (memory, storage) or objects. */
export function measureOf(resource: string): Measure {
  if (/(^|\.)cpu$/.test(resource)) return "cpu";
  if (/(^|\.)(memory|storage|ephemeral-storage)$/.test(resource)) return "bytes";
  return "count";
}

function trimmed(value: number): string {
  return String(Math.round(value * 1000) / 1000);
}

/** A quantity in the resource's unit: `0.2` (cores), `128 MiB`, `10`. Unreadable stays raw. */
export function display(resource: string, value: string): string {
  const number = quantity(value);
  if (Number.isNaN(number)) return value;
  const measure = measureOf(resource);
  if (measure === "bytes") return bytes(number);
  return trimmed(number);
}

/** An i18n key fragment for a resource name (`requests.cpu` → `requests_cpu`). */
export function resourceKey(resource: string): string {
  return resource.replace(/[^a-zA-Z0-9]/g, "_");
}

/** Resources a quota form offers, the most asked for first. */
export const QUOTA_RESOURCES = [
  "requests.cpu",
  "limits.cpu",
  "requests.memory",
  "limits.memory",
  "requests.storage",
  "pods",
  "services",
  "persistentvolumeclaims",
  "configmaps",
  "secrets",
  "count/deployments.apps",
  "count/statefulsets.apps",
  "count/jobs.batch",
  "count/cronjobs.batch",
  "count/ingresses.networking.k8s.io",
] as const;

/** Whether a form's value is a quantity Kubernetes accepts here (counts are whole numbers). */
export function validQuantity(resource: string, value: string): boolean {
  const text = value.trim();
  if (!/^[0-9]+(\.[0-9]+)?(m|k|M|G|T|P|Ki|Mi|Gi|Ti|Pi)?$/.test(text)) return false;
  const number = quantity(text);
  if (Number.isNaN(number) || number < 0) return false;
  return measureOf(resource) !== "count" || Number.isInteger(number);
}

/**
 * The merge patch that turns `before` into `after` (`spec.hard` or a limit's map): changed and
 * new keys set, removed ones `null`.
 */
export function mapPatch(before: Record<string, string>, after: Record<string, string>): Record<string, string | null> {
  const patch: Record<string, string | null> = {};
  for (const [key, value] of Object.entries(after)) if (before[key] !== value) patch[key] = value;
  for (const key of Object.keys(before)) if (!(key in after)) patch[key] = null;
  return patch;
}

export interface LimitRow {
  type: string;
  resource: string;
  min?: string;
  max?: string;
  defaultRequest?: string;
  defaultLimit?: string;
  maxRatio?: string;
}

interface LimitItem {
  type: string;
  min?: Record<string, string>;
  max?: Record<string, string>;
  default?: Record<string, string>;
  defaultRequest?: Record<string, string>;
  maxLimitRequestRatio?: Record<string, string>;
}

/** A LimitRange as rows: one per type (Container, Pod, PVC) and resource it sets anything for. */
export function limitRows(limitRange: K8sObject): LimitRow[] {
  const rows: LimitRow[] = [];
  for (const item of (limitRange.spec?.limits ?? []) as LimitItem[]) {
    const resources = new Set(
      [item.min, item.max, item.default, item.defaultRequest, item.maxLimitRequestRatio].flatMap((map) => Object.keys(map ?? {})),
    );
    for (const resource of [...resources].sort()) {
      rows.push({
        type: item.type,
        resource,
        min: item.min?.[resource],
        max: item.max?.[resource],
        defaultRequest: item.defaultRequest?.[resource],
        defaultLimit: item.default?.[resource],
        maxRatio: item.maxLimitRequestRatio?.[resource],
      });
    }
  }
  return rows;
}

export interface ContainerDefaults {
  requestCpu: string;
  requestMemory: string;
  limitCpu: string;
  limitMemory: string;
}

/** The Container defaults a LimitRange sets, for the form ("" where it sets none). */
export function containerDefaults(limitRange: K8sObject | undefined): ContainerDefaults {
  const item = ((limitRange?.spec?.limits ?? []) as LimitItem[]).find((limit) => limit.type === "Container");
  return {
    requestCpu: item?.defaultRequest?.cpu ?? "",
    requestMemory: item?.defaultRequest?.memory ?? "",
    limitCpu: item?.default?.cpu ?? "",
    limitMemory: item?.default?.memory ?? "",
  };
}

function only(map: Record<string, string>): Record<string, string> | undefined {
  const kept = Object.fromEntries(Object.entries(map).filter(([, value]) => value.trim() !== ""));
  return Object.keys(kept).length ? kept : undefined;
}

/**
 * A LimitRange's `spec.limits` with the Container defaults replaced by the form's; its other
 * entries (Pod, PersistentVolumeClaim, min/max) are kept as they are.
 */
export function withContainerDefaults(limitRange: K8sObject | undefined, values: ContainerDefaults): LimitItem[] {
  const limits = ((limitRange?.spec?.limits ?? []) as LimitItem[]).map((item) => ({ ...item }));
  let container = limits.find((item) => item.type === "Container");
  if (!container) {
    container = { type: "Container" };
    limits.push(container);
  }
  container.defaultRequest = only({ ...container.defaultRequest, cpu: values.requestCpu, memory: values.requestMemory });
  container.default = only({ ...container.default, cpu: values.limitCpu, memory: values.limitMemory });
  if (!container.defaultRequest) delete container.defaultRequest;
  if (!container.default) delete container.default;
  return limits.filter((item) => Object.keys(item).length > 1);
}
