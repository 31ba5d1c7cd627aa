import { screen, waitFor, within } from "@testing-library/react";
import { type Call, json, list, refusal, renderInProject, serve } from "@/test/harness";
import ProjectOverview from "./ProjectOverview";

vi.mock("@/lib/api/watch", () => ({ watches: { subscribe: () => () => undefined } }));

const LIST = "/kapis/resources.atoll.io/v1alpha1/clusters/host/namespaces/web";

const PHASES: Record<string, number> = { Running: 40, Pending: 2, Failed: 1 };

const deployment = (name: string, ready: number) => ({
  kind: "Deployment",
  metadata: { name, namespace: "web" },
  spec: { replicas: 2 },
  status: { replicas: 2, readyReplicas: ready, updatedReplicas: 2 },
});

function answer(call: Call) {
  const url = new URL(call.url, "http://console");
  if (url.pathname === LIST) return json({ kind: "Namespace", metadata: { name: "web", labels: { "atoll.io/workspace": "shop" } } });
  const resource = url.pathname.slice(LIST.length + 1);
  const limit = Number(url.searchParams.get("limit"));
  const field = url.searchParams.get("fieldSelector");
  if (resource === "pods") {
    const phase = field?.replace("status.phase=", "");
    const total = phase ? (PHASES[phase] ?? 0) : 43;
    return json({ items: [], totalItems: total });
  }
  if (resource === "deployments.apps") {
    return json({ items: [deployment("a", 2), deployment("b", 1), deployment("c", 2)].slice(0, limit), totalItems: 3 });
  }
  if (resource === "services") return json({ items: [], totalItems: 7 });
  if (resource === "secrets") return refusal(403, "secrets is forbidden", "Forbidden");
  if (resource === "resourcequotas") {
    return list([{ kind: "ResourceQuota", metadata: { name: "quota", namespace: "web" }, spec: { hard: { pods: "50" } }, status: { hard: { pods: "50" }, used: { pods: "43" } } }]);
  }
  if (resource === "events") {
    expect(field).toBe("type=Warning");
    return list([
      {
        kind: "Event",
        metadata: { name: "web-1.x", namespace: "web", creationTimestamp: "2024-01-01T00:00:00Z" },
        type: "Warning",
        reason: "BackOff",
        message: "Back-off restarting failed container",
        involvedObject: { apiVersion: "v1", kind: "Pod", name: "web-1", namespace: "web" },
      },
    ]);
  }
  if (url.pathname.startsWith(LIST)) return list([]);
  return undefined;
}

afterEach(() => vi.unstubAllGlobals());

describe("project overview", () => {
  it("counts pods by phase with one-item pages, never reading the whole list", async () => {
    const calls = serve(answer);
    renderInProject(<ProjectOverview />, "overview");
    await waitFor(() => expect(screen.getByTestId("count-pods")).toHaveTextContent("43"));
    await waitFor(() => expect(screen.getByTestId("pods-Running")).toHaveTextContent("40"));
    expect(screen.getByTestId("pods-Pending")).toHaveTextContent("2");
    expect(screen.getByTestId("pods-Failed")).toHaveTextContent("1");
    // Phases nobody is in are left out.
    expect(screen.queryByTestId("pods-Succeeded")).toBeNull();
    const podReads = calls.filter((call) => call.url.startsWith(`${LIST}/pods?`));
    expect(podReads.every((call) => new URL(call.url, "http://console").searchParams.get("limit") === "1")).toBe(true);
    expect(podReads.map((call) => new URL(call.url, "http://console").searchParams.get("fieldSelector"))).toEqual(
      expect.arrayContaining(["status.phase=Running", "status.phase=Pending", "status.phase=Failed"]),
    );
    // Only the quotas (a handful per project) are read whole.
    const big = calls.filter((call) => Number(new URL(call.url, "http://console").searchParams.get("limit") ?? 0) > 100);
    expect(big.map((call) => new URL(call.url, "http://console").pathname)).toEqual([`${LIST}/resourcequotas`]);
  });

  it("tells workload health and links into the lists", async () => {
    serve(answer);
    renderInProject(<ProjectOverview />, "overview");
    const row = await screen.findByTestId("count-deployments");
    await waitFor(() => expect(row).toHaveTextContent("3"));
    expect(row.querySelector('[data-status="Running"]')?.parentElement).toHaveTextContent("Running 2");
    expect(row.querySelector('[data-status="Updating"]')?.parentElement).toHaveTextContent("Updating 1");
    expect(screen.getByTestId("overview-deployments")).toHaveAttribute("href", "/clusters/host/projects/web/deployments.apps");
    await waitFor(() => expect(screen.getByTestId("count-services")).toHaveTextContent("7"));
  });

  it("says a count is unavailable when it may not be read", async () => {
    serve(answer);
    renderInProject(<ProjectOverview />, "overview");
    await waitFor(() => expect(screen.getByTestId("count-secrets")).toHaveTextContent("not available"));
    expect(within(screen.getByTestId("count-secrets")).getByTitle("secrets is forbidden")).toBeInTheDocument();
  });

  it("names the project's workspace", async () => {
    serve(answer);
    renderInProject(<ProjectOverview />, "overview");
    // (By text: role queries are slow on a page this size.)
    expect((await screen.findByText("shop")).closest("a")).toHaveAttribute("href", "/workspaces/shop");
  });

  it("shows quota use and the latest warnings", async () => {
    serve(answer);
    renderInProject(<ProjectOverview />, "overview");
    const quota = await screen.findByTestId("overview-quota");
    expect(quota.querySelector('[data-resource="pods"]')).toHaveAttribute("data-level", "warning");
    const warnings = screen.getByTestId("overview-warnings");
    await waitFor(() => expect(warnings).toHaveTextContent("Back-off restarting failed container"));
    expect(within(warnings).getByRole("link", { name: "web-1" })).toHaveAttribute("href", "/clusters/host/projects/web/pods/web-1");
  });
});
