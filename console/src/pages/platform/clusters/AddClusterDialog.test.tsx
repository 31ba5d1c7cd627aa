// Adding a cluster: the server checks the kubeconfig by connecting; its refusal is shown.
import { screen, waitFor } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { json, problem, renderAt, serve } from "@/test/harness";
import { AddClusterDialog } from "./AddClusterDialog";

vi.setConfig({ testTimeout: 20_000 });

const NAMES_FILES = "the kubeconfig names files (certificate-authority): embed them instead";

it("shows why the server refused the kubeconfig", async () => {
  serve((call) => (call.method === "POST" ? problem(422, NAMES_FILES) : undefined));
  const onClose = vi.fn();
  renderAt(<AddClusterDialog onClose={onClose} />);
  await userEvent.type(screen.getByTestId("cluster-name"), "edge");
  await userEvent.type(screen.getByRole("textbox", { name: "Kubeconfig" }), "apiVersion: v1");
  await userEvent.click(screen.getByTestId("cluster-submit"));
  expect(await screen.findByTestId("add-cluster-error")).toHaveTextContent(NAMES_FILES);
  expect(onClose).not.toHaveBeenCalled();
});

it("posts the name and the kubeconfig", async () => {
  const calls = serve((call) => (call.method === "POST" ? json({ metadata: { name: "edge" } }, 201) : undefined));
  const onClose = vi.fn();
  renderAt(<AddClusterDialog onClose={onClose} />);
  await userEvent.type(screen.getByTestId("cluster-name"), "edge");
  await userEvent.type(screen.getByRole("textbox", { name: "Kubeconfig" }), "kind: Config");
  await userEvent.click(screen.getByTestId("cluster-submit"));
  await waitFor(() => expect(onClose).toHaveBeenCalledWith(true));
  expect(calls.find((call) => call.method === "POST")).toMatchObject({ url: "/kapis/cluster.atoll.io/v1alpha1/clusters", body: { name: "edge", kubeconfig: "kind: Config" } });
});

it("refuses the name host before asking", async () => {
  serve();
  renderAt(<AddClusterDialog onClose={() => undefined} />);
  await userEvent.type(screen.getByTestId("cluster-name"), "host");
  await userEvent.tab();
  expect(screen.getByText("This name is reserved.")).toBeInTheDocument();
  expect(screen.getByTestId("cluster-submit")).toBeDisabled();
});
