import { fireEvent, screen, waitFor } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import type { K8sObject } from "@/lib/k8s/types";
import { json, refusal, renderInProject, serve } from "@/test/harness";
import { lineProblems, QuotaForm } from "./QuotaForm";

vi.mock("@/lib/api/watch", () => ({ watches: { subscribe: () => () => undefined } }));

const QUOTAS = "/clusters/host/api/v1/namespaces/web/resourcequotas";

afterEach(() => vi.unstubAllGlobals());

describe("lineProblems", () => {
  it("asks for a quantity per resource, each resource once", () => {
    expect(
      lineProblems([
        { resource: "pods", value: "10" },
        { resource: "requests.cpu", value: "" },
        { resource: "limits.memory", value: "lots" },
        { resource: "pods", value: "5" },
      ]),
    ).toEqual([undefined, "project:quotaForm.required", "project:quotaForm.invalid", "project:quotaForm.duplicate"]);
  });
});

describe("QuotaForm", () => {
  it("creates a quota with the limits given", async () => {
    const calls = serve((call) => (call.method === "POST" ? json(call.body, 201) : undefined));
    const onClose = vi.fn();
    renderInProject(<QuotaForm cluster="host" namespace="web" onClose={onClose} />);
    fireEvent.change(screen.getByTestId("quota-value-0"), { target: { value: "2" } });
    fireEvent.change(screen.getByTestId("quota-value-1"), { target: { value: "4Gi" } });
    await userEvent.click(screen.getByTestId("quota-add-line"));
    await userEvent.selectOptions(screen.getByTestId("quota-resource-2"), "pods");
    fireEvent.change(screen.getByTestId("quota-value-2"), { target: { value: "20" } });
    await userEvent.click(screen.getByTestId("quota-save"));
    await waitFor(() => expect(onClose).toHaveBeenCalled());
    expect(calls).toEqual([
      {
        method: "POST",
        url: QUOTAS,
        contentType: "application/json",
        body: {
          apiVersion: "v1",
          kind: "ResourceQuota",
          metadata: { name: "quota", namespace: "web" },
          spec: { hard: { "requests.cpu": "2", "requests.memory": "4Gi", pods: "20" } },
        },
      },
    ]);
  });

  it("saves nothing that is not a quantity", async () => {
    serve();
    renderInProject(<QuotaForm cluster="host" namespace="web" onClose={() => undefined} />);
    fireEvent.change(screen.getByTestId("quota-value-0"), { target: { value: "two" } });
    fireEvent.change(screen.getByTestId("quota-value-1"), { target: { value: "1Gi" } });
    expect(screen.getByTestId("quota-save")).toBeDisabled();
    expect(screen.getByText("Not a quantity (whole numbers for counts; for example 2, 500m or 4Gi).")).toBeInTheDocument();
  });

  it("patches only what changed, removing what was taken out", async () => {
    const quota: K8sObject = { kind: "ResourceQuota", metadata: { name: "q", namespace: "web" }, spec: { hard: { pods: "10", services: "5" } } };
    const calls = serve((call) => (call.method === "PATCH" ? json(quota) : undefined));
    const onClose = vi.fn();
    renderInProject(<QuotaForm cluster="host" namespace="web" quota={quota} onClose={onClose} />);
    fireEvent.change(screen.getByTestId("quota-value-0"), { target: { value: "12" } });
    await userEvent.click(screen.getByRole("button", { name: "Remove services" }));
    await userEvent.click(screen.getByTestId("quota-save"));
    await waitFor(() => expect(onClose).toHaveBeenCalled());
    expect(calls).toEqual([{ method: "PATCH", url: `${QUOTAS}/q`, contentType: "application/merge-patch+json", body: { spec: { hard: { pods: "12", services: null } } } }]);
  });

  it("shows the server's refusal in its words", async () => {
    serve(() => refusal(403, 'resourcequotas is forbidden: User "bob" cannot create', "Forbidden"));
    renderInProject(<QuotaForm cluster="host" namespace="web" onClose={() => undefined} />);
    fireEvent.change(screen.getByTestId("quota-value-0"), { target: { value: "1" } });
    fireEvent.change(screen.getByTestId("quota-value-1"), { target: { value: "1Gi" } });
    await userEvent.click(screen.getByTestId("quota-save"));
    expect(await screen.findByTestId("quota-error")).toHaveTextContent('User "bob" cannot create');
  });
});
