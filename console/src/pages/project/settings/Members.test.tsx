import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { type Call, json, list, renderInProject, serve, settled } from "@/test/harness";
import Members from "./Members";

vi.mock("@/lib/api/watch", () => ({ watches: { subscribe: () => () => undefined } }));

const MEMBERS = "/kapis/iam.atoll.io/v1alpha1/clusters/host/namespaces/web/members";
const ROLES = "/kapis/resources.atoll.io/v1alpha1/clusters/host/namespaces/web/roles.rbac.authorization.k8s.io";

const role = (name: string) => ({ kind: "Role", metadata: { name, namespace: "web" }, rules: [] });

function answer(call: Call) {
  if (call.url === MEMBERS && call.method === "GET") {
    return list([{ username: "admin", roleRef: "admin" }, { username: "bob", roleRef: "viewer" }]);
  }
  if (call.url === MEMBERS && call.method === "POST") return json(call.body);
  if (call.url === `${MEMBERS}/bob` && call.method === "DELETE") return json({ username: "bob" });
  if (call.url.startsWith(`${ROLES}?`)) return list([role("admin"), role("operator"), role("viewer")]);
  if (call.url === "/kapis/iam.atoll.io/v1alpha1/me") return json({ name: "admin", groups: [], passwordChangeRequired: false });
  return undefined;
}

afterEach(() => vi.unstubAllGlobals());

describe("project members", () => {
  it("adds a member with a role", async () => {
    const calls = serve(answer);
    renderInProject(<Members />, "members");
    await userEvent.click(await screen.findByTestId("add-member"));
    await userEvent.type(screen.getByTestId("member-username"), "carol");
    await userEvent.selectOptions(screen.getByTestId("member-role"), "operator");
    await userEvent.click(screen.getByTestId("member-submit"));
    await waitFor(() => expect(calls.some((call) => call.method === "POST")).toBe(true));
    expect(calls.find((call) => call.method === "POST")).toEqual({ method: "POST", url: MEMBERS, contentType: "application/json", body: [{ username: "carol", roleRef: "operator" }] });
    await waitFor(() => expect(screen.queryByTestId("member-username")).toBeNull());
  });

  it("shows the server's words when a member cannot be added", async () => {
    serve((call) =>
      call.method === "POST" ? json({ title: "Not Found", status: 404, detail: 'user "nobody" not found' }, 404) : answer(call),
    );
    renderInProject(<Members />, "members");
    await userEvent.click(await screen.findByTestId("add-member"));
    await userEvent.type(screen.getByTestId("member-username"), "nobody");
    await userEvent.click(screen.getByTestId("member-submit"));
    expect(await screen.findByTestId("member-error")).toHaveTextContent('user "nobody" not found');
    // The user may correct the name and try again.
    expect(screen.getByTestId("member-submit")).toBeEnabled();
  });

  it("changes a member's role in place", async () => {
    const calls = serve(answer);
    renderInProject(<Members />, "members");
    await userEvent.selectOptions(await screen.findByTestId("role-bob"), "admin");
    await waitFor(() => expect(calls.find((call) => call.method === "POST")?.body).toEqual([{ username: "bob", roleRef: "admin" }]));
  });

  it("removes a member after confirming", async () => {
    const calls = serve(answer);
    renderInProject(<Members />, "members");
    await userEvent.click(await screen.findByTestId("remove-bob"));
    await userEvent.click(screen.getByTestId("confirm-remove"));
    await waitFor(() => expect(calls.some((call) => call.method === "DELETE" && call.url === `${MEMBERS}/bob`)).toBe(true));
  });

  it("warns before someone removes themselves", async () => {
    serve(answer);
    renderInProject(<Members />, "members");
    await userEvent.click(await screen.findByTestId("remove-admin"));
    expect(await screen.findByText("This is you: you may lose access to this project.")).toBeInTheDocument();
  });

  it("offers nothing to change to those who may not bind roles", async () => {
    const reviews: Record<string, string>[] = [];
    serve(answer, (review) => {
      reviews.push(review);
      return false;
    });
    renderInProject(<Members />, "members");
    const table = await screen.findByTestId("members");
    await waitFor(() => expect(reviews.length).toBeGreaterThanOrEqual(2));
    await settled();
    expect(reviews).toContainEqual(expect.objectContaining({ verb: "create", group: "rbac.authorization.k8s.io", resource: "rolebindings", namespace: "web" }));
    expect(reviews).toContainEqual(expect.objectContaining({ verb: "delete", group: "rbac.authorization.k8s.io", resource: "rolebindings", namespace: "web" }));
    expect(within(table).getByText("viewer")).toBeInTheDocument();
    expect(screen.queryByTestId("add-member")).toBeNull();
    expect(screen.queryByTestId("role-bob")).toBeNull();
    expect(screen.queryByTestId("remove-bob")).toBeNull();
  });
});
