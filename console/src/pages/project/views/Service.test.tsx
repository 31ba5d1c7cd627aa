import { screen, waitFor, within } from "@testing-library/react";
import { Service } from "@/lib/k8s/kinds";
import type { K8sObject } from "@/lib/k8s/types";
import { json, list, renderInProject, serve } from "@/test/harness";
import ServiceOverview from "./Service";

vi.mock("@/lib/api/watch", () => ({ watches: { subscribe: () => () => undefined } }));

const LIST = "/kapis/resources.atoll.io/v1alpha1/clusters/host/namespaces/web";

const service: K8sObject = {
  kind: "Service",
  metadata: { name: "web", namespace: "web", creationTimestamp: "2024-01-01T00:00:00Z" },
  spec: { type: "ClusterIP", clusterIP: "10.96.0.10", selector: { app: "web" }, ports: [{ name: "http", port: 80, targetPort: 8080, protocol: "TCP" }] },
};

const endpoints: K8sObject = {
  kind: "Endpoints",
  metadata: { name: "web", namespace: "web" },
  subsets: [
    {
      addresses: [{ ip: "10.0.0.1", nodeName: "node-a", targetRef: { kind: "Pod", name: "web-1" } }],
      notReadyAddresses: [{ ip: "10.0.0.2", nodeName: "node-a", targetRef: { kind: "Pod", name: "web-2" } }],
      ports: [{ name: "http", port: 8080, protocol: "TCP" }],
    },
  ],
};

const pod = (name: string, phase: string): K8sObject => ({ kind: "Pod", metadata: { name, namespace: "web" }, spec: { containers: [{ name: "c" }] }, status: { phase } });

afterEach(() => vi.unstubAllGlobals());

describe("service overview", () => {
  it("follows the Endpoints to the pods, ready or not, each linked with its status", async () => {
    serve((call) => {
      if (call.url === `${LIST}/endpoints/web`) return json(endpoints);
      if (call.url.startsWith(`${LIST}/pods?`)) return list([pod("web-1", "Running"), pod("web-2", "Pending")]);
      return undefined;
    });
    renderInProject(<ServiceOverview kind={Service} object={service} cluster="host" />);
    const table = await screen.findByTestId("endpoints");
    const ready = table.querySelector('tr[data-row="web-1"]') as HTMLElement;
    const waiting = table.querySelector('tr[data-row="web-2"]') as HTMLElement;
    expect(within(ready).getByRole("link", { name: "web-1" })).toHaveAttribute("href", "/clusters/host/projects/web/pods/web-1");
    expect(ready.querySelector('[data-status="ready"]')).not.toBeNull();
    expect(waiting.querySelector('[data-status="not-ready"]')).not.toBeNull();
    await waitFor(() => expect(waiting.querySelector('[data-status="Pending"]')).not.toBeNull());
  });

  it("says when there is no Endpoints object yet", async () => {
    serve();
    renderInProject(<ServiceOverview kind={Service} object={service} cluster="host" />);
    // The object hook asks again a few times (an object just created may be a moment away).
    expect(await screen.findByText("There is no Endpoints object for this Service yet.", {}, { timeout: 5000 })).toBeInTheDocument();
  });
});
