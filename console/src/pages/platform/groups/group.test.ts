// Groups, their provider groups and their members' bindings.
import { groupBindingBody, groupBody, groupMembers, parseProviderGroups, removal } from "./group";

it("reads provider groups one per line or comma-separated, flagging those without a provider", () => {
  expect(parseProviderGroups("ldap:dev\n ldap:ops , github:team\n\nplain")).toEqual({
    groups: ["ldap:dev", "ldap:ops", "github:team", "plain"],
    invalid: ["plain"],
  });
});

it("makes a Group with only the fields given", () => {
  expect(groupBody({ name: "dev", displayName: "", description: "Developers", providerGroups: "ldap:dev" })).toEqual({
    apiVersion: "iam.atoll.io/v1alpha1",
    kind: "Group",
    metadata: { name: "dev" },
    spec: { description: "Developers", providerGroups: ["ldap:dev"] },
  });
});

it("makes a GroupBinding labelled with the group and the user", () => {
  expect(groupBindingBody("dev", "jane")).toEqual({
    apiVersion: "iam.atoll.io/v1alpha1",
    kind: "GroupBinding",
    metadata: { name: "dev-jane", labels: { "iam.atoll.io/group": "dev", "iam.atoll.io/user": "jane" } },
    groupRef: { apiGroup: "iam.atoll.io", kind: "Group", name: "dev" },
    users: ["jane"],
  });
});

it("lists each member once, and removes one by deleting or trimming its binding", () => {
  const shared = { metadata: { name: "b" }, users: ["bob", "amy"] };
  const own = { metadata: { name: "a" }, users: ["amy"] };
  expect(groupMembers([shared, own]).map((member) => [member.user, member.binding.metadata.name])).toEqual([
    ["amy", "b"],
    ["bob", "b"],
  ]);
  expect(removal(own, "amy")).toEqual({ delete: true });
  expect(removal(shared, "amy")).toEqual({ patch: { users: ["bob"] } });
});
