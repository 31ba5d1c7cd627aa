/**
 * Requests to Atoll: the access token is attached, error answers become `ApiError`, and a 401
 * renews the token once and sends the request again (a refused renewal ends the session). Kubernetes paths of a cluster go through `/clusters/{cluster}`; the
 * cached list API is `/kapis/resources.atoll.io/v1alpha1`.
 */
import { ApiError, readError } from "./errors";
import { accessToken, currentTokens, expire, refresh } from "./session";

export type Json = Record<string, unknown>;

export interface RequestOptions {
  method?: string;
  body?: unknown;
  contentType?: string;
  query?: Record<string, string | number | boolean | undefined | null>;
  signal?: AbortSignal;
  /** Raw text instead of JSON (pod logs). */
  text?: boolean;
}

export function withQuery(path: string, query?: RequestOptions["query"]): string {
  if (!query) return path;
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value !== undefined && value !== null && value !== "") params.set(key, String(value));
  }
  const text = params.toString();
  return text ? `${path}${path.includes("?") ? "&" : "?"}${text}` : path;
}

export function request<T = Json>(path: string, options: RequestOptions = {}): Promise<T> {
  return send<T>(path, options, false);
}

async function send<T>(path: string, options: RequestOptions, retried: boolean): Promise<T> {
  const headers: Record<string, string> = { Accept: "application/json" };
  const token = await accessToken();
  if (token) headers.Authorization = `Bearer ${token}`;
  let body: BodyInit | undefined;
  if (options.body !== undefined) {
    headers["Content-Type"] = options.contentType ?? "application/json";
    body = typeof options.body === "string" ? options.body : JSON.stringify(options.body);
  }
  let response: Response;
  try {
    response = await fetch(withQuery(path, options.query), {
      method: options.method ?? "GET",
      headers,
      body,
      signal: options.signal,
    });
  } catch (error) {
    if (error instanceof DOMException && error.name === "AbortError") throw error;
    throw new ApiError(0, error instanceof Error ? error.message : String(error));
  }
  if (response.status === 401 && token) {
    // A refused access token is renewed once with the refresh token (a refused refresh ends
    // the session), and the request is sent again with the new one; so is a request sent
    // with a token renewed meanwhile, or before the user logged in again.
    if (!retried) {
      if (currentTokens()?.accessToken === token) await refresh();
      const now = currentTokens();
      if (now && now.accessToken !== token) return send<T>(path, options, true);
    } else if (currentTokens()?.accessToken === token) {
      expire(); // refused even when fresh: the user was disabled, or the token revoked
    }
  }
  if (!response.ok) throw await readError(response);
  if (options.text) return (await response.text()) as T;
  if (response.status === 204) return {} as T;
  const text = await response.text();
  return (text ? JSON.parse(text) : {}) as T;
}

export const api = {
  get: <T = Json>(path: string, query?: RequestOptions["query"], signal?: AbortSignal) =>
    request<T>(path, { query, signal }),
  post: <T = Json>(path: string, body: unknown, query?: RequestOptions["query"]) =>
    request<T>(path, { method: "POST", body, query }),
  put: <T = Json>(path: string, body: unknown) => request<T>(path, { method: "PUT", body }),
  patch: <T = Json>(path: string, body: unknown, type: "merge" | "strategic" | "json" = "merge") =>
    request<T>(path, {
      method: "PATCH",
      body,
      contentType:
        type === "merge"
          ? "application/merge-patch+json"
          : type === "strategic"
            ? "application/strategic-merge-patch+json"
            : "application/json-patch+json",
    }),
  delete: <T = Json>(path: string, body?: unknown) => request<T>(path, { method: "DELETE", body }),
};
