/**
 * The audit trail's search, as `GET /kapis/auditing.atoll.io/v1alpha1/events` takes it:
 * exact filters (user, verb list, resource, namespace, workspace, cluster, name, status code
 * or class such as `4xx`), a time window in RFC 3339, and paging; newest first.
 */
import type { Health } from "@/lib/k8s/status";

export const AUDIT_API = "/kapis/auditing.atoll.io/v1alpha1/events";

export interface AuditEvent {
  time: string;
  user: string;
  source: string;
  verb: string;
  path: string;
  code: number;
  cluster: string;
  workspace: string;
  namespace: string;
  api_group: string;
  resource: string;
  subresource: string;
  name: string;
  reason: string;
}

export const FILTERS = ["user", "verb", "resource", "namespace", "workspace", "cluster", "name", "code"] as const;
export type Filter = (typeof FILTERS)[number];

export interface AuditSearch {
  filters: Partial<Record<Filter, string>>;
  /** `datetime-local` values (the user's local time), or "". */
  start?: string;
  end?: string;
  page: number;
  limit: number;
}

/** A local `datetime-local` value as RFC 3339 (UTC), or undefined when empty or unreadable. */
export function rfc3339(local: string | undefined): string | undefined {
  if (!local) return undefined;
  const time = new Date(local);
  return Number.isNaN(time.getTime()) ? undefined : time.toISOString();
}

export function auditQuery(search: AuditSearch): Record<string, string | number | undefined> {
  const query: Record<string, string | number | undefined> = { page: search.page, limit: search.limit };
  for (const filter of FILTERS) {
    const value = search.filters[filter]?.trim();
    if (value) query[filter] = value;
  }
  query.start = rfc3339(search.start);
  query.end = rfc3339(search.end);
  return query;
}

export function codeHealth(code: number): Health {
  if (code >= 500) return "error";
  if (code >= 400) return "warning";
  if (code >= 200 && code < 400) return "ok";
  return "unknown";
}

/** What was acted on, as one phrase: `deployments.apps web/log`. */
export function target(event: AuditEvent): string {
  if (!event.resource) return event.path;
  const resource = event.api_group ? `${event.resource}.${event.api_group}` : event.resource;
  const name = [event.name, event.subresource].filter(Boolean).join("/");
  return name ? `${resource} ${name}` : resource;
}
