// The create-project form: the name is checked as a DNS-1123 label while typing, the POST
// carries the Namespace the tenant API expects, and a refusal stays in the dialog.
import { screen, waitFor } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { json, problem, renderAt, serve } from "@/test/harness";
import { CreateProjectDialog } from "./CreateProjectDialog";

vi.setConfig({ testTimeout: 20_000 });

function open(answer = (_path: string) => json({ metadata: { name: "shop-dev" } }, 201)) {
  const calls = serve((call) => (call.method === "POST" ? answer(call.url) : undefined));
  const onClose = vi.fn();
  renderAt(<CreateProjectDialog workspace="shop" clusters={["host", "edge"]} onClose={onClose} />);
  return { calls, onClose };
}

it("says what is wrong with a name while it is typed, and offers no submit", async () => {
  open();
  await userEvent.type(screen.getByTestId("project-name"), "Shop_Dev");
  expect(screen.getByTestId("project-name-error")).toHaveTextContent("lower-case letters");
  expect(screen.getByTestId("project-submit")).toBeDisabled();
});

it("posts the project to the chosen cluster of the workspace", async () => {
  const { calls, onClose } = open();
  await userEvent.selectOptions(screen.getByTestId("project-cluster"), "edge");
  await userEvent.type(screen.getByTestId("project-name"), "shop-dev");
  await userEvent.type(screen.getByLabelText("Alias"), "Shop (dev)");
  await userEvent.click(screen.getByTestId("project-submit"));
  await waitFor(() => expect(onClose).toHaveBeenCalled());
  const post = calls.find((call) => call.method === "POST");
  expect(post?.url).toBe("/kapis/tenant.atoll.io/v1alpha1/workspaces/shop/clusters/edge/namespaces");
  expect(post?.body).toEqual({ apiVersion: "v1", kind: "Namespace", metadata: { name: "shop-dev", annotations: { "atoll.io/alias": "Shop (dev)" } } });
});

it("shows the server's refusal in its words and stays open", async () => {
  const { onClose } = open(() => problem(409, 'namespaces "shop-dev" already exists'));
  await userEvent.type(screen.getByTestId("project-name"), "shop-dev");
  await userEvent.click(screen.getByTestId("project-submit"));
  expect(await screen.findByTestId("project-error")).toHaveTextContent('namespaces "shop-dev" already exists');
  expect(onClose).not.toHaveBeenCalled();
});
