import type { ActionExtension } from "@/lib/extensions/types";
import { Deployment } from "@/lib/k8s/kinds";
import type { K8sObject } from "@/lib/k8s/types";
import { workload } from "./index";

// Loading the terminal needs no terminal drawn.
vi.mock("@xterm/xterm", () => ({ Terminal: class {} }));

const action = (id: string) => workload.find((extension): extension is ActionExtension => extension.id === id && extension.type === "action")!;

const web = (spec: Record<string, unknown>): K8sObject => ({ metadata: { name: "web", namespace: "shop" }, spec });

describe("workload extensions", () => {
  it("have unique ids in the workload component", () => {
    const ids = workload.map((extension) => extension.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(workload.every((extension) => extension.component === "workload" && extension.id.startsWith("workload."))).toBe(true);
  });

  it("offer pause only when running and resume only when paused", () => {
    expect(action("workload.pause").available!(web({}))).toBe(true);
    expect(action("workload.pause").available!(web({ paused: true }))).toBe(false);
    expect(action("workload.resume").available!(web({ paused: true }))).toBe(true);
    expect(action("workload.resume").available!(web({ paused: false }))).toBe(false);
    expect(action("workload.suspend").available!(web({ suspend: false }))).toBe(true);
    expect(action("workload.unsuspend").available!(web({}))).toBe(false);
  });

  it("ask to patch the scale subresource for scaling", () => {
    expect(action("workload.scale").requires(Deployment, web({}), "host")).toEqual({
      cluster: "host",
      verb: "patch",
      group: "apps",
      resource: "deployments",
      subresource: "scale",
      namespace: "shop",
      name: "web",
    });
  });

  it("load every part", async () => {
    for (const extension of workload) {
      if (extension.type === "action" || extension.type === "detail-tab") {
        expect(typeof (await extension.load()).default).toBe("function");
      }
    }
  }, 60_000); // the first import of PatternFly and xterm is slow on a busy machine
});
