import { flagPatch, manualJobName, restartPatch, scalePatch } from "./patches";

describe("patches", () => {
  it("are shaped as kubectl sends them", () => {
    expect(scalePatch(3)).toEqual({ spec: { replicas: 3 } });
    expect(restartPatch(new Date("2026-01-02T03:04:05Z"))).toEqual({
      spec: { template: { metadata: { annotations: { "kubectl.kubernetes.io/restartedAt": "2026-01-02T03:04:05.000Z" } } } },
    });
    expect(flagPatch("paused", true)).toEqual({ spec: { paused: true } });
    expect(flagPatch("suspend", false)).toEqual({ spec: { suspend: false } });
  });
});

describe("manualJobName", () => {
  it("suffixes the CronJob's name and stays within 63 characters", () => {
    const now = new Date("2026-01-02T03:04:05Z");
    expect(manualJobName("nightly", now)).toMatch(/^nightly-manual-[a-z0-9]+$/);
    const long = manualJobName("a".repeat(70), now);
    expect(long.length).toBeLessThanOrEqual(63);
    expect(long).toMatch(/^a+-manual-[a-z0-9]+$/);
  });
});
