import { podStatus, readyCount, restarts, workloadStatus } from "./status";
import type { K8sObject } from "./types";

const pod = (status: object, extra: Partial<K8sObject> = {}): K8sObject => ({
  metadata: { name: "p" },
  spec: { containers: [{ name: "a" }, { name: "b" }] },
  status,
  ...extra,
});

describe("podStatus", () => {
  it("is the phase when nothing more is known", () => {
    expect(podStatus(pod({ phase: "Pending" }))).toEqual({ text: "Pending", health: "progress" });
  });
  it("says Running when the containers run", () => {
    const running = { ready: true, state: { running: {} } };
    expect(podStatus(pod({ phase: "Running", containerStatuses: [running, running] })).text).toBe("Running");
  });
  it("prefers a waiting reason over the phase, as kubectl does", () => {
    const status = podStatus(pod({ phase: "Running", containerStatuses: [{ state: { waiting: { reason: "CrashLoopBackOff" } } }] }));
    expect(status).toEqual({ text: "CrashLoopBackOff", health: "error" });
  });
  it("shows init progress", () => {
    const status = podStatus(pod({ phase: "Pending", initContainerStatuses: [{ state: { running: {} } }, { state: {} }] }));
    expect(status.text).toBe("Init:0/2");
  });
  it("says Terminating while being deleted", () => {
    expect(podStatus(pod({ phase: "Running" }, { metadata: { name: "p", deletionTimestamp: "2026-01-01T00:00:00Z" } })).text).toBe("Terminating");
  });
  it("counts ready containers and restarts", () => {
    const p = pod({ containerStatuses: [{ ready: true, restartCount: 2 }, { ready: false, restartCount: 1 }] });
    expect(readyCount(p)).toBe("1/2");
    expect(restarts(p)).toBe(3);
  });
});

describe("workloadStatus", () => {
  const deployment = (spec: object, status: object): K8sObject => ({ kind: "Deployment", metadata: { name: "d" }, spec, status });
  it("is Running when every replica is ready and updated", () => {
    expect(workloadStatus(deployment({ replicas: 2 }, { replicas: 2, readyReplicas: 2, updatedReplicas: 2 })).text).toBe("Running");
  });
  it("is Updating while a rollout goes on", () => {
    expect(workloadStatus(deployment({ replicas: 2 }, { replicas: 3, readyReplicas: 2, updatedReplicas: 1 })).text).toBe("Updating");
  });
  it("is Paused and Stopped when so", () => {
    expect(workloadStatus(deployment({ replicas: 2, paused: true }, {})).text).toBe("Paused");
    expect(workloadStatus(deployment({ replicas: 0 }, {})).text).toBe("Stopped");
  });
  it("is Failed past its progress deadline", () => {
    const status = { conditions: [{ type: "Progressing", status: "False", reason: "ProgressDeadlineExceeded" }] };
    expect(workloadStatus(deployment({ replicas: 1 }, status)).health).toBe("error");
  });
});
