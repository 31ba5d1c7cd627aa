import { screen, waitFor, within } from "@testing-library/react";
import { Deployment } from "@/lib/k8s/kinds";
import type { K8sObject } from "@/lib/k8s/types";
import { type Call, list, refusal, renderInProject, serve } from "@/test/harness";
import WorkloadOverview from "./Workload";

vi.mock("@/lib/api/watch", () => ({ watches: { subscribe: () => () => undefined } }));

const LIST = "/kapis/resources.atoll.io/v1alpha1/clusters/host/namespaces/web";

const deployment: K8sObject = {
  apiVersion: "apps/v1",
  kind: "Deployment",
  metadata: { name: "web", namespace: "web", uid: "d1", creationTimestamp: "2024-01-01T00:00:00Z", annotations: { "deployment.kubernetes.io/revision": "2" } },
  spec: {
    replicas: 2,
    selector: { matchLabels: { app: "web" } },
    strategy: { type: "RollingUpdate", rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } },
    template: { spec: { containers: [{ name: "web", image: "nginx:1.27", ports: [{ containerPort: 80 }], readinessProbe: { httpGet: { path: "/healthz", port: 80 } } }] } },
  },
  status: { replicas: 2, readyReplicas: 1, updatedReplicas: 2, availableReplicas: 1 },
};

const owner = (uid: string, kind: string) => ({ apiVersion: "apps/v1", kind, name: kind === "Deployment" ? "web" : `web-${uid}`, uid, controller: true });

const replicaSet = (uid: string, revision: string, ownerUid = "d1"): K8sObject => ({
  kind: "ReplicaSet",
  metadata: { name: `web-${uid}`, namespace: "web", uid, ownerReferences: [owner(ownerUid, "Deployment")], annotations: { "deployment.kubernetes.io/revision": revision } },
  spec: { replicas: revision === "2" ? 2 : 0 },
  status: { readyReplicas: revision === "2" ? 1 : 0 },
});

const pod = (name: string, rs: string, state: Record<string, unknown>, ready: boolean): K8sObject => ({
  kind: "Pod",
  metadata: { name, namespace: "web", uid: name, ownerReferences: [owner(rs, "ReplicaSet")] },
  spec: { containers: [{ name: "web" }], nodeName: "node-a" },
  status: { phase: "Running", containerStatuses: [{ name: "web", ready, restartCount: 0, state }] },
});

function answer(call: Call) {
  const url = new URL(call.url, "http://console");
  if (url.pathname === `${LIST}/pods`) {
    expect(url.searchParams.get("labelSelector")).toBe("app=web");
    return list([pod("web-b-1", "b", { running: {} }, true), pod("web-b-2", "b", { waiting: { reason: "CrashLoopBackOff" } }, false)]);
  }
  if (url.pathname === `${LIST}/replicasets.apps`) {
    // The selector finds another Deployment's ReplicaSet too: ownership decides.
    return list([replicaSet("a", "1"), replicaSet("b", "2"), replicaSet("x", "9", "other")]);
  }
  return undefined;
}

afterEach(() => vi.unstubAllGlobals());

describe("workload overview", () => {
  it("shows the Deployment's own ReplicaSets, newest revision first, each with its pods", async () => {
    serve(answer);
    renderInProject(<WorkloadOverview kind={Deployment} object={deployment} cluster="host" />);
    const section = await screen.findByTestId("related-replicasets");
    await waitFor(() => expect(section.querySelectorAll("tbody tr[data-row]")).toHaveLength(2));
    const rows = [...section.querySelectorAll("tbody tr[data-row]")].map((row) => row.getAttribute("data-row"));
    expect(rows).toEqual(["web-b", "web-a"]);
    const newest = section.querySelector('tr[data-row="web-b"]') as HTMLElement;
    expect(within(newest).getByRole("link", { name: "web-b" })).toHaveAttribute("href", "/clusters/host/projects/web/replicasets.apps/web-b");
    expect(within(newest).getAllByRole("link", { name: /^web-b-\d: / })).toHaveLength(2);
  });

  it("shows one square per pod with its status word, and the pods linked", async () => {
    serve(answer);
    renderInProject(<WorkloadOverview kind={Deployment} object={deployment} cluster="host" />);
    const squares = await screen.findByTestId("pod-squares");
    const crashing = within(squares).getByRole("link", { name: "web-b-2: CrashLoopBackOff" });
    expect(crashing).toHaveAttribute("href", "/clusters/host/projects/web/pods/web-b-2");
    expect(crashing).toHaveAttribute("title", "web-b-2: CrashLoopBackOff");
    expect(within(squares).getByRole("link", { name: "web-b-1: Running" })).toBeInTheDocument();
    const pods = screen.getByTestId("related-pods");
    expect(within(pods).getByRole("link", { name: "web-b-1" })).toHaveAttribute("href", "/clusters/host/projects/web/pods/web-b-1");
  });

  it("shows replicas, strategy and containers with their probes", async () => {
    serve(answer);
    renderInProject(<WorkloadOverview kind={Deployment} object={deployment} cluster="host" />);
    expect(await screen.findByText("RollingUpdate (max surge 1, max unavailable 0)")).toBeInTheDocument();
    const containers = screen.getByTestId("containers");
    expect(within(containers).getByText("nginx:1.27")).toBeInTheDocument();
    expect(within(containers).getByText("Readiness: HTTP GET :80/healthz")).toBeInTheDocument();
  });

  it("says so in words when the pods may not be listed", async () => {
    serve((call) =>
      call.url.includes("/pods") ? refusal(403, "pods is forbidden", "Forbidden") : answer(call),
    );
    renderInProject(<WorkloadOverview kind={Deployment} object={deployment} cluster="host" />);
    const pods = await screen.findByTestId("related-pods");
    await waitFor(() => expect(pods).toHaveTextContent("pods is forbidden"));
  });
});
