// The Namespace a new project is created as, and where the tenant API has it.
import { projectBody, projectOverview, projectsPath } from "./project";

it("sends the name, and alias and description as annotations when given", () => {
  expect(projectBody({ cluster: "host", name: "shop-dev", alias: " Shop (dev) ", description: "" })).toEqual({
    apiVersion: "v1",
    kind: "Namespace",
    metadata: { name: "shop-dev", annotations: { "atoll.io/alias": "Shop (dev)" } },
  });
  expect(projectBody({ cluster: "host", name: "x", alias: "", description: "" }).metadata).toEqual({ name: "x" });
});

it("knows the tenant API's paths and the project's overview", () => {
  expect(projectsPath("shop", "host")).toBe("/kapis/tenant.atoll.io/v1alpha1/workspaces/shop/clusters/host/namespaces");
  expect(projectsPath("shop", "host", "dev")).toBe("/kapis/tenant.atoll.io/v1alpha1/workspaces/shop/clusters/host/namespaces/dev");
  expect(projectOverview("edge", "dev")).toBe("/clusters/edge/projects/dev/overview");
});
