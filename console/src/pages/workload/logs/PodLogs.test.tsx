import type { ReactNode } from "react";
import { act, fireEvent, screen, waitFor } from "@testing-library/react";
import type { K8sObject } from "@/lib/k8s/types";
import { renderAt } from "@/test/harness";
import { PodLogs } from "./PodLogs";

// jsdom lays nothing out, so PatternFly's virtualized viewer would show no rows: a plain
// stand-in shows every line (the viewer itself is PatternFly's to test).
vi.mock("@patternfly/react-log-viewer", () => ({
  LogViewer: ({ data, toolbar }: { data: string[]; toolbar: ReactNode }) => (
    <div>
      {toolbar}
      <ol data-testid="log-lines">
        {data.map((line, at) => (
          <li key={at}>{line}</li>
        ))}
      </ol>
    </div>
  ),
  LogViewerSearch: ({ placeholder }: { placeholder: string }) => <input aria-label={placeholder} />,
}));

const pod: K8sObject = {
  kind: "Pod",
  metadata: { name: "web-1", namespace: "shop" },
  spec: { initContainers: [{ name: "setup" }], containers: [{ name: "web" }, { name: "sidecar" }] },
  status: { phase: "Running" },
};

interface Opened {
  url: string;
  signal: AbortSignal;
  write(text: string): void;
  close(): void;
}

/** A fetch whose log answers stay open until the test writes to and closes them. */
function serveLogs(refuse?: (url: string) => { status: number; body: unknown } | undefined): Opened[] {
  const opened: Opened[] = [];
  vi.stubGlobal(
    "fetch",
    vi.fn(async (url: string, init: RequestInit = {}) => {
      const refused = refuse?.(url);
      if (refused) return new Response(JSON.stringify(refused.body), { status: refused.status });
      let control!: ReadableStreamDefaultController<Uint8Array>;
      const body = new ReadableStream<Uint8Array>({ start: (controller) => void (control = controller) });
      const signal = init.signal!;
      signal.addEventListener("abort", () => control.error(new DOMException("aborted", "AbortError")));
      opened.push({
        url,
        signal,
        write: (text) => control.enqueue(new TextEncoder().encode(text)),
        close: () => control.close(),
      });
      return new Response(body, { status: 200 });
    }),
  );
  return opened;
}

const lines = () => [...screen.getByTestId("log-lines").querySelectorAll("li")].map((item) => item.textContent);

afterEach(() => vi.unstubAllGlobals());

describe("PodLogs", () => {
  it("follows the default container's log, showing lines as they come", async () => {
    const opened = serveLogs();
    renderAt(<PodLogs cluster="host" pod={pod} />);
    await waitFor(() => expect(opened).toHaveLength(1));
    expect(opened[0].url).toBe("/clusters/host/api/v1/namespaces/shop/pods/web-1/log?container=web&follow=true&tailLines=1000");
    act(() => opened[0].write("first line\nsecond "));
    act(() => opened[0].write("half\n"));
    await waitFor(() => expect(lines()).toEqual(["first line", "second half"]));
    expect(screen.getByTestId("logs-status")).toHaveAttribute("data-status", "live");
    act(() => opened[0].close());
    expect(await screen.findByTestId("logs-ended")).toBeInTheDocument();
  });

  it("switching container stops the old stream and starts another", async () => {
    const opened = serveLogs();
    renderAt(<PodLogs cluster="host" pod={pod} />);
    await waitFor(() => expect(opened).toHaveLength(1));
    fireEvent.click(screen.getByTestId("logs-container"));
    fireEvent.click(await screen.findByText("sidecar"));
    await waitFor(() => expect(opened).toHaveLength(2));
    expect(opened[0].signal.aborted).toBe(true);
    expect(opened[1].url).toContain("container=sidecar");
  });

  it("asks for timestamps, and for the previous instance without following", async () => {
    const opened = serveLogs();
    renderAt(<PodLogs cluster="host" pod={pod} />);
    await waitFor(() => expect(opened).toHaveLength(1));
    fireEvent.click(screen.getByLabelText("Timestamps"));
    await waitFor(() => expect(opened.at(-1)?.url).toContain("timestamps=true"));
    fireEvent.click(screen.getByLabelText("Previous instance"));
    await waitFor(() => expect(opened.at(-1)?.url).toContain("previous=true"));
    expect(opened.at(-1)?.url).not.toContain("follow=true");
    expect(screen.getByLabelText("Follow")).toBeDisabled();
  });

  it("says in words why the log cannot be read", async () => {
    serveLogs((url) =>
      url.includes("previous=true")
        ? { status: 400, body: { kind: "Status", message: 'previous terminated container "web" in pod "web-1" not found', code: 400 } }
        : undefined,
    );
    renderAt(<PodLogs cluster="host" pod={pod} />);
    fireEvent.click(screen.getByLabelText("Previous instance"));
    expect(await screen.findByTestId("logs-error")).toHaveTextContent('previous terminated container "web" in pod "web-1" not found');
  });

  it("downloads what is shown, and clears it", async () => {
    const opened = serveLogs();
    const saved: Blob[] = [];
    const createObjectURL = vi.fn((blob: Blob) => {
      saved.push(blob);
      return "blob:log";
    });
    const original = { create: URL.createObjectURL, revoke: URL.revokeObjectURL };
    URL.createObjectURL = createObjectURL;
    URL.revokeObjectURL = vi.fn();
    const click = vi.spyOn(HTMLAnchorElement.prototype, "click").mockImplementation(function (this: HTMLAnchorElement) {
      expect(this.download).toBe("web-1-web.log");
    });
    renderAt(<PodLogs cluster="host" pod={pod} />);
    await waitFor(() => expect(opened).toHaveLength(1));
    act(() => opened[0].write("a ✓\nb\n"));
    await waitFor(() => expect(lines()).toEqual(["a ✓", "b"]));
    fireEvent.click(screen.getByTestId("logs-download"));
    expect(click).toHaveBeenCalled();
    expect(await saved[0].text()).toBe("a ✓\nb\n");
    fireEvent.click(screen.getByTestId("logs-clear"));
    expect(lines()).toEqual([]);
    click.mockRestore();
    URL.createObjectURL = original.create;
    URL.revokeObjectURL = original.revoke;
  });
});
