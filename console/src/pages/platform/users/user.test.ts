// Users as written and read: platform role label, state, and the bodies sent.
import { platformRole, provider, rolePatch, statePatch, userBody, userState } from "./user";

it("makes a User with its platform role as a label and the password in the spec", () => {
  expect(userBody({ name: "jane", displayName: " Jane ", email: "jane@example.com ", password: "Secret-123", role: "platform-admin" })).toEqual({
    apiVersion: "iam.atoll.io/v1alpha1",
    kind: "User",
    metadata: { name: "jane", labels: { "iam.atoll.io/globalrole": "platform-admin" } },
    spec: { email: "jane@example.com", password: "Secret-123", displayName: "Jane" },
  });
});

it("patches only the role label", () => {
  expect(rolePatch("platform-regular")).toEqual({ metadata: { labels: { "iam.atoll.io/globalrole": "platform-regular" } } });
});

it("disables and enables through the status, stamping the change", () => {
  const now = new Date("2026-03-01T10:00:00.123Z");
  expect(statePatch(true, now)).toEqual({ status: { state: "Disabled", lastTransitionTime: "2026-03-01T10:00:00Z" } });
  expect(statePatch(false, now).status.state).toBe("Active");
});

it("reads role, provider and state with their defaults", () => {
  const user = { metadata: { name: "jane" } };
  expect(platformRole(user)).toBe("platform-regular");
  expect(provider(user)).toBe("password");
  expect(userState(user)).toEqual({ text: "Pending", health: "progress" });
  expect(userState({ ...user, status: { state: "Disabled" } })).toEqual({ text: "Disabled", health: "error" });
  expect(provider({ metadata: { name: "x", labels: { "iam.atoll.io/identity-provider": "ldap" } } })).toBe("ldap");
});
