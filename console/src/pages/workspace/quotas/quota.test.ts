// Workspace quota usage counted as the server enforces it, and the patch saving a quota.
import { countedKind } from "./usage";
import { addUsage, hardOf, hardProblem, measureOf, objectUsage, quotasPatch } from "./quota";

const template = { spec: { containers: [{ resources: { requests: { cpu: "100m", memory: "64Mi" }, limits: { cpu: "1" } } }] } };

describe("objectUsage", () => {
  it("counts a Deployment's replicas as pods", () => {
    const usage = objectUsage("deployments", { metadata: { name: "web" }, spec: { replicas: 3, template } });
    expect(usage).toMatchObject({ pods: 3, "limits.cpu": 3, "requests.memory": 3 * 64 * 1024 ** 2 });
    expect(usage["requests.cpu"]).toBeCloseTo(0.3);
  });
  it("counts a Job's parallelism, a DaemonSet once", () => {
    expect(objectUsage("jobs", { metadata: { name: "j" }, spec: { parallelism: 2, template } }).pods).toBe(2);
    expect(objectUsage("daemonsets", { metadata: { name: "d" }, spec: { template } }).pods).toBe(1);
  });
  it("leaves out what an owner counts, ended pods, and other kinds", () => {
    const owned = { metadata: { name: "rs", ownerReferences: [{ apiVersion: "apps/v1", kind: "Deployment", name: "web", uid: "u", controller: true }] }, spec: { replicas: 2, template } };
    expect(objectUsage("replicasets", owned)).toEqual({});
    expect(objectUsage("pods", { metadata: { name: "p" }, spec: template.spec, status: { phase: "Succeeded" } })).toEqual({});
    expect(objectUsage("pods", { metadata: { name: "p" }, spec: template.spec, status: { phase: "Running" } }).pods).toBe(1);
    expect(objectUsage("services", { metadata: { name: "s" } })).toEqual({});
  });
});

it("adds usages key by key", () => {
  expect(addUsage({ pods: 1, "count/services": 2 }, { pods: 2 })).toEqual({ pods: 3, "count/services": 2 });
});

it("reads a cluster's hard limits with cpu and memory as requests", () => {
  const workspace = { metadata: { name: "shop" }, spec: { quotas: [{ cluster: "host", hard: { cpu: "4", "limits.memory": "8Gi", pods: 20 } }] } };
  expect(hardOf(workspace, "host")).toEqual({ "requests.cpu": "4", "limits.memory": "8Gi", pods: "20" });
  expect(hardOf(workspace, "edge")).toEqual({});
});

it("replaces one cluster's quota, keeps the others', and carries the version read", () => {
  const workspace = {
    metadata: { name: "shop", resourceVersion: "42" },
    spec: { quotas: [{ cluster: "host", hard: { pods: "1" } }, { cluster: "edge", hard: { pods: "5" } }] },
  };
  expect(quotasPatch(workspace, "host", { pods: "10" })).toEqual({
    metadata: { name: "shop", resourceVersion: "42" },
    spec: { quotas: [{ cluster: "edge", hard: { pods: "5" } }, { cluster: "host", hard: { pods: "10" } }] },
  });
  expect(quotasPatch(workspace, "edge", {}).spec.quotas).toEqual([{ cluster: "host", hard: { pods: "1" } }]);
});

it("checks each row: a key, not twice (aliases count), a quantity", () => {
  expect(hardProblem("", "1", [""])).toBe("quota.keyRequired");
  expect(hardProblem("cpu", "1", ["cpu", "requests.cpu"])).toBe("quota.keyRepeated");
  expect(hardProblem("pods", "lots", ["pods"])).toBe("quota.badValue");
  expect(hardProblem("limits.memory", "8Gi", ["limits.memory"])).toBeNull();
});

it("knows how to show each key, and which kind a count names", () => {
  expect(measureOf("requests.cpu")).toBe("cores");
  expect(measureOf("limits.memory")).toBe("bytes");
  expect(measureOf("count/services")).toBe("count");
  expect(countedKind("count/deployments.apps")).toEqual({ plural: "deployments", group: "apps" });
  expect(countedKind("count/services")).toEqual({ plural: "services", group: "" });
  expect(countedKind("pods")).toBeNull();
});
