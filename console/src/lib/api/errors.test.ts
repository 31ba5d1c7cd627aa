import { ApiError, describe as say, readError } from "./errors";

describe("readError", () => {
  it("reads a Kubernetes Status", async () => {
    const response = new Response(JSON.stringify({ kind: "Status", message: 'pods "x" not found', reason: "NotFound", code: 404 }), { status: 404 });
    const error = await readError(response);
    expect(error).toBeInstanceOf(ApiError);
    expect(error.status).toBe(404);
    expect(error.message).toBe('pods "x" not found');
    expect(error.notFound).toBe(true);
  });
  it("reads problem+json", async () => {
    const response = new Response(JSON.stringify({ type: "about:blank", title: "Forbidden", detail: "you may not list users", status: 403 }), { status: 403 });
    const error = await readError(response);
    expect(error.message).toBe("you may not list users");
    expect(error.forbidden).toBe(true);
  });
  it("keeps a plain text answer's words", async () => {
    const error = await readError(new Response("upstream broke", { status: 502, statusText: "Bad Gateway" }));
    expect(error.message).toBe("upstream broke");
    expect(error.transient).toBe(true);
  });
  it("says when the server cannot be reached", () => {
    expect(say(new ApiError(0, "Failed to fetch"))).toContain("cannot be reached");
  });
});
