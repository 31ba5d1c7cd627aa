/**
 * Creating the wizard's objects one after the other (the registry Secret, the workload, its
 * Service), reporting each one's progress, and stopping at the first the server refuses —
 * with its words. Objects created by an earlier attempt are remembered and not sent again,
 * so fixing the form and pressing Create once more finishes the job instead of failing on
 * "already exists".
 */
import { describe } from "@/lib/api/errors";
import type { K8sObject } from "@/lib/k8s/types";

export type CreationStep = "waiting" | "creating" | "created" | "createdBefore" | "failed" | "notTried";

export interface Creation {
  kind: string;
  name: string;
  step: CreationStep;
  /** The server's message, when it refused. */
  error?: string;
}

export function creationKey(object: K8sObject): string {
  return `${object.kind}/${object.metadata.name}`;
}

interface CreateOptions {
  post(object: K8sObject): Promise<unknown>;
  /** Keys (`creationKey`) of what was created already; filled in as objects are created. */
  created: Set<string>;
  onProgress(creations: Creation[]): void;
}

/** Creates `objects` in order; true when every one exists now. */
export async function createAll(objects: K8sObject[], { post, created, onProgress }: CreateOptions): Promise<boolean> {
  const list: Creation[] = objects.map((object) => ({
    kind: object.kind ?? "",
    name: object.metadata.name,
    step: created.has(creationKey(object)) ? "createdBefore" : "waiting",
  }));
  const report = () => onProgress(list.map((item) => ({ ...item })));
  report();
  for (const [at, object] of objects.entries()) {
    if (list[at].step === "createdBefore") continue;
    list[at].step = "creating";
    report();
    try {
      await post(object);
    } catch (error) {
      list[at] = { ...list[at], step: "failed", error: describe(error) };
      for (const item of list.slice(at + 1)) if (item.step === "waiting") item.step = "notTried";
      report();
      return false;
    }
    created.add(creationKey(object));
    list[at].step = "created";
    report();
  }
  return true;
}

const pause = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Waits (a few seconds at most) until `get` finds the new object: the detail page reads the
 * cached list API, which learns of an object a moment after the Kubernetes API made it, and
 * would otherwise say "not found" about what was just created.
 */
export async function waitUntilListed(get: () => Promise<unknown>, { tries = 20, delayMs = 250, sleep = pause } = {}): Promise<boolean> {
  for (let attempt = 0; attempt < tries; attempt++) {
    try {
      await get();
      return true;
    } catch {
      await sleep(delayMs);
    }
  }
  return false;
}
