// Roles read as a verbs × resources table: rules merged per resource, wildcards kept.
import { aggregationSelectors, allows, grantsEverything, isBuiltIn, otherVerbs, ruleRows } from "./rules";

describe("ruleRows", () => {
  it("makes one row per group and resource, merging verbs of rules that name it twice", () => {
    const rows = ruleRows([
      { apiGroups: ["apps"], resources: ["deployments", "statefulsets"], verbs: ["get", "list"] },
      { apiGroups: ["apps"], resources: ["deployments"], verbs: ["patch", "get"] },
      { apiGroups: [""], resources: ["pods/log"], verbs: ["get"] },
    ]);
    expect(rows.map((row) => [row.group, row.resource, row.verbs])).toEqual([
      ["", "pods/log", ["get"]],
      ["apps", "deployments", ["get", "list", "patch"]],
      ["apps", "statefulsets", ["get", "list"]],
    ]);
  });

  it("puts every group first, then core, resource rows before URLs, and keeps resource names apart", () => {
    const rows = ruleRows([
      { nonResourceURLs: ["/healthz"], verbs: ["get"] },
      { apiGroups: ["batch"], resources: ["jobs"], verbs: ["*"] },
      { apiGroups: [""], resources: ["configmaps"], resourceNames: ["b", "a"], verbs: ["get"] },
      { apiGroups: [""], resources: ["configmaps"], verbs: ["list"] },
      { apiGroups: ["*"], resources: ["*"], verbs: ["get"] },
    ]);
    expect(rows.map((row) => `${row.kind} ${row.group} ${row.resource} ${row.names.join(",")}`.trim())).toEqual([
      "resource * *",
      "resource  configmaps",
      "resource  configmaps a,b",
      "resource batch jobs",
      "url  /healthz",
    ]);
  });

  it("answers nothing for a role without rules", () => {
    expect(ruleRows(undefined)).toEqual([]);
  });
});

describe("verbs", () => {
  const [row] = ruleRows([{ apiGroups: [""], resources: ["pods"], verbs: ["get", "impersonate", "bind"] }]);
  it("allows the verbs named, and every verb for *", () => {
    expect(allows(row, "get")).toBe(true);
    expect(allows(row, "delete")).toBe(false);
    const [all] = ruleRows([{ apiGroups: [""], resources: ["pods"], verbs: ["*"] }]);
    expect(allows(all, "delete")).toBe(true);
  });
  it("lists the verbs beyond the standard columns", () => {
    expect(otherVerbs(row)).toEqual(["bind", "impersonate"]);
  });
});

describe("what a role is", () => {
  it("grants everything only with every verb on every resource of every group", () => {
    expect(grantsEverything([{ apiGroups: ["*"], resources: ["*"], verbs: ["*"] }])).toBe(true);
    expect(grantsEverything([{ apiGroups: ["*"], resources: ["*"], verbs: ["get", "list", "watch"] }])).toBe(false);
  });
  it("is built in when Atoll or Kubernetes made it", () => {
    expect(isBuiltIn({ metadata: { name: "platform-admin", labels: { "iam.atoll.io/built-in": "true" } } })).toBe(true);
    expect(isBuiltIn({ metadata: { name: "view", labels: { "kubernetes.io/bootstrapping": "rbac-defaults" } } })).toBe(true);
    expect(isBuiltIn({ metadata: { name: "system:node" } })).toBe(true);
    expect(isBuiltIn({ metadata: { name: "auditors" } })).toBe(false);
  });
  it("says which labels an aggregated role gathers from", () => {
    const role = { metadata: { name: "view" }, aggregationRule: { clusterRoleSelectors: [{ matchLabels: { a: "1", b: "2" } }, { matchLabels: { c: "3" } }] } };
    expect(aggregationSelectors(role)).toEqual(["a=1,b=2", "c=3"]);
  });
});
