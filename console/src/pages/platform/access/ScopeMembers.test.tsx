// A workspace's members (the same table serves clusters): listed, added with a role (POST of
// a list), removed after asking; nothing offered to those who may not.
import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { json, list, renderAt, reviewed, serve } from "@/test/harness";
import { ScopeMembers } from "./ScopeMembers";

vi.setConfig({ testTimeout: 20_000 });

const PATH = "/kapis/iam.atoll.io/v1alpha1/workspaces/shop/workspacemembers";

function open(allowed = true) {
  const members = [{ username: "jane", roleRef: "shop-workspace-admin" }];
  const calls = serve((call) => {
    if (call.method === "POST") {
      members.push(...(call.body as typeof members));
      return json(call.body);
    }
    if (call.method === "DELETE") return json({ username: "jane" });
    if (call.url === PATH) return list(members);
    return undefined;
  }, allowed);
  renderAt(<ScopeMembers title="Workspace members" scope={{ workspace: "shop" }} roles={["shop-workspace-admin", "shop-workspace-viewer"]} />);
  return calls;
}

it("adds a member with the role chosen", async () => {
  const calls = open();
  await screen.findByText("jane");
  await userEvent.click(await screen.findByTestId("add-member"));
  await userEvent.type(screen.getByLabelText(/User name/), "bob");
  await userEvent.selectOptions(screen.getByTestId("member-role"), "shop-workspace-viewer");
  await userEvent.click(screen.getByTestId("member-submit"));
  expect(await within(screen.getByTestId("members")).findByText("bob")).toBeInTheDocument();
  expect(calls.find((call) => call.method === "POST")?.body).toEqual([{ username: "bob", roleRef: "shop-workspace-viewer" }]);
});

it("removes a member after asking", async () => {
  const calls = open();
  await userEvent.click(await screen.findByTestId("remove-jane"));
  expect(screen.getByText("The user loses its role here.")).toBeInTheDocument();
  await userEvent.click(screen.getByTestId("confirm-remove"));
  await waitFor(() => expect(calls.find((call) => call.method === "DELETE")?.url).toBe(`${PATH}/jane`));
});

it("offers nothing to change to those who may not", async () => {
  open(false);
  const table = await screen.findByTestId("members");
  await reviewed();
  expect(within(table).getByText("shop-workspace-admin")).toBeInTheDocument();
  expect(screen.queryByTestId("add-member")).toBeNull();
  expect(screen.queryByTestId("role-jane")).toBeNull();
  expect(screen.queryByTestId("remove-jane")).toBeNull();
});
