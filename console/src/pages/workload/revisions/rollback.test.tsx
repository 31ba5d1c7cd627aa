import { fireEvent, screen, waitFor, within } from "@testing-library/react";
import { Deployment } from "@/lib/k8s/kinds";
import type { K8sObject } from "@/lib/k8s/types";
import { json, list, renderAt, serve } from "@/test/harness";
import { RollbackDialog } from "./RollbackDialog";
import RevisionsTab from "./RevisionsTab";

// The tests play the server's answers; the live watch socket stays out.
vi.mock("@/lib/api/watch", () => ({ watches: { subscribe: () => () => undefined } }));

const template = (image: string, hash?: string) => ({
  metadata: { labels: { app: "web", ...(hash ? { "pod-template-hash": hash } : {}) } },
  spec: { containers: [{ name: "web", image }] },
});

const web: K8sObject = {
  apiVersion: "apps/v1",
  kind: "Deployment",
  metadata: { name: "web", namespace: "shop", uid: "d-1" },
  spec: { selector: { matchLabels: { app: "web" } }, template: template("web:3") },
};

const replicaSet = (name: string, revision: number, image: string): K8sObject => ({
  kind: "ReplicaSet",
  metadata: {
    name,
    namespace: "shop",
    creationTimestamp: "2026-01-01T00:00:00Z",
    annotations: { "deployment.kubernetes.io/revision": String(revision) },
    ownerReferences: [{ apiVersion: "apps/v1", kind: "Deployment", name: "web", uid: "d-1", controller: true }],
  },
  spec: { template: template(image, `${name}-hash`) },
});

const SETS = [replicaSet("web-1", 1, "web:1"), replicaSet("web-3", 3, "web:3"), replicaSet("web-2", 2, "web:2")];

function serveHistory(allowed = true) {
  return serve((call) => {
    if (call.url.includes("/replicasets.apps")) return list(SETS);
    if (call.method === "PATCH") return json({});
    return undefined;
  }, allowed);
}

afterEach(() => vi.unstubAllGlobals());

describe("RollbackDialog", () => {
  it("lists the revisions newest first, the current one marked and not pickable", async () => {
    const calls = serveHistory();
    renderAt(<RollbackDialog kind={Deployment} object={web} cluster="host" onClose={vi.fn()} />);
    const rows = await screen.findAllByRole("row");
    expect(rows.slice(1).map((row) => row.getAttribute("data-revision"))).toEqual(["3", "2", "1"]);
    expect(within(rows[1]).getByTestId("revision-current")).toHaveTextContent("Current");
    expect(screen.getByTestId("revision-3")).toBeDisabled();
    expect(calls[0].url).toContain("labelSelector=app%3Dweb");
  });

  it("starts with the previous revision and shows what it would change", async () => {
    serveHistory();
    renderAt(<RollbackDialog kind={Deployment} object={web} cluster="host" onClose={vi.fn()} />);
    expect(await screen.findByTestId("revision-2")).toBeChecked();
    const diff = screen.getByTestId("diff");
    expect(diff.querySelector('[data-diff="removed"]')).toHaveTextContent("Removed: - image: web:3");
    expect(diff.querySelector('[data-diff="added"]')).toHaveTextContent("Added: - image: web:2");
    expect(screen.getByTestId("diff-summary")).toHaveTextContent("Lines added: 1. Lines removed: 1.");
  });

  it("replaces the template with the picked revision's, without the hash label", async () => {
    const calls = serveHistory();
    renderAt(<RollbackDialog kind={Deployment} object={web} cluster="host" onClose={vi.fn()} />);
    fireEvent.click(await screen.findByTestId("revision-1"));
    expect(screen.getByTestId("action-confirm")).toHaveTextContent("Roll back to revision 1");
    fireEvent.click(screen.getByTestId("action-confirm"));
    expect(await screen.findByTestId("action-done")).toHaveTextContent("web is rolling back to revision 1.");
    const patch = calls.find((call) => call.method === "PATCH");
    expect(patch).toEqual({
      method: "PATCH",
      url: "/clusters/host/apis/apps/v1/namespaces/shop/deployments/web",
      contentType: "application/json-patch+json",
      body: [{ op: "replace", path: "/spec/template", value: template("web:1") }],
    });
  });

  it("will not roll back a paused Deployment", async () => {
    serveHistory();
    renderAt(<RollbackDialog kind={Deployment} object={{ ...web, spec: { ...web.spec, paused: true } }} cluster="host" onClose={vi.fn()} />);
    await screen.findByTestId("revision-2");
    expect(screen.getByText("Rollouts of this Deployment are paused. Resume them before rolling back.")).toBeInTheDocument();
    expect(screen.getByTestId("action-confirm")).toBeDisabled();
  });
});

describe("RevisionsTab", () => {
  it("offers rolling back to the revision looked at, when allowed", async () => {
    serveHistory();
    renderAt(<RevisionsTab kind={Deployment} object={web} cluster="host" />);
    const button = await screen.findByTestId("revision-rollback");
    expect(button).toBeDisabled();
    fireEvent.click(screen.getByTestId("revision-1"));
    expect(button).toHaveTextContent("Roll back to revision 1");
    fireEvent.click(button);
    const dialog = await screen.findByRole("dialog");
    await waitFor(() => expect(within(dialog).getByTestId("revision-1")).toBeChecked());
  });

  it("shows the history without the button to those who may not patch", async () => {
    serveHistory(false);
    renderAt(<RevisionsTab kind={Deployment} object={web} cluster="host" />);
    await screen.findByTestId("revisions");
    await waitFor(() => expect(screen.queryByTestId("revision-rollback")).not.toBeInTheDocument());
  });
});
