import { currentTokens, expire, onExpired } from "./session";
import { request } from "./client";

function signIn(token: string): void {
  localStorage.setItem("atoll.session", JSON.stringify({ accessToken: token, refreshToken: "r", expiresAt: Date.now() + 3_600_000 }));
}

describe("a session that ends", () => {
  afterEach(() => vi.unstubAllGlobals());

  it("tells the app once, however many requests are refused", async () => {
    signIn("old");
    const told = vi.fn();
    const stop = onExpired(told);
    vi.stubGlobal("fetch", vi.fn(async () => new Response(JSON.stringify({ kind: "Status", message: "the token is not valid", code: 401 }), { status: 401 })));
    await Promise.allSettled([request("/a"), request("/b"), request("/c")]);
    expect(told).toHaveBeenCalledTimes(1);
    expect(currentTokens()).toBeNull();
    stop();
  });

  it("is not ended by a refusal of a token it no longer holds, and asks again with the new one", async () => {
    signIn("old");
    let answer: (response: Response) => void = () => undefined;
    const sent: string[] = [];
    vi.stubGlobal(
      "fetch",
      vi.fn((_url: string, init: RequestInit) => {
        sent.push(String((init.headers as Record<string, string>).Authorization));
        if (sent.length > 1) return Promise.resolve(new Response('{"done": true}', { status: 200 }));
        return new Promise<Response>((resolve) => (answer = resolve));
      }),
    );
    const pending = request("/slow");
    await vi.waitFor(() => expect(fetch).toHaveBeenCalled());
    signIn("new"); // the user logged in again meanwhile
    answer(new Response("{}", { status: 401 }));
    await expect(pending).resolves.toEqual({ done: true });
    expect(sent).toEqual(["Bearer old", "Bearer new"]);
    expect(currentTokens()?.accessToken).toBe("new");
  });

  it("renews a refused token once, however many requests were refused, and asks again", async () => {
    signIn("old");
    const told = vi.fn();
    const stop = onExpired(told);
    let grants = 0;
    vi.stubGlobal(
      "fetch",
      vi.fn(async (url: string, init: RequestInit) => {
        if (url === "/oauth/token") {
          grants += 1;
          expect(String(init.body)).toContain("grant_type=refresh_token&refresh_token=r");
          return new Response(JSON.stringify({ access_token: "fresh", refresh_token: "r2", expires_in: 3600 }));
        }
        const bearer = (init.headers as Record<string, string>).Authorization;
        if (bearer === "Bearer old") return new Response("{}", { status: 401 });
        return new Response(JSON.stringify({ path: url }));
      }),
    );
    const answers = await Promise.all([request("/a"), request("/b"), request("/c")]);
    expect(answers).toEqual([{ path: "/a" }, { path: "/b" }, { path: "/c" }]);
    expect(grants).toBe(1);
    expect(currentTokens()).toMatchObject({ accessToken: "fresh", refreshToken: "r2" });
    expect(told).not.toHaveBeenCalled();
    stop();
  });

  it("ends when even a renewed token is refused", async () => {
    signIn("old");
    const told = vi.fn();
    const stop = onExpired(told);
    vi.stubGlobal(
      "fetch",
      vi.fn(async (url: string) =>
        url === "/oauth/token"
          ? new Response(JSON.stringify({ access_token: "fresh", refresh_token: "r2", expires_in: 3600 }))
          : new Response(JSON.stringify({ kind: "Status", message: "the user is disabled", code: 401 }), { status: 401 }),
      ),
    );
    await expect(request("/a")).rejects.toMatchObject({ status: 401 });
    expect(told).toHaveBeenCalledTimes(1);
    expect(currentTokens()).toBeNull();
    expect(fetch).toHaveBeenCalledTimes(3); // the request, the renewal, the request again
    stop();
  });

  it("does nothing when already over", () => {
    localStorage.removeItem("atoll.session");
    const told = vi.fn();
    const stop = onExpired(told);
    expire();
    expect(told).not.toHaveBeenCalled();
    stop();
  });
});
