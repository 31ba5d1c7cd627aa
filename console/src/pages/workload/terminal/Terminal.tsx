/**
 * An xterm.js terminal joined to one exec session: what the container writes is drawn,
 * what the user types is sent, and the terminal's size follows its box (fit add-on) and is
 * passed on so full-screen programs lay out right. Mounted once per session: the parent
 * remounts it (a new `key`) to reconnect.
 */
import { useEffect, useRef } from "react";
import { Terminal as XTerm } from "@xterm/xterm";
import { FitAddon } from "@xterm/addon-fit";
import "@xterm/xterm/css/xterm.css";
import "../workload.css";
import { accessToken } from "@/lib/api/session";
import { execUrl, type ExecTarget } from "./channels";
import { ExecSession, type SessionEnd, type SocketFactory } from "./execSession";

export interface TerminalProps {
  target: ExecTarget;
  /** Read by screen readers for the terminal's input. */
  label: string;
  onOpen(): void;
  onEnd(end: SessionEnd): void;
  /** Tests stand in for the server. */
  socketFactory?: SocketFactory;
}

export function Terminal({ target, label, onOpen, onEnd, socketFactory }: TerminalProps) {
  const box = useRef<HTMLDivElement>(null);
  // The parent's callbacks change every render; the session must not restart with them.
  const callbacks = useRef({ onOpen, onEnd });
  useEffect(() => {
    callbacks.current = { onOpen, onEnd };
  });
  const { cluster, namespace, pod, container } = target;

  useEffect(() => {
    const element = box.current;
    if (!element) return;
    const terminal = new XTerm({ cursorBlink: true, convertEol: false, scrollback: 5000, fontSize: 13 });
    const fit = new FitAddon();
    terminal.loadAddon(fit);
    terminal.open(element);
    terminal.textarea?.setAttribute("aria-label", label);
    let session: ExecSession | null = null;
    let gone = false;
    const refit = () => {
      try {
        fit.fit();
      } catch {
        // not laid out yet (hidden tab): the next resize fits it
      }
    };
    refit();
    const observer = new ResizeObserver(refit);
    observer.observe(element);
    const typed = terminal.onData((text) => session?.send(text));
    const resized = terminal.onResize(({ cols, rows }) => session?.resize(cols, rows));

    void accessToken().then((token) => {
      if (gone) return;
      session = new ExecSession(
        execUrl({ cluster, namespace, pod, container }),
        token,
        {
          onOpen: () => {
            terminal.focus();
            callbacks.current.onOpen();
          },
          onOutput: (data) => terminal.write(data),
          onEnd: (end) => callbacks.current.onEnd(end),
        },
        socketFactory,
      );
      session.resize(terminal.cols, terminal.rows);
    });

    return () => {
      gone = true;
      observer.disconnect();
      typed.dispose();
      resized.dispose();
      session?.close();
      terminal.dispose();
    };
  }, [cluster, namespace, pod, container, label, socketFactory]);

  // The fit add-on sizes the terminal to its parent's height, padding included: the padding
  // goes on an outer box.
  return (
    <div className="atoll-terminal" data-testid="terminal">
      <div ref={box} className="atoll-terminal__screen" />
    </div>
  );
}
