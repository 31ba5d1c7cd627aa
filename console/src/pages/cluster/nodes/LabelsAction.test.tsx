// Editing a node's labels sends a merge patch of what changed, null for a removed key.
import { screen, waitFor } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { Node } from "@/lib/k8s/kinds";
import { json, renderAt, serve } from "@/test/harness";
import LabelsAction from "./LabelsAction";

vi.setConfig({ testTimeout: 20_000 });

it("patches the changed labels only", async () => {
  const calls = serve((call) => (call.method === "PATCH" ? json({}) : undefined));
  const onClose = vi.fn();
  const node = { metadata: { name: "n1", labels: { keep: "1", drop: "x" } } };
  renderAt(<LabelsAction kind={Node} object={node} cluster="edge" onClose={onClose} />);
  await userEvent.click(screen.getByRole("button", { name: "Remove drop" }));
  await userEvent.click(screen.getByTestId("row-add"));
  await userEvent.type(document.getElementById("label-key-1") as HTMLElement, "zone");
  await userEvent.type(document.getElementById("label-value-1") as HTMLElement, "a");
  await userEvent.click(screen.getByTestId("edit-save"));
  await waitFor(() => expect(onClose).toHaveBeenCalled());
  expect(calls.find((call) => call.method === "PATCH")).toMatchObject({
    url: "/clusters/edge/api/v1/nodes/n1",
    body: { metadata: { labels: { drop: null, zone: "a" } } },
  });
});

it("offers no save while a key is invalid", async () => {
  serve();
  renderAt(<LabelsAction kind={Node} object={{ metadata: { name: "n1" } }} cluster="edge" onClose={() => undefined} />);
  await userEvent.click(screen.getByTestId("row-add"));
  await userEvent.type(document.getElementById("label-key-0") as HTMLElement, "bad key");
  expect(screen.getByTestId("edit-save")).toBeDisabled();
  expect(screen.getByText(/optional DNS prefix/)).toBeInTheDocument();
});
