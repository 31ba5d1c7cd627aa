import type { K8sObject } from "@/lib/k8s/types";
import {
  containerDefaults,
  display,
  fullest,
  levelOf,
  limitRows,
  mapPatch,
  measureOf,
  quotaLines,
  resourceKey,
  validQuantity,
  withContainerDefaults,
} from "./quota";

const quota = (hard: Record<string, string>, used?: Record<string, string>): K8sObject => ({
  metadata: { name: "quota", namespace: "web" },
  spec: { hard },
  status: used ? { hard, used } : undefined,
});

describe("quotaLines", () => {
  it("compares used with hard in each resource's unit", () => {
    const lines = quotaLines(quota({ "requests.cpu": "2", "requests.memory": "1Gi", pods: "10" }, { "requests.cpu": "500m", "requests.memory": "900Mi", pods: "10" }));
    expect(lines.map(({ resource, percent, level }) => ({ resource, percent, level }))).toEqual([
      { resource: "pods", percent: 100, level: "full" },
      { resource: "requests.cpu", percent: 25, level: "ok" },
      { resource: "requests.memory", percent: 88, level: "warning" },
    ]);
    expect(lines[1].ratio).toBeCloseTo(0.25);
  });
  it("counts nothing used before the quota controller has counted", () => {
    const [line] = quotaLines(quota({ pods: "5" }));
    expect(line).toMatchObject({ used: "0", hard: "5", percent: 0, level: "ok" });
  });
  it("caps the bar at 100 when over the limit, and calls any use of a zero limit full", () => {
    expect(quotaLines(quota({ pods: "2" }, { pods: "3" }))[0]).toMatchObject({ percent: 100, level: "full", ratio: 1.5 });
    expect(quotaLines(quota({ services: "0" }, { services: "1" }))[0]).toMatchObject({ percent: 100, level: "full" });
    expect(quotaLines(quota({ services: "0" }, { services: "0" }))[0]).toMatchObject({ percent: 0, level: "ok" });
  });
  it("treats an unreadable quantity as unused rather than failing", () => {
    expect(quotaLines(quota({ pods: "lots" }, { pods: "1" }))[0]).toMatchObject({ ratio: 0, level: "ok" });
  });
  it("finds the fullest resource", () => {
    expect(fullest(quota({ pods: "10", services: "4" }, { pods: "1", services: "3" }))?.resource).toBe("services");
    expect(fullest(quota({}))).toBeUndefined();
  });
  it("warns from 80 %", () => {
    expect(levelOf(0.79)).toBe("ok");
    expect(levelOf(0.8)).toBe("warning");
    expect(levelOf(1)).toBe("full");
  });
});

describe("display", () => {
  it("says cores, bytes or counts", () => {
    expect(measureOf("requests.cpu")).toBe("cpu");
    expect(measureOf("limits.memory")).toBe("bytes");
    expect(measureOf("requests.storage")).toBe("bytes");
    expect(measureOf("count/deployments.apps")).toBe("count");
    expect(display("requests.cpu", "250m")).toBe("0.25");
    expect(display("limits.cpu", "4")).toBe("4");
    expect(display("requests.memory", "128Mi")).toBe("128 MiB");
    expect(display("requests.memory", "1.5Gi")).toBe("1.5 GiB");
    expect(display("pods", "10")).toBe("10");
    expect(display("pods", "odd")).toBe("odd");
  });
  it("makes i18n keys of resource names", () => {
    expect(resourceKey("requests.cpu")).toBe("requests_cpu");
    expect(resourceKey("count/ingresses.networking.k8s.io")).toBe("count_ingresses_networking_k8s_io");
  });
});

describe("validQuantity", () => {
  it("accepts Kubernetes quantities, whole numbers for counts", () => {
    expect(validQuantity("requests.cpu", "500m")).toBe(true);
    expect(validQuantity("requests.cpu", "1.5")).toBe(true);
    expect(validQuantity("limits.memory", "4Gi")).toBe(true);
    expect(validQuantity("pods", "10")).toBe(true);
    expect(validQuantity("pods", "1.5")).toBe(false);
    expect(validQuantity("limits.memory", "4 GB")).toBe(false);
    expect(validQuantity("limits.memory", "4gi")).toBe(false);
    expect(validQuantity("requests.cpu", "-1")).toBe(false);
    expect(validQuantity("requests.cpu", "")).toBe(false);
  });
});

describe("mapPatch", () => {
  it("sets what changed and nulls what was removed", () => {
    expect(mapPatch({ pods: "10", services: "5", secrets: "3" }, { pods: "20", services: "5", configmaps: "9" })).toEqual({
      pods: "20",
      configmaps: "9",
      secrets: null,
    });
  });
});

describe("limit ranges", () => {
  const range: K8sObject = {
    metadata: { name: "limits" },
    spec: {
      limits: [
        { type: "Container", default: { cpu: "500m", memory: "512Mi" }, defaultRequest: { cpu: "100m" }, max: { memory: "2Gi" } },
        { type: "PersistentVolumeClaim", min: { storage: "1Gi" }, max: { storage: "10Gi" } },
      ],
    },
  };

  it("makes one row per type and resource", () => {
    expect(limitRows(range)).toEqual([
      { type: "Container", resource: "cpu", min: undefined, max: undefined, defaultRequest: "100m", defaultLimit: "500m", maxRatio: undefined },
      { type: "Container", resource: "memory", min: undefined, max: "2Gi", defaultRequest: undefined, defaultLimit: "512Mi", maxRatio: undefined },
      { type: "PersistentVolumeClaim", resource: "storage", min: "1Gi", max: "10Gi", defaultRequest: undefined, defaultLimit: undefined, maxRatio: undefined },
    ]);
  });
  it("reads the Container defaults for the form", () => {
    expect(containerDefaults(range)).toEqual({ requestCpu: "100m", requestMemory: "", limitCpu: "500m", limitMemory: "512Mi" });
    expect(containerDefaults(undefined)).toEqual({ requestCpu: "", requestMemory: "", limitCpu: "", limitMemory: "" });
  });
  it("replaces the defaults and keeps everything else", () => {
    const limits = withContainerDefaults(range, { requestCpu: "200m", requestMemory: "256Mi", limitCpu: "", limitMemory: "1Gi" });
    expect(limits).toEqual([
      { type: "Container", default: { memory: "1Gi" }, defaultRequest: { cpu: "200m", memory: "256Mi" }, max: { memory: "2Gi" } },
      { type: "PersistentVolumeClaim", min: { storage: "1Gi" }, max: { storage: "10Gi" } },
    ]);
    // The object it was read from is left alone.
    expect(range.spec.limits[0].default).toEqual({ cpu: "500m", memory: "512Mi" });
  });
  it("makes a Container entry for a new LimitRange, and drops an emptied one", () => {
    expect(withContainerDefaults(undefined, { requestCpu: "100m", requestMemory: "", limitCpu: "", limitMemory: "" })).toEqual([
      { type: "Container", defaultRequest: { cpu: "100m" } },
    ]);
    const only: K8sObject = { metadata: { name: "x" }, spec: { limits: [{ type: "Container", default: { cpu: "1" } }] } };
    expect(withContainerDefaults(only, { requestCpu: "", requestMemory: "", limitCpu: "", limitMemory: "" })).toEqual([]);
  });
});
