// The served kinds grouped by API group, core first, and searched.
import { Kind } from "@/lib/k8s/kinds";
import { groupServed } from "./served";

const served = (kind: string, group: string, plural: string) => ({ kind: new Kind({ kind, group, version: "v1", plural, namespaced: true }), verbs: ["list"] });
const all = [served("Widget", "example.com", "widgets"), served("Pod", "", "pods"), served("Deployment", "apps", "deployments"), served("ConfigMap", "", "configmaps")];

it("groups by API group, core first, kinds by name", () => {
  expect(groupServed(all).map((group) => [group.group, group.kinds.map((item) => item.kind.kind)])).toEqual([
    ["", ["ConfigMap", "Pod"]],
    ["apps", ["Deployment"]],
    ["example.com", ["Widget"]],
  ]);
});

it("finds by kind, plural or group, in any case", () => {
  expect(groupServed(all, "WIDG").map((group) => group.group)).toEqual(["example.com"]);
  expect(groupServed(all, "apps")[0].kinds[0].kind.kind).toBe("Deployment");
  expect(groupServed(all, "nothing")).toEqual([]);
});
