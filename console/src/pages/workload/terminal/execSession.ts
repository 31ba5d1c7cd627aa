/**
 * One exec session: a WebSocket speaking the channel protocol (`channels.ts`), turned into
 * what a terminal needs — output bytes in, keystrokes and size out — and an account of how
 * it ended (the command's exit status, or why the connection failed or closed). The socket
 * is made by a factory so tests can stand in for the server.
 */
import {
  EXEC_PROTOCOL,
  STATUS,
  STDERR,
  STDIN,
  STDOUT,
  bearerProtocol,
  decodeFrame,
  encodeFrame,
  parseStatus,
  resizeFrame,
  type ExitStatus,
} from "./channels";

export interface SessionEnd {
  /** Whether the socket ever opened (no: it could not connect at all). */
  opened: boolean;
  /** The command's status, if the server sent one. */
  status?: ExitStatus;
  code: number;
  reason: string;
}

export interface ExecHandlers {
  onOpen(): void;
  onOutput(data: Uint8Array): void;
  onEnd(end: SessionEnd): void;
}

export type SocketFactory = (url: string, protocols: string[]) => WebSocket;

const OPEN = 1;
/** The close code of a connection that ended without a close frame (or never opened). */
const ABNORMAL_CLOSURE = 1006;

export class ExecSession {
  private readonly socket: WebSocket;
  private opened = false;
  private status?: ExitStatus;
  private size?: { columns: number; rows: number };
  private ended = false;

  constructor(url: string, token: string | null, private readonly handlers: ExecHandlers, factory: SocketFactory = (u, p) => new WebSocket(u, p)) {
    const protocols = token ? [bearerProtocol(token), EXEC_PROTOCOL] : [EXEC_PROTOCOL];
    this.socket = factory(url, protocols);
    this.socket.binaryType = "arraybuffer";
    this.socket.onopen = () => {
      this.opened = true;
      if (this.size) this.socket.send(resizeFrame(this.size.columns, this.size.rows));
      this.handlers.onOpen();
    };
    this.socket.onmessage = (message: MessageEvent) => this.receive(message.data);
    this.socket.onclose = (event: CloseEvent) => this.end(event.code, event.reason);
    // A refused handshake is an error, then a close (1006) in browsers; some clients never
    // send the close, so a failure to connect ends the session here.
    this.socket.onerror = () => {
      if (!this.opened) this.end(ABNORMAL_CLOSURE, "");
    };
  }

  private receive(data: unknown): void {
    if (typeof data === "string" || !(data instanceof ArrayBuffer || data instanceof Uint8Array)) return;
    const frame = decodeFrame(data);
    if (!frame || frame.data.length === 0) return;
    if (frame.channel === STDOUT || frame.channel === STDERR) this.handlers.onOutput(frame.data);
    else if (frame.channel === STATUS) this.status = parseStatus(frame.data);
  }

  private end(code: number, reason: string): void {
    if (this.ended) return;
    this.ended = true;
    this.handlers.onEnd({ opened: this.opened, status: this.status, code, reason });
  }

  /** Keystrokes (or pasted text) for the command's stdin. */
  send(text: string): void {
    if (this.socket.readyState === OPEN) this.socket.send(encodeFrame(STDIN, text));
  }

  /** The terminal's size; sent now if connected, else as soon as it is. */
  resize(columns: number, rows: number): void {
    this.size = { columns, rows };
    if (this.socket.readyState === OPEN) this.socket.send(resizeFrame(columns, rows));
  }

  /** Ends the session from this side (leaving the page, switching container). */
  close(): void {
    this.ended = true;
    this.socket.onclose = null;
    this.socket.onerror = null;
    this.socket.close();
  }
}
