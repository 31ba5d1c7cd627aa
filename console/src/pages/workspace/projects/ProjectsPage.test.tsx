// The workspace's projects page: each cluster's projects linking to their overview, create
// offered only when allowed, and a delete that needs the name typed.
import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { json, renderAt, reviewed, serve } from "@/test/harness";
import ProjectsPage from "./ProjectsPage";

vi.setConfig({ testTimeout: 20_000 });

const project = { metadata: { name: "shop-dev", annotations: { "atoll.io/alias": "Dev", "atoll.io/creator": "jane" } }, status: { phase: "Active" } };

function serveProjects(allowed: boolean) {
  return serve((call) => {
    if (call.url.endsWith("/workspaces/shop/clusters")) return json({ items: [{ metadata: { name: "host" } }] });
    if (call.url.endsWith("/clusters/host/namespaces")) return json({ items: [project] });
    if (call.method === "DELETE") return json({});
    return undefined;
  }, allowed);
}

it("lists the projects with links to their overview, and offers create when allowed", async () => {
  serveProjects(true);
  renderAt(<ProjectsPage />, "/workspaces/shop/projects", "/workspaces/:workspace/projects");
  const link = await screen.findByTestId("link-shop-dev");
  expect(link).toHaveAttribute("href", "/clusters/host/projects/shop-dev/overview");
  expect(await screen.findByTestId("create-project")).toBeEnabled();
});

it("offers neither create nor delete to those not allowed", async () => {
  serveProjects(false);
  renderAt(<ProjectsPage />, "/workspaces/shop/projects", "/workspaces/:workspace/projects");
  await screen.findByTestId("link-shop-dev");
  await reviewed();
  expect(screen.queryByTestId("create-project")).not.toBeInTheDocument();
  expect(screen.queryByRole("button", { name: "Kebab toggle" })).not.toBeInTheDocument();
});

it("deletes a project only once its name is typed", async () => {
  const calls = serveProjects(true);
  renderAt(<ProjectsPage />, "/workspaces/shop/projects", "/workspaces/:workspace/projects");
  const row = (await screen.findByTestId("link-shop-dev")).closest("tr") as HTMLElement;
  await userEvent.click(await within(row).findByRole("button", { name: "Kebab toggle" }));
  await userEvent.click(await screen.findByRole("menuitem", { name: "Delete" }));
  expect(screen.getByTestId("confirm-delete")).toBeDisabled();
  await userEvent.type(screen.getByLabelText("Type shop-dev to confirm"), "shop-dev");
  await userEvent.click(screen.getByTestId("confirm-delete"));
  await waitFor(() => expect(calls.some((call) => call.method === "DELETE")).toBe(true));
  expect(calls.find((call) => call.method === "DELETE")?.url).toBe("/kapis/tenant.atoll.io/v1alpha1/workspaces/shop/clusters/host/namespaces/shop-dev");
});
