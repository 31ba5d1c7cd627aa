// The wizard in a browser-like DOM: the QA journey (name, image, command, port, readiness
// check → Create) posts the right Deployment and lands on its page; a refusal stays in view.
import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { Route, Routes, useParams } from "react-router-dom";
import type { K8sObject } from "@/lib/k8s/types";
import { json, list, refusal, serve, renderAt, type Call } from "@/test/harness";
import WizardPage from "./WizardPage";

vi.mock("@/lib/api/watch", () => ({ watches: { subscribe: () => () => undefined } }));

const configMap: K8sObject = { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "settings", namespace: "demo" }, data: { level: "debug", mode: "x" } };

/** A fake Atoll: everything allowed, one ConfigMap, and POSTs answered by `answer`. */
function serveWizard(answer: (call: Call) => Response): Call[] {
  return serve((call) => {
    if (call.method === "POST") return answer(call);
    if (call.url.includes("/configmaps?")) return list([configMap]);
    if (call.url.includes("/deployments.apps/web")) return json({ metadata: { name: "web" } });
    return list([]);
  });
}

function Detail() {
  const { resource, name } = useParams();
  return <p data-testid="detail">{`${resource}/${name}`}</p>;
}

function renderWizard(kind = "Deployment") {
  renderAt(
    <Routes>
      <Route path="/clusters/:cluster/projects/:namespace/workloads/new" element={<WizardPage />} />
      <Route path="/clusters/:cluster/projects/:namespace/:resource/:name" element={<Detail />} />
    </Routes>,
    `/clusters/host/projects/demo/workloads/new?kind=${kind}`,
    "*",
  );
}

/** Fills in the QA journey up to the review step. */
async function fillJourney(user: ReturnType<typeof userEvent.setup>) {
  await user.type(screen.getByTestId("wizard-name"), "web");
  await user.click(screen.getByTestId("wizard-next"));
  await user.type(screen.getByTestId("container-0-image"), "python:3");
  await user.type(screen.getByTestId("container-0-command"), "python3 -m http.server 8000");
  await user.click(screen.getByTestId("container-0-add-port"));
  await user.type(screen.getByTestId("container-0-port-0"), "8000");
  await user.selectOptions(screen.getByTestId("probe-0-readiness-type"), "http");
  expect(screen.getByTestId("probe-0-readiness-path")).toHaveValue("/");
  expect(screen.getByTestId("probe-0-readiness-port")).toHaveValue("8000");
  for (let step = 0; step < 6; step++) await user.click(screen.getByTestId("wizard-next"));
  await waitFor(() => expect(screen.getByTestId("wizard-create")).toBeEnabled());
}

afterEach(() => {
  vi.unstubAllGlobals();
});

// Typing through PatternFly's inputs in jsdom is slow on a busy machine.
describe("the workload wizard", { timeout: 60_000 }, () => {
  it("creates the QA journey's Deployment and opens its page", async () => {
    const user = userEvent.setup({ delay: null });
    const calls = serveWizard((call) => json(call.body, 201));
    renderWizard();
    await fillJourney(user);
    expect(screen.getByTestId("wizard-yaml")).toHaveTextContent("kind: Deployment");
    await user.click(screen.getByTestId("wizard-create"));
    expect(await screen.findByTestId("detail")).toHaveTextContent("deployments.apps/web");
    const posts = calls.filter((call) => call.method === "POST");
    expect(posts.map((call) => call.url)).toEqual(["/clusters/host/apis/apps/v1/namespaces/demo/deployments"]);
    expect(posts[0].body).toEqual({
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: { name: "web", namespace: "demo", labels: { app: "web" } },
      spec: {
        replicas: 1,
        selector: { matchLabels: { app: "web" } },
        strategy: { type: "RollingUpdate", rollingUpdate: { maxSurge: "25%", maxUnavailable: "25%" } },
        template: {
          metadata: { labels: { app: "web" } },
          spec: {
            containers: [
              {
                name: "python",
                image: "python:3",
                imagePullPolicy: "IfNotPresent",
                command: ["python3", "-m", "http.server", "8000"],
                ports: [{ containerPort: 8000, protocol: "TCP" }],
                readinessProbe: { httpGet: { path: "/", port: 8000 }, initialDelaySeconds: 0, periodSeconds: 10, timeoutSeconds: 1, failureThreshold: 3 },
              },
            ],
          },
        },
      },
    });
  });

  it("checks the name as it is typed and keeps Next closed until it is right", async () => {
    const user = userEvent.setup({ delay: null });
    serveWizard((call) => json(call.body, 201));
    renderWizard();
    await user.type(screen.getByTestId("wizard-name"), "Web");
    expect(screen.getByTestId("wizard-name-error")).toHaveTextContent("Lowercase letters, digits and '-' only");
    expect(screen.getByTestId("wizard-next")).toBeDisabled();
    await user.clear(screen.getByTestId("wizard-name"));
    expect(screen.getByTestId("wizard-name-error")).toHaveTextContent("Required.");
    await user.type(screen.getByTestId("wizard-name"), "web");
    expect(screen.queryByTestId("wizard-name-error")).not.toBeInTheDocument();
    expect(screen.getByTestId("wizard-next")).toBeEnabled();
    await user.click(screen.getByTestId("wizard-next"));
    expect(screen.getByTestId("wizard-next")).toBeDisabled();
    await user.click(screen.getByTestId("wizard-show-problems"));
    expect(screen.getByTestId("container-0-image-error")).toHaveTextContent("Required.");
  });

  it("offers the project's ConfigMaps and their keys for environment variables", async () => {
    const user = userEvent.setup({ delay: null });
    serveWizard((call) => json(call.body, 201));
    renderWizard();
    await user.type(screen.getByTestId("wizard-name"), "web");
    await user.click(screen.getByTestId("wizard-next"));
    await user.click(screen.getByTestId("container-0-add-env"));
    await user.selectOptions(screen.getByTestId("container-0-env-0-source"), "configMap");
    await waitFor(() => expect(within(screen.getByTestId("container-0-env-0-ref")).getByRole("option", { name: "settings" })).toBeInTheDocument());
    await user.selectOptions(screen.getByTestId("container-0-env-0-ref"), "settings");
    const keys = within(screen.getByTestId("container-0-env-0-key")).getAllByRole("option").map((option) => option.textContent);
    expect(keys).toEqual(["Choose…", "level", "mode"]);
  });

  it("shows the server's refusal beside the object and stays open", async () => {
    const user = userEvent.setup({ delay: null });
    serveWizard(() => refusal(409, 'deployments.apps "web" already exists', "AlreadyExists"));
    renderWizard();
    await fillJourney(user);
    await user.click(screen.getByTestId("wizard-create"));
    expect(await screen.findByTestId("creation-0-error")).toHaveTextContent('deployments.apps "web" already exists');
    expect(screen.getByTestId("creation-0")).toHaveAttribute("data-status", "failed");
    expect(screen.getByTestId("creation-failed")).toBeInTheDocument();
    expect(screen.getByTestId("wizard-create")).toBeEnabled();
    expect(screen.queryByTestId("detail")).not.toBeInTheDocument();
  });
});
