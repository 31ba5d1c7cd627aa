// The members table: listed, added with a role (POST of a list), removed after asking.
import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { fakeAtoll, json, renderAt } from "../testing";
import { Members } from "./Members";

vi.setConfig({ testTimeout: 20_000 });

const PATH = "/kapis/iam.atoll.io/v1alpha1/workspaces/shop/workspacemembers";

function serve() {
  const members = [{ username: "jane", roleRef: "shop-workspace-admin" }];
  const calls = fakeAtoll((call) => {
    if (call.method === "POST") {
      members.push(...(call.body as typeof members));
      return json(call.body);
    }
    if (call.method === "DELETE") return json({ username: "jane" });
    if (call.path === PATH) return json({ items: members, totalItems: members.length });
    return undefined;
  });
  renderAt(<Members path={PATH} roles={["shop-workspace-admin", "shop-workspace-viewer"]} mayEdit mayRemove />);
  return calls;
}

it("adds a member with the role chosen", async () => {
  const calls = serve();
  await screen.findByText("jane");
  await userEvent.click(screen.getByTestId("member-add"));
  await userEvent.type(screen.getByLabelText(/User name/), "bob");
  await userEvent.selectOptions(screen.getByLabelText(/Role/), "shop-workspace-viewer");
  await userEvent.click(screen.getByTestId("member-submit"));
  expect(await screen.findByText("bob")).toBeInTheDocument();
  expect(calls.find((call) => call.method === "POST")?.body).toEqual([{ username: "bob", roleRef: "shop-workspace-viewer" }]);
});

it("removes a member after asking", async () => {
  const calls = serve();
  const row = (await screen.findByText("jane")).closest("tr") as HTMLElement;
  await userEvent.click(within(row).getByRole("button", { name: "Kebab toggle" }));
  await userEvent.click(await screen.findByRole("menuitem", { name: "Remove" }));
  await userEvent.click(screen.getByTestId("confirm-delete"));
  await waitFor(() => expect(calls.find((call) => call.method === "DELETE")?.path).toBe(`${PATH}/jane`));
});
