import type { K8sObject } from "@/lib/k8s/types";
import { workloadStatus } from "@/lib/k8s/status";
import { healthCounts } from "./health";

const deployment = (name: string, ready: number, desired = 2): K8sObject => ({
  kind: "Deployment",
  metadata: { name },
  spec: { replicas: desired },
  status: { replicas: desired, readyReplicas: ready, updatedReplicas: desired },
});

describe("healthCounts", () => {
  it("counts by status word, the worst first", () => {
    const failed: K8sObject = {
      ...deployment("broken", 0),
      status: { conditions: [{ type: "Progressing", status: "False", reason: "ProgressDeadlineExceeded" }] },
    };
    const counts = healthCounts([deployment("a", 2), deployment("b", 1), deployment("c", 2), failed, deployment("d", 0, 0)], workloadStatus);
    expect(counts.map(({ status, count }) => [status.text, count])).toEqual([
      ["Failed", 1],
      ["Updating", 1],
      ["Running", 2],
      ["Stopped", 1],
    ]);
  });
  it("is empty for nothing", () => {
    expect(healthCounts([], workloadStatus)).toEqual([]);
  });
});
