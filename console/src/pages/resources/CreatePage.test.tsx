import { fireEvent, screen, waitFor } from "@testing-library/react";
import { Route, Routes, useLocation } from "react-router-dom";
import { parse } from "yaml";
import type { YamlEditorProps } from "@/components/YamlEditor";
import type { K8sObject } from "@/lib/k8s/types";
import { json, refusal, renderAt, serve, type Call } from "@/test/harness";
import CreatePage from "./CreatePage";

// jsdom cannot run Monaco: the editor is a textarea here.
vi.mock("@/components/YamlEditor", () => ({
  YamlEditor: ({ value, onChange, ariaLabel }: YamlEditorProps) => (
    <textarea aria-label={ariaLabel} value={value} onChange={(event) => onChange?.(event.target.value)} />
  ),
}));

const created = (call: Call) => {
  const body = call.body as K8sObject;
  return json({ ...body, metadata: { ...body.metadata, name: "made" } }, 201);
};

function Where() {
  return <div data-testid="where">{useLocation().pathname}</div>;
}

function open(path: string) {
  renderAt(
    <Routes>
      <Route path="/clusters/:cluster/resources/:resource/~new" element={<CreatePage />} />
      <Route path="/clusters/:cluster/projects/:namespace/:resource/~new" element={<CreatePage />} />
      <Route path="*" element={<Where />} />
    </Routes>,
    path,
    "*",
  );
}

const editor = () => screen.getByRole("textbox") as HTMLTextAreaElement;

function type(text: string) {
  fireEvent.change(editor(), { target: { value: text } });
}

afterEach(() => vi.unstubAllGlobals());

describe("creating from YAML", () => {
  it("starts from a template of the kind in the project", () => {
    serve(created);
    open("/clusters/host/projects/web/configmaps/~new");
    expect(parse(editor().value)).toEqual({
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name: "", namespace: "web" },
      data: { key: "value" },
    });
  });

  it("creates it in the project and opens it", async () => {
    const calls = serve(created);
    open("/clusters/host/projects/web/configmaps/~new");
    type("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\ndata:\n  color: blue\n");
    fireEvent.click(await screen.findByTestId("yaml-create"));
    expect(await screen.findByTestId("where")).toHaveTextContent("/clusters/host/projects/web/configmaps/made");
    expect(calls).toEqual([
      {
        method: "POST",
        url: "/clusters/host/api/v1/namespaces/web/configmaps",
        contentType: "application/json",
        body: { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "settings", namespace: "web" }, data: { color: "blue" } },
      },
    ]);
  });

  it("refuses a YAML naming another namespace, before sending it", async () => {
    const calls = serve(created);
    open("/clusters/host/projects/web/configmaps/~new");
    type("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\n  namespace: kube-system\n");
    fireEvent.click(await screen.findByTestId("yaml-create"));
    const problem = await screen.findByTestId("yaml-problem");
    expect(problem).toHaveAttribute("data-problem", "otherNamespace");
    expect(problem).toHaveTextContent("kube-system");
    expect(calls).toEqual([]);
  });

  it("refuses a YAML of another kind", async () => {
    const calls = serve(created);
    open("/clusters/host/projects/web/configmaps/~new");
    type("apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n");
    fireEvent.click(await screen.findByTestId("yaml-create"));
    expect(await screen.findByTestId("yaml-problem")).toHaveAttribute("data-problem", "wrongKind");
    expect(calls).toEqual([]);
  });

  it("shows a YAML error with its line", async () => {
    const calls = serve(created);
    open("/clusters/host/projects/web/configmaps/~new");
    type("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x\n");
    fireEvent.click(await screen.findByTestId("yaml-create"));
    expect(await screen.findByTestId("yaml-problem")).toHaveAttribute("data-problem", "syntax");
    expect(calls).toEqual([]);
  });

  it("shows the server's words when it refuses", async () => {
    serve(() => refusal(422, 'ConfigMap "Bad_Name" is invalid: metadata.name', "Invalid"));
    open("/clusters/host/projects/web/configmaps/~new");
    type("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: Bad_Name\n");
    fireEvent.click(await screen.findByTestId("yaml-create"));
    const problem = await screen.findByTestId("yaml-problem");
    expect(problem).toHaveAttribute("data-problem", "createFailed");
    expect(problem).toHaveTextContent('ConfigMap "Bad_Name" is invalid');
    expect(screen.queryByTestId("where")).not.toBeInTheDocument();
  });

  it("in a cluster, puts a namespaced kind where the YAML says, and asks for a namespace if none", async () => {
    const calls = serve(created);
    open("/clusters/host/resources/roles.rbac.authorization.k8s.io/~new");
    expect(parse(editor().value).metadata).toEqual({ name: "", namespace: "default" });
    type("apiVersion: rbac.authorization.k8s.io/v1\nkind: Role\nmetadata:\n  name: reader\n");
    fireEvent.click(await screen.findByTestId("yaml-create"));
    expect(await screen.findByTestId("yaml-problem")).toHaveAttribute("data-problem", "noNamespace");
    type("apiVersion: rbac.authorization.k8s.io/v1\nkind: Role\nmetadata:\n  name: reader\n  namespace: ops\n");
    fireEvent.click(screen.getByTestId("yaml-create"));
    expect(await screen.findByTestId("where")).toHaveTextContent("/clusters/host/projects/ops/roles.rbac.authorization.k8s.io/made");
    expect(calls.map((call) => call.url)).toEqual(["/clusters/host/apis/rbac.authorization.k8s.io/v1/namespaces/ops/roles"]);
  });

  it("creates a cluster-scoped kind at the cluster", async () => {
    const calls = serve(created);
    open("/clusters/host/resources/clusterroles.rbac.authorization.k8s.io/~new");
    const template = parse(editor().value);
    expect(template.metadata).toEqual({ name: "" });
    template.metadata.name = "reader";
    type(JSON.stringify(template));
    fireEvent.click(await screen.findByTestId("yaml-create"));
    expect(await screen.findByTestId("where")).toHaveTextContent("/clusters/host/resources/clusterroles.rbac.authorization.k8s.io/made");
    expect(calls.map((call) => call.url)).toEqual(["/clusters/host/apis/rbac.authorization.k8s.io/v1/clusterroles"]);
  });

  it("offers no Create to those who may not", async () => {
    serve(created, false);
    open("/clusters/host/projects/web/configmaps/~new");
    expect(await screen.findByText(/do not allow you to create ConfigMap/)).toBeInTheDocument();
    expect(screen.queryByTestId("yaml-create")).not.toBeInTheDocument();
  });

  it("cancel goes back to the list when there is nowhere to go back to", async () => {
    serve(created);
    open("/clusters/host/projects/web/configmaps/~new");
    fireEvent.click(screen.getByTestId("yaml-cancel"));
    await waitFor(() => expect(screen.getByTestId("where")).toHaveTextContent("/clusters/host/projects/web/configmaps"));
  });
});
