/**
 * Kubernetes' exec protocol over a WebSocket (`v4.channel.k8s.io`): every binary message is
 * one channel byte — 0 stdin, 1 stdout, 2 stderr, 3 the exit status (a JSON `Status`),
 * 4 terminal size (`{"Width":…,"Height":…}`) — then the payload. A browser cannot set an
 * Authorization header on a WebSocket, so the token travels as one more offered
 * subprotocol, `base64url.bearer.authorization.k8s.io.<token>`, which the API server (and
 * Atoll's proxy) strip before choosing the channel protocol.
 */
import { Pod } from "@/lib/k8s/kinds";

export const STDIN = 0;
export const STDOUT = 1;
export const STDERR = 2;
export const STATUS = 3;
export const RESIZE = 4;

export const EXEC_PROTOCOL = "v4.channel.k8s.io";
export const BEARER_PROTOCOL_PREFIX = "base64url.bearer.authorization.k8s.io.";

/**
 * bash where the image has it, else sh; and a TERM for programs that need one (a TTY from
 * exec does not always carry it).
 */
export const SHELL_COMMAND = ["sh", "-c", 'export TERM="${TERM:-xterm-256color}"; command -v bash >/dev/null && exec bash || exec sh'];

const encoder = new TextEncoder();

export function base64url(bytes: Uint8Array): string {
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

export function bearerProtocol(token: string): string {
  return BEARER_PROTOCOL_PREFIX + base64url(encoder.encode(token));
}

export function encodeFrame(channel: number, data: string | Uint8Array): Uint8Array {
  const payload = typeof data === "string" ? encoder.encode(data) : data;
  const frame = new Uint8Array(payload.length + 1);
  frame[0] = channel;
  frame.set(payload, 1);
  return frame;
}

export interface Frame {
  channel: number;
  data: Uint8Array;
}

/** A received message as channel and payload; null for an empty one. */
export function decodeFrame(message: ArrayBuffer | Uint8Array): Frame | null {
  const bytes = message instanceof Uint8Array ? message : new Uint8Array(message);
  if (bytes.length === 0) return null;
  return { channel: bytes[0], data: bytes.subarray(1) };
}

export function resizeFrame(columns: number, rows: number): Uint8Array {
  return encodeFrame(RESIZE, JSON.stringify({ Width: columns, Height: rows }));
}

export interface ExitStatus {
  success: boolean;
  /** The command's exit code, when it ran and exited. */
  exitCode?: number;
  /** The server's words when it did not succeed. */
  message?: string;
}

interface StatusBody {
  status?: string;
  message?: string;
  reason?: string;
  details?: { causes?: { reason?: string; message?: string }[] };
}

/** The status sent on channel 3 when the command ends (or could not start). */
export function parseStatus(data: Uint8Array): ExitStatus {
  const text = new TextDecoder().decode(data);
  let body: StatusBody;
  try {
    body = JSON.parse(text) as StatusBody;
  } catch {
    return { success: false, message: text.trim() };
  }
  if (body.status === "Success") return { success: true, exitCode: 0 };
  const cause = body.details?.causes?.find((candidate) => candidate.reason === "ExitCode");
  const code = cause?.message === undefined ? Number.NaN : Number(cause.message);
  return { success: false, exitCode: Number.isInteger(code) ? code : undefined, message: body.message };
}

export interface ExecTarget {
  cluster: string;
  namespace: string;
  pod: string;
  container: string;
  command?: string[];
}

/** The exec WebSocket's URL on the page's own origin. */
export function execUrl(target: ExecTarget, origin: { protocol: string; host: string } = location): string {
  const params = new URLSearchParams({ container: target.container });
  for (const part of target.command ?? SHELL_COMMAND) params.append("command", part);
  for (const stream of ["stdin", "stdout", "stderr", "tty"]) params.set(stream, "true");
  const scheme = origin.protocol === "https:" ? "wss" : "ws";
  return `${scheme}://${origin.host}${Pod.path(target.cluster, target.namespace, target.pod, "exec")}?${params.toString()}`;
}
