// The audit search's query and how an event reads.
import { auditQuery, codeHealth, rfc3339, target, type AuditEvent } from "./audit";

it("sends only the filters given, trimmed, and the window in RFC 3339", () => {
  const query = auditQuery({ filters: { user: " jane ", verb: "", code: "4xx" }, start: "2026-03-01T10:00", end: "", page: 2, limit: 50 });
  expect(query).toEqual({ page: 2, limit: 50, user: "jane", code: "4xx", start: new Date("2026-03-01T10:00").toISOString(), end: undefined });
});

it("leaves an unreadable time out", () => {
  expect(rfc3339("not a time")).toBeUndefined();
  expect(rfc3339(undefined)).toBeUndefined();
});

it("colours codes by class", () => {
  expect(codeHealth(201)).toBe("ok");
  expect(codeHealth(403)).toBe("warning");
  expect(codeHealth(503)).toBe("error");
});

it("names the target with group, name and subresource", () => {
  const event = { resource: "deployments", api_group: "apps", name: "web", subresource: "scale", path: "/apis/…" } as AuditEvent;
  expect(target(event)).toBe("deployments.apps web/scale");
  expect(target({ ...event, resource: "", path: "/oauth/token" })).toBe("/oauth/token");
});
