// Capacity sums over nodes and effective pod requests on a node.
import { cores, percent, podTotals, sumNodes } from "./capacity";

const node = (cpu: string, memory: string, pods: string) => ({ metadata: { name: "n" }, status: { capacity: { cpu, memory, pods }, allocatable: { cpu, memory, pods } } });

it("sums capacity over nodes in cores, bytes and pods", () => {
  expect(sumNodes([node("2", "4Gi", "110"), node("500m", "512Mi", "10")], "capacity")).toEqual({ cpu: 2.5, memory: 4.5 * 1024 ** 3, pods: 120 });
  expect(sumNodes([], "allocatable")).toEqual({ cpu: 0, memory: 0, pods: 0 });
});

it("takes a pod's effective request: its containers' sum or its largest init container", () => {
  const pod = {
    metadata: { name: "p" },
    spec: {
      initContainers: [{ resources: { requests: { cpu: "2" } } }],
      containers: [{ resources: { requests: { cpu: "250m", memory: "64Mi" }, limits: { memory: "128Mi" } } }, { resources: { requests: { cpu: "250m", memory: "64Mi" } } }],
    },
    status: { phase: "Running" },
  };
  const ended = { ...pod, status: { phase: "Succeeded" } };
  const { requests, limits } = podTotals([pod, ended]);
  expect(requests).toEqual({ cpu: 2, memory: 128 * 1024 ** 2, pods: 1 });
  expect(limits.memory).toBe(128 * 1024 ** 2);
});

it("writes cores as people do, and shares as bounded percents", () => {
  expect(cores(0.25)).toBe("250m");
  expect(cores(1.5)).toBe("1.5");
  expect(cores(0)).toBe("0");
  expect(percent(1, 3)).toBe(33);
  expect(percent(5, 0)).toBe(0);
  expect(percent(12, 10)).toBe(100);
});
