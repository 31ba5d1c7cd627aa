import { ExecSession, type ExecHandlers } from "./execSession";
import { FakeSocket } from "./FakeSocket";

function handlers(): ExecHandlers & { output: string[] } {
  const output: string[] = [];
  return {
    output,
    onOpen: vi.fn(),
    onOutput: (data) => output.push(new TextDecoder().decode(data)),
    onEnd: vi.fn(),
  };
}

function start(token: string | null = "tok") {
  const h = handlers();
  const session = new ExecSession("ws://h/exec", token, h, (url, protocols) => new FakeSocket(url, protocols) as unknown as WebSocket);
  return { session, h, socket: FakeSocket.made[FakeSocket.made.length - 1] };
}

const decoded = (frame: Uint8Array) => [frame[0], new TextDecoder().decode(frame.subarray(1))];

describe("ExecSession", () => {
  it("offers the token and the channel protocol, and reads binary frames", () => {
    const { socket } = start();
    expect(socket.protocols).toEqual(["base64url.bearer.authorization.k8s.io.dG9r", "v4.channel.k8s.io"]);
    expect(socket.binaryType).toBe("arraybuffer");
  });

  it("offers only the channel protocol without a token", () => {
    expect(start(null).socket.protocols).toEqual(["v4.channel.k8s.io"]);
  });

  it("sends the size given before it opened as soon as it opens, then keystrokes", () => {
    const { session, socket, h } = start();
    session.resize(100, 30);
    session.send("ignored before open");
    expect(socket.sent).toEqual([]);
    socket.open();
    expect(h.onOpen).toHaveBeenCalled();
    session.send("ls\r");
    session.resize(90, 20);
    expect(socket.sent.map(decoded)).toEqual([
      [4, '{"Width":100,"Height":30}'],
      [0, "ls\r"],
      [4, '{"Width":90,"Height":20}'],
    ]);
  });

  it("writes stdout and stderr, and reports the exit status when the socket closes", () => {
    const { socket, h } = start();
    socket.open();
    socket.receive(1, "");
    socket.receive(1, "hi\r\n");
    socket.receive(2, "oops\r\n");
    socket.receive(3, '{"status":"Failure","message":"exit code 3","reason":"NonZeroExitCode","details":{"causes":[{"reason":"ExitCode","message":"3"}]}}');
    socket.end(1000);
    expect(h.output).toEqual(["hi\r\n", "oops\r\n"]);
    expect(h.onEnd).toHaveBeenCalledWith({ opened: true, status: { success: false, exitCode: 3, message: "exit code 3" }, code: 1000, reason: "" });
  });

  it("tells a connection that never opened", () => {
    const { socket, h } = start();
    socket.end(1011, "pods \"web\" not found");
    expect(h.onEnd).toHaveBeenCalledWith({ opened: false, status: undefined, code: 1011, reason: 'pods "web" not found' });
  });

  it("ends when the handshake is refused, even without a close event", () => {
    const { socket, h } = start();
    socket.onerror?.();
    expect(h.onEnd).toHaveBeenCalledWith({ opened: false, status: undefined, code: 1006, reason: "" });
    socket.end(1006);
    expect(h.onEnd).toHaveBeenCalledOnce();
  });

  it("waits for the close (and its status) after an error on an open session", () => {
    const { socket, h } = start();
    socket.open();
    socket.onerror?.();
    expect(h.onEnd).not.toHaveBeenCalled();
    socket.end(1006);
    expect(h.onEnd).toHaveBeenCalledWith({ opened: true, status: undefined, code: 1006, reason: "" });
  });

  it("closes quietly when the page ends it", () => {
    const { session, socket, h } = start();
    socket.open();
    session.close();
    expect(socket.closed).toBe(true);
    socket.onclose?.({ code: 1000, reason: "" });
    expect(h.onEnd).not.toHaveBeenCalled();
  });
});
