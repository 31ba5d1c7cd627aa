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

  it("is not ended by a refusal of a token it no longer holds", async () => {
    signIn("old");
    let answer: (response: Response) => void = () => undefined;
    vi.stubGlobal("fetch", vi.fn(() => new Promise<Response>((resolve) => (answer = resolve))));
    const pending = request("/slow").catch(() => undefined);
    await vi.waitFor(() => expect(fetch).toHaveBeenCalled());
    signIn("new"); // the user logged in again meanwhile
    answer(new Response("{}", { status: 401 }));
    await pending;
    expect(currentTokens()?.accessToken).toBe("new");
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
