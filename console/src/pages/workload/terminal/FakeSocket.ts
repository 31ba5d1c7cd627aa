/**
 * For the terminal's tests: a stand-in for the browser's WebSocket that records what the
 * page sends and lets the test play the server (open, send frames, close). Only tests
 * import it.
 */
import { encodeFrame } from "./channels";

export class FakeSocket {
  /** Every socket made since the test emptied the list. */
  static made: FakeSocket[] = [];
  readyState = 0;
  binaryType = "blob";
  sent: Uint8Array[] = [];
  closed = false;
  onopen: (() => void) | null = null;
  onmessage: ((event: { data: unknown }) => void) | null = null;
  onclose: ((event: { code: number; reason: string }) => void) | null = null;
  onerror: (() => void) | null = null;

  constructor(
    readonly url: string,
    readonly protocols: string[],
  ) {
    FakeSocket.made.push(this);
  }

  send(data: Uint8Array) {
    this.sent.push(data);
  }

  close() {
    this.closed = true;
  }

  open() {
    this.readyState = 1;
    this.onopen?.();
  }

  receive(channel: number, text: string) {
    this.onmessage?.({ data: encodeFrame(channel, text).buffer });
  }

  end(code: number, reason = "") {
    this.readyState = 3;
    this.onclose?.({ code, reason });
  }
}
