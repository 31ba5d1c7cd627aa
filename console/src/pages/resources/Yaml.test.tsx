import { fireEvent, screen, waitFor } from "@testing-library/react";
import { parse } from "yaml";
import type { YamlEditorProps } from "@/components/YamlEditor";
import { ConfigMap } from "@/lib/k8s/kinds";
import type { K8sObject } from "@/lib/k8s/types";
import { json, refusal, renderAt, reviewed, serve } from "@/test/harness";
import Yaml from "./Yaml";

// jsdom cannot run Monaco: the editor is a textarea here.
vi.mock("@/components/YamlEditor", () => ({
  YamlEditor: ({ value, onChange, readOnly, ariaLabel }: YamlEditorProps) => (
    <textarea aria-label={ariaLabel} value={value} readOnly={readOnly} onChange={(event) => onChange?.(event.target.value)} />
  ),
}));

const PATH = "/clusters/host/api/v1/namespaces/web/configmaps/settings";

const configMap = (resourceVersion: string, data: Record<string, string>): K8sObject => ({
  apiVersion: "v1",
  kind: "ConfigMap",
  metadata: {
    name: "settings",
    namespace: "web",
    resourceVersion,
    managedFields: [{ manager: "kubectl", operation: "Update" }],
  } as K8sObject["metadata"],
  data,
});

function show(object: K8sObject) {
  const result = renderAt(<Yaml kind={ConfigMap} object={object} cluster="host" />);
  return { ...result, change: (shown: K8sObject) => result.rerender(<Yaml kind={ConfigMap} object={shown} cluster="host" />) };
}

const editor = () => screen.getByRole("textbox") as HTMLTextAreaElement;

function type(text: string) {
  fireEvent.change(editor(), { target: { value: text } });
}

afterEach(() => vi.unstubAllGlobals());

describe("the YAML tab", () => {
  it("shows the object without its managed fields, read-only to those who may not update it", async () => {
    serve(undefined, false);
    show(configMap("5", { color: "blue" }));
    expect(parse(editor().value)).toEqual({
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name: "settings", namespace: "web", resourceVersion: "5" },
      data: { color: "blue" },
    });
    expect(editor()).toHaveAttribute("readonly");
    await reviewed();
    expect(screen.queryByTestId("yaml-edit")).not.toBeInTheDocument();
  });

  it("follows the live object until the user edits", async () => {
    serve();
    const { change } = show(configMap("5", { color: "blue" }));
    change(configMap("6", { color: "green" }));
    expect(parse(editor().value).data).toEqual({ color: "green" });
    fireEvent.click(await screen.findByTestId("yaml-edit"));
    type(editor().value.replace("green", "red"));
    change(configMap("7", { color: "yellow" }));
    expect(parse(editor().value).data).toEqual({ color: "red" });
    expect(screen.getByTestId("yaml-outdated")).toBeInTheDocument();
  });

  it("saves with the resourceVersion the edit started from", async () => {
    const calls = serve(({ method, body }) => (method === "PUT" ? json({ ...(body as object), metadata: { name: "settings", namespace: "web", resourceVersion: "6" } }) : undefined));
    show(configMap("5", { color: "blue" }));
    fireEvent.click(await screen.findByTestId("yaml-edit"));
    expect(editor()).not.toHaveAttribute("readonly");
    // Even a user who drops the resourceVersion does not overwrite a newer version blindly.
    type("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\n  namespace: web\ndata:\n  color: red\n");
    fireEvent.click(screen.getByTestId("yaml-save"));
    expect(await screen.findByTestId("yaml-saved")).toBeInTheDocument();
    expect(calls).toEqual([
      {
        method: "PUT",
        url: PATH,
        contentType: "application/json",
        body: { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "settings", namespace: "web", resourceVersion: "5" }, data: { color: "red" } },
      },
    ]);
    expect(editor()).toHaveAttribute("readonly");
    expect(screen.queryByTestId("yaml-save")).not.toBeInTheDocument();
  });

  it("shows a YAML error with its line and sends nothing", async () => {
    const calls = serve();
    show(configMap("5", { color: "blue" }));
    fireEvent.click(await screen.findByTestId("yaml-edit"));
    type("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\n data: [\n");
    fireEvent.click(screen.getByTestId("yaml-save"));
    const problem = await screen.findByTestId("yaml-problem");
    expect(problem).toHaveAttribute("data-problem", "syntax");
    expect(problem).toHaveTextContent(/line 5/);
    expect(calls).toEqual([]);
  });

  it("refuses YAML that is not one object", async () => {
    const calls = serve();
    show(configMap("5", { color: "blue" }));
    fireEvent.click(await screen.findByTestId("yaml-edit"));
    type("kind: ConfigMap\n---\nkind: Secret\n");
    fireEvent.click(screen.getByTestId("yaml-save"));
    expect(await screen.findByTestId("yaml-problem")).toHaveAttribute("data-problem", "several");
    type("- just\n- a list\n");
    fireEvent.click(screen.getByTestId("yaml-save"));
    await waitFor(() => expect(screen.getByTestId("yaml-problem")).toHaveAttribute("data-problem", "notAnObject"));
    expect(calls).toEqual([]);
  });

  it("on a conflict offers to reload the newest version, then saves against it", async () => {
    let version = "5";
    const calls = serve(({ method, body }) => {
      if (method === "GET") return json(configMap("9", { color: "purple" }));
      const sent = (body as K8sObject).metadata.resourceVersion;
      if (sent !== version) return refusal(409, "the object has been modified", "Conflict");
      return json(body);
    });
    show(configMap("5", { color: "blue" }));
    fireEvent.click(await screen.findByTestId("yaml-edit"));
    type(editor().value.replace("blue", "red"));
    version = "9"; // someone else saved meanwhile
    fireEvent.click(screen.getByTestId("yaml-save"));
    const problem = await screen.findByTestId("yaml-problem");
    expect(problem).toHaveAttribute("data-problem", "conflict");
    // The edit is kept until the user chooses to reload.
    expect(parse(editor().value).data).toEqual({ color: "red" });
    fireEvent.click(screen.getByTestId("yaml-reload"));
    await waitFor(() => expect(parse(editor().value).data).toEqual({ color: "purple" }));
    expect(screen.queryByTestId("yaml-problem")).not.toBeInTheDocument();
    expect(editor()).not.toHaveAttribute("readonly");
    type(editor().value.replace("purple", "red"));
    fireEvent.click(screen.getByTestId("yaml-save"));
    expect(await screen.findByTestId("yaml-saved")).toBeInTheDocument();
    expect(calls.map((call) => [call.method, call.url])).toEqual([
      ["PUT", PATH],
      ["GET", PATH],
      ["PUT", PATH],
    ]);
    expect((calls[2].body as K8sObject).metadata.resourceVersion).toBe("9");
  });

  it("shows the server's words when it refuses the change", async () => {
    serve(() => refusal(422, 'ConfigMap "settings" is invalid: data: Invalid value: "bad key"', "Invalid"));
    show(configMap("5", { color: "blue" }));
    fireEvent.click(await screen.findByTestId("yaml-edit"));
    fireEvent.click(screen.getByTestId("yaml-save"));
    const problem = await screen.findByTestId("yaml-problem");
    expect(problem).toHaveAttribute("data-problem", "saveFailed");
    expect(problem).toHaveTextContent('ConfigMap "settings" is invalid');
    // Still editing: the user can fix it.
    expect(screen.getByTestId("yaml-save")).toBeInTheDocument();
  });

  it("cancelling drops the edit", async () => {
    serve();
    show(configMap("5", { color: "blue" }));
    fireEvent.click(await screen.findByTestId("yaml-edit"));
    type("garbage: [");
    fireEvent.click(screen.getByTestId("yaml-cancel"));
    expect(parse(editor().value).data).toEqual({ color: "blue" });
    expect(editor()).toHaveAttribute("readonly");
  });

  it("downloads <name>.yaml", () => {
    serve();
    const saved: string[] = [];
    // jsdom has no object URLs.
    URL.createObjectURL = vi.fn(() => "blob:yaml");
    URL.revokeObjectURL = vi.fn();
    const click = vi.spyOn(HTMLAnchorElement.prototype, "click").mockImplementation(function (this: HTMLAnchorElement) {
      saved.push(this.download);
    });
    show(configMap("5", { color: "blue" }));
    fireEvent.click(screen.getByTestId("yaml-download"));
    expect(saved).toEqual(["settings.yaml"]);
    expect(URL.createObjectURL).toHaveBeenCalledWith(expect.any(Blob));
    click.mockRestore();
  });
});
