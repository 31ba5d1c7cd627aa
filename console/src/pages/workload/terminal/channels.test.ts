import {
  RESIZE,
  STDIN,
  STDOUT,
  base64url,
  bearerProtocol,
  decodeFrame,
  encodeFrame,
  execUrl,
  parseStatus,
  resizeFrame,
} from "./channels";

const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
const bytes = (value: string) => new TextEncoder().encode(value);

describe("frames", () => {
  it("puts the channel byte before the UTF-8 payload", () => {
    expect([...encodeFrame(STDIN, "ls ✓\r")]).toEqual([0, 108, 115, 32, 0xe2, 0x9c, 0x93, 13]);
  });

  it("reads channel and payload back", () => {
    const frame = decodeFrame(encodeFrame(STDOUT, "héllo").buffer as ArrayBuffer);
    expect(frame?.channel).toBe(STDOUT);
    expect(text(frame!.data)).toBe("héllo");
  });

  it("reads a frame from a view into a larger buffer", () => {
    const buffer = Uint8Array.of(9, 9, 2, 104, 105, 9);
    const frame = decodeFrame(buffer.subarray(2, 5));
    expect(frame).toEqual({ channel: 2, data: Uint8Array.of(104, 105) });
  });

  it("takes an empty message for nothing", () => {
    expect(decodeFrame(new ArrayBuffer(0))).toBeNull();
  });

  it("sends the terminal size as JSON on channel 4", () => {
    const frame = resizeFrame(120, 40);
    expect(frame[0]).toBe(RESIZE);
    expect(JSON.parse(text(frame.subarray(1)))).toEqual({ Width: 120, Height: 40 });
  });
});

describe("parseStatus", () => {
  it("reads success", () => {
    expect(parseStatus(bytes('{"metadata":{},"status":"Success"}'))).toEqual({ success: true, exitCode: 0 });
  });

  it("reads the exit code of a command that failed", () => {
    const status = {
      metadata: {},
      status: "Failure",
      message: "command terminated with non-zero exit code: exit code 3",
      reason: "NonZeroExitCode",
      details: { causes: [{ reason: "ExitCode", message: "3" }] },
    };
    expect(parseStatus(bytes(JSON.stringify(status)))).toEqual({ success: false, exitCode: 3, message: status.message });
  });

  it("keeps the message of a failure without an exit code", () => {
    expect(parseStatus(bytes('{"status":"Failure","message":"container not found (\\"web\\")"}'))).toEqual({
      success: false,
      exitCode: undefined,
      message: 'container not found ("web")',
    });
  });

  it("passes plain text through (older protocol versions)", () => {
    expect(parseStatus(bytes("something broke\n"))).toEqual({ success: false, message: "something broke" });
  });
});

describe("bearerProtocol", () => {
  it("carries the token unpadded base64url", () => {
    expect(base64url(Uint8Array.of(0xfb, 0xff))).toBe("-_8");
    expect(bearerProtocol("abc.def")).toBe("base64url.bearer.authorization.k8s.io.YWJjLmRlZg");
  });
});

describe("execUrl", () => {
  it("runs the shell chooser with every stream and a TTY, on the page's origin", () => {
    const url = new URL(execUrl({ cluster: "host", namespace: "shop", pod: "web-1", container: "web" }, { protocol: "https:", host: "atoll.example:8443" }));
    expect(url.protocol).toBe("wss:");
    expect(url.host).toBe("atoll.example:8443");
    expect(url.pathname).toBe("/clusters/host/api/v1/namespaces/shop/pods/web-1/exec");
    expect(url.searchParams.get("container")).toBe("web");
    expect(url.searchParams.getAll("command")).toEqual([
      "sh",
      "-c",
      'export TERM="${TERM:-xterm-256color}"; command -v bash >/dev/null && exec bash || exec sh',
    ]);
    for (const stream of ["stdin", "stdout", "stderr", "tty"]) expect(url.searchParams.get(stream)).toBe("true");
  });

  it("uses ws on plain http and a given command", () => {
    const url = new URL(execUrl({ cluster: "c", namespace: "n", pod: "p", container: "x", command: ["date"] }, { protocol: "http:", host: "h" }));
    expect(url.protocol).toBe("ws:");
    expect(url.searchParams.getAll("command")).toEqual(["date"]);
  });
});
