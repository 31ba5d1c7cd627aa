// A cluster's health words from its Ready condition.
import { clusterHealth, isHost } from "./health";

const cluster = (status: string | null, reason = "", message = "") => ({
  metadata: { name: "edge" },
  status: status ? { conditions: [{ type: "Ready", status, reason, message, lastTransitionTime: "2026-01-01T00:00:00Z" }] } : {},
});

describe("clusterHealth", () => {
  it("is Ready when the probe answered", () => {
    expect(clusterHealth(cluster("True", "Connected"))).toMatchObject({ text: "Ready", health: "ok", reason: "Connected" });
  });
  it("is NotReady, with why, when it did not", () => {
    expect(clusterHealth(cluster("False", "Unreachable", "connection refused"))).toMatchObject({
      text: "NotReady",
      health: "error",
      reason: "Unreachable",
      message: "connection refused",
    });
  });
  it("is Unknown before the first probe", () => {
    expect(clusterHealth(cluster(null))).toEqual({ text: "Unknown", health: "unknown" });
  });
});

it("knows the host by name or label", () => {
  expect(isHost({ metadata: { name: "host" } })).toBe(true);
  expect(isHost({ metadata: { name: "main", labels: { "cluster-role.atoll.io/host": "" } } })).toBe(true);
  expect(isHost({ metadata: { name: "edge" } })).toBe(false);
});
