/**
 * A container's log, read as it is written: `GET …/pods/<pod>/log?follow=true` answers with
 * a body that never ends while the container runs, so it is read chunk by chunk (the
 * shared client reads whole answers). Lines are handed to the page in batches, at most a
 * few times a second, however fast the container writes. Switching container or options,
 * or leaving the page, aborts the request.
 */
import { useEffect, useState } from "react";
import { withQuery } from "@/lib/api/client";
import { ApiError, readError } from "@/lib/api/errors";
import { accessToken, expire } from "@/lib/api/session";
import { Pod } from "@/lib/k8s/kinds";
import { LineSplitter, NO_LINES, appendCapped, type LogLines } from "./lines";

export interface LogOptions {
  container: string;
  follow: boolean;
  /** The previous (terminated) instance of the container. */
  previous: boolean;
  timestamps: boolean;
  tailLines?: number;
}

export const TAIL_LINES = 1000;
const BATCH_MS = 200;

export function logPath(cluster: string, namespace: string | undefined, pod: string, options: LogOptions): string {
  return withQuery(Pod.path(cluster, namespace, pod, "log"), {
    container: options.container,
    follow: options.follow && !options.previous ? "true" : undefined,
    previous: options.previous ? "true" : undefined,
    timestamps: options.timestamps ? "true" : undefined,
    tailLines: options.tailLines ?? TAIL_LINES,
  });
}

export interface LogHandlers {
  /** The server answered: the log is being read. */
  onOpen(): void;
  onLines(lines: string[]): void;
}

/** Reads the log at `path` to its end (never, when following), handing over whole lines. */
export async function streamLog(path: string, { onOpen, onLines }: LogHandlers, signal: AbortSignal): Promise<void> {
  const token = await accessToken();
  let response: Response;
  try {
    response = await fetch(path, { headers: token ? { Authorization: `Bearer ${token}` } : {}, signal });
  } catch (error) {
    if (signal.aborted) throw error;
    throw new ApiError(0, error instanceof Error ? error.message : String(error));
  }
  if (response.status === 401 && token) expire();
  if (!response.ok) throw await readError(response);
  onOpen();
  const splitter = new LineSplitter();
  if (!response.body) {
    const lines = splitter.push(new Uint8Array(await response.arrayBuffer())).concat(splitter.end());
    if (lines.length) onLines(lines);
    return;
  }
  const reader = response.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    const lines = splitter.push(value);
    if (lines.length) onLines(lines);
  }
  const rest = splitter.end();
  if (rest.length) onLines(rest);
}

export type StreamStatus = "connecting" | "open" | "ended" | "failed";

export interface LogStream extends LogLines {
  status: StreamStatus;
  error: unknown;
  clear(): void;
  /** Reads the log again from the start (after it ended or failed). */
  reconnect(): void;
}

/** The log at `path`, as it grows; none while `path` is null. */
export function useLogStream(path: string | null): LogStream {
  const [log, setLog] = useState<LogLines>(NO_LINES);
  const [status, setStatus] = useState<StreamStatus>("connecting");
  const [error, setError] = useState<unknown>(null);
  const [attempt, setAttempt] = useState(0);

  useEffect(() => {
    if (!path) return;
    const controller = new AbortController();
    let pending: string[] = [];
    let timer: ReturnType<typeof setTimeout> | null = null;
    const flush = () => {
      if (timer) clearTimeout(timer);
      timer = null;
      const batch = pending;
      pending = [];
      setLog((current) => appendCapped(current, batch));
    };
    setLog(NO_LINES);
    setStatus("connecting");
    setError(null);
    streamLog(
      path,
      {
        onOpen: () => setStatus("open"),
        onLines: (lines) => {
          pending = pending.concat(lines);
          timer ??= setTimeout(flush, BATCH_MS);
        },
      },
      controller.signal,
    ).then(
      () => {
        if (controller.signal.aborted) return;
        flush();
        setStatus("ended");
      },
      (caught: unknown) => {
        if (controller.signal.aborted) return;
        flush();
        setError(caught);
        setStatus("failed");
      },
    );
    return () => {
      controller.abort();
      if (timer) clearTimeout(timer);
    };
  }, [path, attempt]);

  return {
    ...log,
    status,
    error,
    clear: () => setLog(NO_LINES),
    reconnect: () => setAttempt((count) => count + 1),
  };
}
