import { act, fireEvent, screen, waitFor } from "@testing-library/react";
import { Pod } from "@/lib/k8s/kinds";
import type { K8sObject } from "@/lib/k8s/types";
import { renderAt, serve } from "@/test/harness";
import { FakeSocket } from "./FakeSocket";
import TerminalTab, { shellContainers } from "./TerminalTab";

// jsdom cannot draw a terminal: a stand-in records what would be drawn and lets the test type.
const drawn: string[] = [];
let typed: ((text: string) => void) | undefined;
vi.mock("@xterm/xterm", () => ({
  Terminal: class {
    cols = 80;
    rows = 24;
    textarea = document.createElement("textarea");
    loadAddon() {}
    open() {}
    focus() {}
    dispose() {}
    write(data: Uint8Array) {
      drawn.push(new TextDecoder().decode(data));
    }
    onData(listener: (text: string) => void) {
      typed = listener;
      return { dispose() {} };
    }
    onResize() {
      return { dispose() {} };
    }
  },
}));
vi.mock("@xterm/addon-fit", () => ({ FitAddon: class { fit() {} } }));

const pod: K8sObject = {
  kind: "Pod",
  metadata: { name: "web-1", namespace: "shop" },
  spec: { initContainers: [{ name: "setup" }, { name: "proxy" }], containers: [{ name: "web" }] },
  status: {
    phase: "Running",
    initContainerStatuses: [
      { name: "setup", state: { terminated: { exitCode: 0 } } },
      { name: "proxy", state: { running: {} } },
    ],
  },
};

beforeEach(() => {
  FakeSocket.made = [];
  drawn.length = 0;
  vi.stubGlobal("WebSocket", FakeSocket);
  localStorage.setItem("atoll.session", JSON.stringify({ accessToken: "tok", refreshToken: "r", expiresAt: Date.now() + 3_600_000 }));
});

afterEach(() => {
  vi.unstubAllGlobals();
  localStorage.clear();
});

describe("TerminalTab", () => {
  it("opens a shell over the exec socket, passes keystrokes and draws output", async () => {
    serve();
    renderAt(<TerminalTab kind={Pod} object={pod} cluster="host" />);
    await waitFor(() => expect(FakeSocket.made).toHaveLength(1));
    const socket = FakeSocket.made[0];
    expect(socket.url).toContain("/clusters/host/api/v1/namespaces/shop/pods/web-1/exec?container=web&command=sh");
    expect(socket.protocols).toEqual(["base64url.bearer.authorization.k8s.io.dG9r", "v4.channel.k8s.io"]);
    act(() => socket.open());
    expect(screen.getByTestId("terminal-status")).toHaveAttribute("data-status", "connected");
    typed?.("ls\r");
    expect(socket.sent.map((frame) => frame[0])).toEqual([4, 0]);
    act(() => socket.receive(1, "file.txt\r\n"));
    expect(drawn).toEqual(["file.txt\r\n"]);
  });

  it("tells the exit code when the shell ends, and reconnects", async () => {
    serve();
    renderAt(<TerminalTab kind={Pod} object={pod} cluster="host" />);
    await waitFor(() => expect(FakeSocket.made).toHaveLength(1));
    const socket = FakeSocket.made[0];
    act(() => {
      socket.open();
      socket.receive(3, JSON.stringify({ status: "Failure", reason: "NonZeroExitCode", details: { causes: [{ reason: "ExitCode", message: "3" }] } }));
      socket.end(1000);
    });
    expect(screen.getByTestId("terminal-ended")).toHaveTextContent("The shell exited with code 3.");
    fireEvent.click(screen.getByTestId("terminal-reconnect"));
    await waitFor(() => expect(FakeSocket.made).toHaveLength(2));
    expect(screen.queryByTestId("terminal-ended")).not.toBeInTheDocument();
  });

  it("says so when it cannot connect", async () => {
    serve();
    renderAt(<TerminalTab kind={Pod} object={pod} cluster="host" />);
    await waitFor(() => expect(FakeSocket.made).toHaveLength(1));
    act(() => FakeSocket.made[0].onerror?.());
    expect(screen.getByTestId("terminal-ended")).toHaveTextContent("Cannot connect to the container");
    expect(screen.getByTestId("terminal-ended")).toHaveTextContent("code 1006");
  });

  it("is not offered to those who may not exec", async () => {
    serve(undefined, false);
    renderAt(<TerminalTab kind={Pod} object={pod} cluster="host" />);
    expect(await screen.findByTestId("terminal-forbidden")).toHaveTextContent("You may not open a shell here");
    expect(FakeSocket.made).toHaveLength(0);
  });

  it("waits for a running pod", async () => {
    serve();
    renderAt(<TerminalTab kind={Pod} object={{ ...pod, status: { phase: "Succeeded" } }} cluster="host" />);
    expect(await screen.findByTestId("terminal-not-running")).toHaveTextContent("this one is Succeeded");
  });
});

describe("shellContainers", () => {
  it("offers regular containers and running init containers (sidecars)", () => {
    expect(shellContainers(pod).map((choice) => choice.name)).toEqual(["proxy", "web"]);
  });
});
