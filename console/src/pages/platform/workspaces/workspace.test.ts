// The Workspace the create form sends, and the clusters a workspace may use.
import { workspaceBody, workspaceClusters } from "./workspace";

it("makes a Workspace with its manager, description and clusters", () => {
  expect(workspaceBody({ name: "shop", description: " The shop ", manager: "jane", clusters: ["edge", "host"] })).toEqual({
    apiVersion: "tenant.atoll.io/v1alpha1",
    kind: "Workspace",
    metadata: { name: "shop" },
    spec: { manager: "jane", description: "The shop", clusters: ["edge", "host"] },
  });
});

it("leaves out what was not given (no clusters: the host)", () => {
  expect(workspaceBody({ name: "shop", description: "", manager: "", clusters: [] }).spec).toEqual({});
  expect(workspaceClusters({ metadata: { name: "shop" }, spec: {} })).toEqual(["host"]);
  expect(workspaceClusters({ metadata: { name: "shop" }, spec: { clusters: ["edge"] } })).toEqual(["edge"]);
});
