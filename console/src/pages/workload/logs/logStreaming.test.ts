import { ApiError } from "@/lib/api/errors";
import { logPath, streamLog } from "./logStreaming";

/** A response whose body arrives in the given chunks. */
function streaming(chunks: (string | Uint8Array)[], status = 200): Response {
  const encoder = new TextEncoder();
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      for (const chunk of chunks) controller.enqueue(typeof chunk === "string" ? encoder.encode(chunk) : chunk);
      controller.close();
    },
  });
  return new Response(body, { status });
}

describe("logPath", () => {
  it("asks for a followed tail of the container's log", () => {
    expect(logPath("host", "shop", "web-1", { container: "web", follow: true, previous: false, timestamps: true })).toBe(
      "/clusters/host/api/v1/namespaces/shop/pods/web-1/log?container=web&follow=true&timestamps=true&tailLines=1000",
    );
  });

  it("does not follow the previous instance", () => {
    expect(logPath("host", "shop", "web-1", { container: "web", follow: true, previous: true, timestamps: false })).toBe(
      "/clusters/host/api/v1/namespaces/shop/pods/web-1/log?container=web&previous=true&tailLines=1000",
    );
  });
});

describe("streamLog", () => {
  afterEach(() => vi.unstubAllGlobals());

  it("hands over whole lines as the body arrives, with the bearer token", async () => {
    localStorage.setItem("atoll.session", JSON.stringify({ accessToken: "tok", refreshToken: "r", expiresAt: Date.now() + 3_600_000 }));
    const fetch = vi.fn(async () => streaming(["a\nb", "c\n", "d"]));
    vi.stubGlobal("fetch", fetch);
    const got: string[][] = [];
    const opened = vi.fn();
    await streamLog("/log", { onOpen: opened, onLines: (lines) => got.push(lines) }, new AbortController().signal);
    expect(got).toEqual([["a"], ["bc"], ["d"]]);
    expect(opened).toHaveBeenCalledOnce();
    expect(fetch).toHaveBeenCalledWith("/log", expect.objectContaining({ headers: { Authorization: "Bearer tok" } }));
    localStorage.clear();
  });

  it("throws the server's words for an error answer", async () => {
    vi.stubGlobal(
      "fetch",
      vi.fn(async () =>
        Response.json(
          { kind: "Status", status: "Failure", message: 'previous terminated container "web" in pod "web-1" not found', reason: "BadRequest", code: 400 },
          { status: 400 },
        ),
      ),
    );
    const failure = streamLog("/log", { onOpen: vi.fn(), onLines: vi.fn() }, new AbortController().signal);
    await expect(failure).rejects.toBeInstanceOf(ApiError);
    await expect(failure).rejects.toThrow('previous terminated container "web" in pod "web-1" not found');
  });

  it("says the server cannot be reached when fetch fails", async () => {
    vi.stubGlobal("fetch", vi.fn(async () => Promise.reject(new TypeError("Failed to fetch"))));
    await expect(streamLog("/log", { onOpen: vi.fn(), onLines: vi.fn() }, new AbortController().signal)).rejects.toMatchObject({ status: 0 });
  });
});
