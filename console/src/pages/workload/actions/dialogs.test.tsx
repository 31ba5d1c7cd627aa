import { fireEvent, screen, waitFor } from "@testing-library/react";
import { CronJob, Deployment, ReplicaSet } from "@/lib/k8s/kinds";
import type { K8sObject } from "@/lib/k8s/types";
import { json, refusal, renderAt, serve } from "@/test/harness";
import { PauseDialog, UnsuspendDialog } from "./FlagDialogs";
import RestartDialog from "./RestartDialog";
import RunNowDialog from "./RunNowDialog";
import ScaleDialog from "./ScaleDialog";

const web: K8sObject = {
  apiVersion: "apps/v1",
  kind: "Deployment",
  metadata: { name: "web", namespace: "shop", uid: "d-1" },
  spec: { replicas: 2, template: {} },
  status: { readyReplicas: 2 },
};

const DEPLOYMENT = "/clusters/host/apis/apps/v1/namespaces/shop/deployments/web";

afterEach(() => vi.unstubAllGlobals());

describe("ScaleDialog", () => {
  it("patches the scale subresource with the new count and reports it", async () => {
    const calls = serve((call) => (call.method === "PATCH" ? json({}) : undefined));
    const onClose = vi.fn();
    renderAt(<ScaleDialog kind={Deployment} object={web} cluster="host" onClose={onClose} />);
    const input = screen.getByTestId("scale-replicas");
    expect(input).toHaveValue(2);
    expect(screen.getByTestId("action-confirm")).toBeDisabled();
    fireEvent.change(input, { target: { value: "5" } });
    fireEvent.click(screen.getByTestId("action-confirm"));
    expect(await screen.findByTestId("action-done")).toHaveTextContent("web is being scaled to 5 replicas.");
    expect(calls).toEqual([
      { method: "PATCH", url: `${DEPLOYMENT}/scale`, contentType: "application/merge-patch+json", body: { spec: { replicas: 5 } } },
    ]);
    await waitFor(() => expect(onClose).toHaveBeenCalled(), { timeout: 3000 });
  });

  it("shows the server's words when it refuses, and stays open", async () => {
    serve(() => refusal(403, 'deployments.apps "web" is forbidden'));
    const onClose = vi.fn();
    renderAt(<ScaleDialog kind={Deployment} object={web} cluster="host" onClose={onClose} />);
    fireEvent.click(screen.getByRole("button", { name: "One replica more" }));
    fireEvent.click(screen.getByTestId("action-confirm"));
    expect(await screen.findByTestId("action-error")).toHaveTextContent('deployments.apps "web" is forbidden');
    expect(onClose).not.toHaveBeenCalled();
  });

  it("refuses a negative count", () => {
    serve();
    renderAt(<ScaleDialog kind={Deployment} object={web} cluster="host" onClose={vi.fn()} />);
    fireEvent.change(screen.getByTestId("scale-replicas"), { target: { value: "-1" } });
    expect(screen.getByTestId("action-confirm")).toBeDisabled();
    expect(screen.getByText("A whole number from 0 to 1000.")).toBeInTheDocument();
  });
});

describe("RestartDialog", () => {
  it("stamps the pod template with the time, as kubectl rollout restart", async () => {
    const calls = serve(() => json({}));
    renderAt(<RestartDialog kind={Deployment} object={web} cluster="host" onClose={vi.fn()} />);
    fireEvent.click(screen.getByTestId("action-confirm"));
    await screen.findByTestId("action-done");
    expect(calls[0]).toMatchObject({ method: "PATCH", url: DEPLOYMENT, contentType: "application/merge-patch+json" });
    const stamp = (calls[0].body as { spec: { template: { metadata: { annotations: Record<string, string> } } } }).spec.template.metadata
      .annotations["kubectl.kubernetes.io/restartedAt"];
    expect(Math.abs(Date.parse(stamp) - Date.now())).toBeLessThan(5000);
  });
});

describe("flag dialogs", () => {
  it("pauses a Deployment's rollouts", async () => {
    const calls = serve(() => json({}));
    renderAt(<PauseDialog kind={Deployment} object={web} cluster="host" onClose={vi.fn()} />);
    fireEvent.click(screen.getByTestId("action-confirm"));
    await screen.findByTestId("action-done");
    expect(calls[0]).toMatchObject({ method: "PATCH", url: DEPLOYMENT, body: { spec: { paused: true } } });
  });

  it("resumes a CronJob", async () => {
    const cron: K8sObject = { kind: "CronJob", metadata: { name: "nightly", namespace: "shop" }, spec: { suspend: true } };
    const calls = serve(() => json({}));
    renderAt(<UnsuspendDialog kind={CronJob} object={cron} cluster="host" onClose={vi.fn()} />);
    fireEvent.click(screen.getByTestId("action-confirm"));
    expect(await screen.findByTestId("action-done")).toHaveTextContent("nightly is resumed.");
    expect(calls[0]).toMatchObject({ url: "/clusters/host/apis/batch/v1/namespaces/shop/cronjobs/nightly", body: { spec: { suspend: false } } });
  });
});

describe("RunNowDialog", () => {
  it("creates a Job from the CronJob's template, owned by it", async () => {
    const cron: K8sObject = {
      kind: "CronJob",
      metadata: { name: "nightly", namespace: "shop", uid: "c-1" },
      spec: { jobTemplate: { metadata: { labels: { team: "a" } }, spec: { template: { spec: { containers: [{ name: "c" }] } } } } },
    };
    const calls = serve(() => json({}, 201));
    renderAt(<RunNowDialog kind={CronJob} object={cron} cluster="host" onClose={vi.fn()} />);
    fireEvent.change(screen.getByTestId("run-now-name"), { target: { value: "nightly-now" } });
    fireEvent.click(screen.getByTestId("action-confirm"));
    await screen.findByTestId("action-done");
    expect(calls[0]).toMatchObject({
      method: "POST",
      url: "/clusters/host/apis/batch/v1/namespaces/shop/jobs",
      body: {
        kind: "Job",
        metadata: {
          name: "nightly-now",
          labels: { team: "a" },
          annotations: { "cronjob.kubernetes.io/instantiate": "manual" },
          ownerReferences: [{ kind: "CronJob", name: "nightly", uid: "c-1", controller: true }],
        },
        spec: { template: { spec: { containers: [{ name: "c" }] } } },
      },
    });
  });

  it("does not accept a name Kubernetes would refuse", () => {
    serve();
    renderAt(<RunNowDialog kind={CronJob} object={{ metadata: { name: "n", namespace: "s" } }} cluster="host" onClose={vi.fn()} />);
    fireEvent.change(screen.getByTestId("run-now-name"), { target: { value: "Bad_Name" } });
    expect(screen.getByTestId("action-confirm")).toBeDisabled();
  });
});

describe("ScaleDialog on a ReplicaSet", () => {
  it("warns that its owner will set the count back", () => {
    serve();
    const replicaSet: K8sObject = {
      kind: "ReplicaSet",
      metadata: { name: "web-1", namespace: "shop", ownerReferences: [{ apiVersion: "apps/v1", kind: "Deployment", name: "web", uid: "d-1", controller: true }] },
      spec: { replicas: 1 },
    };
    renderAt(<ScaleDialog kind={ReplicaSet} object={replicaSet} cluster="host" onClose={vi.fn()} />);
    expect(screen.getByText("It is managed by Deployment web, which will set the count back: scale that instead.")).toBeInTheDocument();
  });
});
