// Creating in order, stopping at a refusal, and not sending again what an earlier attempt made.
import { ApiError } from "@/lib/api/errors";
import type { K8sObject } from "@/lib/k8s/types";
import { createAll, waitUntilListed, type Creation } from "./creating";

const object = (kind: string, name: string): K8sObject => ({ apiVersion: "v1", kind, metadata: { name } });
const objects = [object("Secret", "web-registry"), object("Deployment", "web"), object("Service", "web")];

describe("createAll", () => {
  it("creates every object in order", async () => {
    const posted: string[] = [];
    const seen: Creation[][] = [];
    const created = new Set<string>();
    const done = await createAll(objects, { post: async (item) => posted.push(item.kind!), created, onProgress: (list) => seen.push(list) });
    expect(done).toBe(true);
    expect(posted).toEqual(["Secret", "Deployment", "Service"]);
    expect([...created]).toEqual(["Secret/web-registry", "Deployment/web", "Service/web"]);
    expect(seen[0].map((item) => item.step)).toEqual(["waiting", "waiting", "waiting"]);
    expect(seen[1].map((item) => item.step)).toEqual(["creating", "waiting", "waiting"]);
    expect(seen.at(-1)!.map((item) => item.step)).toEqual(["created", "created", "created"]);
  });
  it("stops at a refusal with the server's words, and skips what was made on the next try", async () => {
    const created = new Set<string>();
    let last: Creation[] = [];
    const refuse = async (item: K8sObject) => {
      if (item.kind === "Deployment") throw new ApiError(422, 'Deployment.apps "web" is invalid');
    };
    expect(await createAll(objects, { post: refuse, created, onProgress: (list) => (last = list) })).toBe(false);
    expect(last).toEqual([
      { kind: "Secret", name: "web-registry", step: "created" },
      { kind: "Deployment", name: "web", step: "failed", error: 'Deployment.apps "web" is invalid' },
      { kind: "Service", name: "web", step: "notTried" },
    ]);
    const posted: string[] = [];
    expect(await createAll(objects, { post: async (item) => posted.push(item.kind!), created, onProgress: (list) => (last = list) })).toBe(true);
    expect(posted).toEqual(["Deployment", "Service"]);
    expect(last.map((item) => item.step)).toEqual(["createdBefore", "created", "created"]);
  });
});

describe("waitUntilListed", () => {
  it("tries until the object is found", async () => {
    let tries = 0;
    const sleep = vi.fn(async () => undefined);
    const found = await waitUntilListed(
      async () => {
        tries += 1;
        if (tries < 3) throw new ApiError(404, "not found");
      },
      { sleep },
    );
    expect(found).toBe(true);
    expect(sleep).toHaveBeenCalledTimes(2);
  });
  it("gives up after its tries", async () => {
    const found = await waitUntilListed(() => Promise.reject(new ApiError(404, "not found")), { tries: 3, sleep: async () => undefined });
    expect(found).toBe(false);
  });
});
