import { WatchSocket } from "./watch";

class FakeSocket {
  static made: FakeSocket[] = [];
  readyState = 0;
  sent: Record<string, unknown>[] = [];
  onopen: (() => void) | null = null;
  onmessage: ((message: { data: string }) => void) | null = null;
  onclose: (() => void) | null = null;
  constructor(
    readonly url: string,
    readonly protocols?: string[],
  ) {
    FakeSocket.made.push(this);
  }
  send(data: string) {
    this.sent.push(JSON.parse(data));
  }
  close() {
    this.readyState = 3;
    this.onclose?.();
  }
  open() {
    this.readyState = 1;
    this.onopen?.();
  }
  receive(frame: object) {
    this.onmessage?.({ data: JSON.stringify(frame) });
  }
}

beforeEach(() => {
  FakeSocket.made = [];
  vi.stubGlobal("WebSocket", { OPEN: 1 });
  localStorage.setItem("atoll.session", JSON.stringify({ accessToken: "tok", refreshToken: "r", expiresAt: Date.now() + 3_600_000 }));
});

async function opened(subscribe: () => void): Promise<FakeSocket> {
  subscribe();
  await vi.waitFor(() => expect(FakeSocket.made.length).toBe(1));
  const fake = FakeSocket.made[0];
  fake.open();
  return fake;
}

describe("WatchSocket", () => {
  it("authenticates with the bearer subprotocol and subscribes once open", async () => {
    const socket = new WatchSocket(() => "ws://x/watches", (url, protocols) => new FakeSocket(url, protocols) as unknown as WebSocket);
    const events: string[] = [];
    const fake = await opened(() =>
      socket.subscribe({ cluster: "host", group: "", resource: "pods", namespace: "web", resourceVersion: "42" }, { onEvent: (type) => events.push(type) }),
    );
    expect(fake.protocols?.[0]).toBe(`base64url.bearer.authorization.k8s.io.${btoa("tok").replace(/=+$/, "")}`);
    expect(fake.sent[0]).toMatchObject({ op: "subscribe", cluster: "host", resource: "pods", namespace: "web", resourceVersion: "42" });
    const id = fake.sent[0].id;
    fake.receive({ id, type: "SUBSCRIBED" });
    fake.receive({ id, type: "MODIFIED", object: { metadata: { name: "a", resourceVersion: "43" } } });
    fake.receive({ id: "other", type: "ADDED", object: {} });
    expect(events).toEqual(["MODIFIED"]);
  });

  it("resumes from the last resourceVersion after a reconnect", async () => {
    vi.useFakeTimers({ toFake: ["setTimeout"] });
    const socket = new WatchSocket(() => "ws://x/watches", (url, protocols) => new FakeSocket(url, protocols) as unknown as WebSocket);
    const fake = await opened(() => socket.subscribe({ cluster: "host", group: "apps", resource: "deployments" }, { onEvent: () => undefined }));
    const id = fake.sent[0].id;
    fake.receive({ id, type: "BOOKMARK", object: { metadata: { resourceVersion: "99" } } });
    fake.readyState = 3;
    fake.onclose?.();
    await vi.advanceTimersByTimeAsync(600);
    vi.useRealTimers();
    await vi.waitFor(() => expect(FakeSocket.made.length).toBe(2));
    FakeSocket.made[1].open();
    expect(FakeSocket.made[1].sent[0]).toMatchObject({ id, resourceVersion: "99" });
  });

  it("unsubscribes, and an ERROR ends only its subscription", async () => {
    const socket = new WatchSocket(() => "ws://x/watches", (url, protocols) => new FakeSocket(url, protocols) as unknown as WebSocket);
    const errors: unknown[] = [];
    let stop = () => undefined as void;
    const fake = await opened(() => {
      stop = socket.subscribe({ cluster: "host", group: "", resource: "pods" }, { onEvent: () => undefined, onError: (status) => errors.push(status) });
    });
    const id = fake.sent[0].id;
    fake.receive({ id, type: "ERROR", status: { code: 403, message: "no" } });
    expect(errors).toEqual([{ code: 403, message: "no" }]);
    stop();
    expect(fake.sent.length).toBe(1); // already gone: nothing to unsubscribe
  });
});
