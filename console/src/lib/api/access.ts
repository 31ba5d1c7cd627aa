/**
 * What the signed-in user may do, asked of Atoll in batches
 * (`POST /kapis/iam.atoll.io/v1alpha1/accessreviews`): a page asks about the actions it could
 * offer, and offers only those allowed. Questions asked within one tick go in one request;
 * answers are cached for the session (roles change rarely; a refusal is still shown in words).
 */
import { useQuery } from "@tanstack/react-query";
import { api } from "./client";

export interface AccessCheck {
  /** Whose API: Kubernetes' (default), or Atoll's own `/kapis`, where workspace grants apply. */
  api?: "kubernetes" | "atoll";
  /** The workspace asked about (Atoll's API only). */
  workspace?: string;
  verb: string;
  group?: string;
  resource: string;
  subresource?: string;
  namespace?: string;
  name?: string;
  cluster?: string;
}

interface Pending {
  check: AccessCheck;
  resolve(allowed: boolean): void;
  reject(error: unknown): void;
}

let queue: Pending[] = [];
let scheduled = false;

function flush(): void {
  scheduled = false;
  const batch = queue.splice(0, 200);
  if (queue.length) schedule();
  api
    .post<{ results: { allowed: boolean }[] }>("/kapis/iam.atoll.io/v1alpha1/accessreviews", {
      reviews: batch.map(({ check }) => ({
        api: check.api ?? "kubernetes",
        ...(check.api === "atoll" && check.workspace ? { workspace: check.workspace } : {}),
        cluster: check.cluster ?? "host",
        verb: check.verb,
        group: check.group ?? "",
        resource: check.resource,
        subresource: check.subresource ?? "",
        namespace: check.namespace ?? "",
        name: check.name ?? "",
      })),
    })
    .then((answer) => batch.forEach((item, at) => item.resolve(Boolean(answer.results[at]?.allowed))))
    .catch((error) => batch.forEach((item) => item.reject(error)));
}

function schedule(): void {
  if (scheduled) return;
  scheduled = true;
  queueMicrotask(flush);
}

export function can(check: AccessCheck): Promise<boolean> {
  return new Promise((resolve, reject) => {
    queue.push({ check, resolve, reject });
    schedule();
  });
}

export function accessKey(check: AccessCheck): unknown[] {
  return ["can", check.api ?? "kubernetes", check.workspace ?? "", check.cluster ?? "host", check.verb, check.group ?? "", check.resource, check.subresource ?? "", check.namespace ?? "", check.name ?? ""];
}

/** Whether the user may, and why not known when asking failed (`allowed` undefined meanwhile). */
export function useAccess(check: AccessCheck | null): { allowed: boolean | undefined; error: unknown } {
  const result = useQuery({
    queryKey: check ? accessKey(check) : ["can", "none"],
    queryFn: () => (check ? can(check) : Promise.resolve(false)),
    enabled: check !== null,
    staleTime: 5 * 60_000,
  });
  return { allowed: result.data, error: result.error };
}

/** Whether the user may; `undefined` while asking (offer nothing until known). */
export function useCan(check: AccessCheck | null): boolean | undefined {
  return useAccess(check).allowed;
}

export function forgetAccess(): void {
  queue = [];
}
