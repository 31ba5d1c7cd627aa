import type { ReactNode } from "react";
import { render } from "@testing-library/react";
import { MemoryRouter, Route, Routes } from "react-router-dom";
import type { Column } from "@/components/ResourceTable";
import type { K8sObject } from "@/lib/k8s/types";
import {
  accessModes,
  claimColumns,
  claimStatus,
  cronJobColumns,
  eventColumns,
  externalAddress,
  images,
  ingressAddress,
  ingressHosts,
  jobColumns,
  lastSeen,
  podColumns,
  quotaColumns,
  servicePorts,
  workloadColumns,
} from "./columns";
import { completions, duration, jobDuration } from "./jobs";

const t = (key: string) => key;

/** Renders a column's cell as a list page would: inside a project route. */
function cell(columns: Column[], id: string, object: K8sObject): HTMLElement {
  const column = columns.find((found) => found.id === id);
  if (!column) throw new Error(`no column ${id}`);
  const node: ReactNode = column.render(object);
  const { container } = render(
    <MemoryRouter initialEntries={["/clusters/host/projects/web/x"]}>
      <Routes>
        <Route path="/clusters/:cluster/projects/:namespace/x" element={<div data-testid="cell">{node}</div>} />
      </Routes>
    </MemoryRouter>,
  );
  return container.querySelector<HTMLElement>("[data-testid=cell]")!;
}

const meta = (name: string, extra: Partial<K8sObject["metadata"]> = {}) => ({ name, namespace: "web", ...extra });

describe("pod columns", () => {
  const pod: K8sObject = {
    kind: "Pod",
    metadata: meta("web-1"),
    spec: { nodeName: "node-a", containers: [{ name: "web", image: "nginx:1" }, { name: "side", image: "envoy" }] },
    status: {
      phase: "Running",
      podIP: "10.0.0.7",
      containerStatuses: [
        { name: "web", ready: true, restartCount: 2, state: { running: {} } },
        { name: "side", ready: false, restartCount: 3, state: { waiting: { reason: "CrashLoopBackOff" } } },
      ],
    },
  };
  const columns = podColumns(t);

  it("shows kubectl's status word in its colour", () => {
    const status = cell(columns, "status", pod).querySelector("[data-status]");
    expect(status?.getAttribute("data-status")).toBe("CrashLoopBackOff");
  });
  it("shows ready containers, restarts, node and IP", () => {
    expect(cell(columns, "ready", pod).textContent).toBe("1/2");
    expect(cell(columns, "restarts", pod).textContent).toBe("5");
    expect(cell(columns, "ip", pod).textContent).toBe("10.0.0.7");
  });
  it("says a dash for what is not there yet", () => {
    expect(cell(columns, "node", { kind: "Pod", metadata: meta("new"), status: { phase: "Pending" } }).textContent).toBe("—");
  });
});

describe("workload columns", () => {
  const deployment: K8sObject = {
    kind: "Deployment",
    metadata: meta("web"),
    spec: { replicas: 3, template: { spec: { containers: [{ name: "a", image: "nginx:1" }, { name: "b", image: "nginx:1" }] } } },
    status: { replicas: 3, readyReplicas: 2, updatedReplicas: 3 },
  };
  const columns = workloadColumns(t);
  it("shows the rollout state, ready of desired replicas and the images once each", () => {
    expect(cell(columns, "status", deployment).querySelector("[data-status]")?.getAttribute("data-status")).toBe("Updating");
    expect(cell(columns, "replicas", deployment).textContent).toBe("2/3");
    expect(cell(columns, "images", deployment).textContent).toBe("nginx:1");
  });
  it("finds the images of pods, templates and CronJobs", () => {
    expect(images({ kind: "Pod", metadata: meta("p"), spec: { containers: [{ name: "a", image: "x" }] } })).toEqual(["x"]);
    expect(images({ kind: "CronJob", metadata: meta("c"), spec: { jobTemplate: { spec: { template: { spec: { containers: [{ name: "a", image: "y" }] } } } } } })).toEqual(["y"]);
  });
});

describe("service columns", () => {
  it("says ports as kubectl does, node ports included", () => {
    expect(servicePorts({ metadata: meta("s"), spec: { ports: [{ port: 80, protocol: "TCP" }, { port: 53, nodePort: 30053, protocol: "UDP" }] } })).toBe(
      "80/TCP, 53:30053/UDP",
    );
  });
  it("finds the external address of each type", () => {
    expect(externalAddress({ metadata: meta("s"), spec: { type: "LoadBalancer" }, status: { loadBalancer: { ingress: [{ ip: "1.2.3.4" }, { hostname: "lb.example.com" }] } } })).toBe(
      "1.2.3.4, lb.example.com",
    );
    expect(externalAddress({ metadata: meta("s"), spec: { type: "ClusterIP", externalIPs: ["5.6.7.8"] } })).toBe("5.6.7.8");
    expect(externalAddress({ metadata: meta("s"), spec: { type: "ExternalName", externalName: "db.example.com" } })).toBe("db.example.com");
    expect(externalAddress({ metadata: meta("s"), spec: { type: "ClusterIP" } })).toBe("");
  });
});

describe("ingress columns", () => {
  it("lists hosts once and the address", () => {
    const ingress: K8sObject = {
      metadata: meta("i"),
      spec: { rules: [{ host: "a.example.com" }, { host: "a.example.com" }, {}] },
      status: { loadBalancer: { ingress: [{ ip: "9.9.9.9" }] } },
    };
    expect(ingressHosts(ingress)).toBe("a.example.com, *");
    expect(ingressAddress(ingress)).toBe("9.9.9.9");
  });
});

describe("claim columns", () => {
  const claim: K8sObject = {
    metadata: meta("data"),
    spec: { accessModes: ["ReadWriteOnce"], storageClassName: "local-path", volumeName: "pv-1", resources: { requests: { storage: "1Gi" } } },
    status: { phase: "Bound", capacity: { storage: "2Gi" }, accessModes: ["ReadWriteOnce", "ReadOnlyMany"] },
  };
  it("shows status, capacity, access modes and links the volume and class", () => {
    expect(claimStatus(claim)).toEqual({ text: "Bound", health: "ok" });
    expect(claimStatus({ metadata: meta("x"), status: { phase: "Lost" } }).health).toBe("error");
    expect(claimStatus({ metadata: meta("x") })).toEqual({ text: "Pending", health: "progress" });
    expect(accessModes(claim)).toBe("RWO, ROX");
    const columns = claimColumns(t);
    expect(cell(columns, "capacity", claim).textContent).toBe("2Gi");
    expect(cell(columns, "volume", claim).querySelector("a")?.getAttribute("href")).toBe("/clusters/host/resources/persistentvolumes/pv-1");
  });
});

describe("job columns", () => {
  const job: K8sObject = {
    kind: "Job",
    metadata: meta("j"),
    spec: { completions: 3 },
    status: { succeeded: 1, startTime: "2024-01-01T00:00:00Z", completionTime: "2024-01-01T00:02:05Z" },
  };
  it("shows completions and how long it ran", () => {
    expect(completions(job)).toBe("1/3");
    expect(completions({ metadata: meta("q"), spec: {} })).toBe("0/1");
    expect(jobDuration(job)).toBe("2m5s");
    expect(jobDuration({ metadata: meta("r"), status: { startTime: "2024-01-01T00:00:00Z" } }, Date.parse("2024-01-01T03:00:00Z"))).toBe("3h");
    expect(jobDuration({ metadata: meta("s") })).toBe("");
    expect(cell(jobColumns(t), "duration", job).textContent).toBe("2m5s");
  });
  it("says spans as kubectl does", () => {
    expect(duration(42)).toBe("42s");
    expect(duration(120)).toBe("2m");
    expect(duration(3 * 3600 + 60)).toBe("3h1m");
    expect(duration(50 * 3600)).toBe("2d2h");
  });
  it("shows a CronJob's schedule and whether it is suspended", () => {
    const cron: K8sObject = { kind: "CronJob", metadata: meta("c"), spec: { schedule: "*/5 * * * *", suspend: true }, status: { active: [{ name: "c-1" }] } };
    const columns = cronJobColumns(t);
    expect(cell(columns, "schedule", cron).textContent).toBe("*/5 * * * *");
    expect(cell(columns, "suspend", cron).textContent).toBe("yes");
    expect(cell(columns, "active", cron).textContent).toBe("1");
  });
});

describe("event columns", () => {
  const event: K8sObject = {
    metadata: meta("web-1.abc", { creationTimestamp: "2024-01-01T00:00:00Z" }),
    type: "Warning",
    reason: "BackOff",
    message: "Back-off restarting failed container",
    involvedObject: { apiVersion: "v1", kind: "Pod", name: "web-1", namespace: "web" },
    lastTimestamp: "2024-01-01T00:05:00Z",
    count: 4,
  };
  const columns = eventColumns(t);
  it("links the object it is about", () => {
    expect(cell(columns, "object", event).querySelector("a")?.getAttribute("href")).toBe("/clusters/host/projects/web/pods/web-1");
  });
  it("marks warnings and counts", () => {
    expect(cell(columns, "type", event).querySelector("[data-status]")?.getAttribute("data-status")).toBe("Warning");
    expect(cell(columns, "count", event).textContent).toBe("4");
  });
  it("finds when it last happened, whichever field holds it", () => {
    expect(lastSeen(event)).toBe("2024-01-01T00:05:00Z");
    expect(lastSeen({ metadata: meta("e"), series: { lastObservedTime: "2024-02-01T00:00:00Z" } })).toBe("2024-02-01T00:00:00Z");
    expect(lastSeen({ metadata: meta("e", { creationTimestamp: "2024-03-01T00:00:00Z" }) })).toBe("2024-03-01T00:00:00Z");
  });
});

describe("quota column", () => {
  it("shows the fullest resource and its level", () => {
    const quota: K8sObject = { metadata: meta("q"), spec: { hard: { pods: "10", "limits.memory": "1Gi" } }, status: { hard: { pods: "10", "limits.memory": "1Gi" }, used: { pods: "9", "limits.memory": "256Mi" } } };
    const shown = cell(quotaColumns(t), "fullest", quota);
    expect(shown.textContent).toBe("pods 9 / 10 (90%)");
    expect(shown.querySelector("[data-status]")?.getAttribute("data-status")).toBe("warning");
  });
});
