/**
 * What the component tests share: a fake Atoll behind `fetch`, and rendering inside the
 * providers a page has (a fresh query client that does not retry, and a router).
 *
 * The fake answers the machinery every page uses by itself, without recording it: access
 * reviews (as the test says: all allowed, all refused, or review by review) and the OpenAPI
 * schema (empty). Every other call is recorded and answered by the test; what the test does
 * not answer is a 404, as from a server that has none of it. Only tests import this.
 */
import type { ReactElement, ReactNode } from "react";
import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { act, render, waitFor } from "@testing-library/react";
import { MemoryRouter, Route, Routes } from "react-router-dom";

/** One call the page made. */
export interface Call {
  method: string;
  url: string;
  /** The `Content-Type` it sent. */
  contentType?: string;
  /** What it sent, read as JSON. */
  body?: unknown;
}

/** The test's answer to a call; undefined: not found. */
export type Answer = (call: Call) => Response | undefined;

/** Whether an access review is allowed: the same answer to all, or review by review. */
export type Allowed = boolean | ((review: Record<string, string>) => boolean);

export function json(body: unknown, status = 200): Response {
  return new Response(JSON.stringify(body), { status, headers: { "Content-Type": "application/json" } });
}

/** A refusal as Atoll's own API words it (problem+json). */
export function problem(status: number, detail: string): Response {
  return new Response(JSON.stringify({ title: "refused", status, detail }), { status, headers: { "Content-Type": "application/problem+json" } });
}

/** A refusal as the Kubernetes API words it (a `Status`). */
export function refusal(code: number, message: string, reason = ""): Response {
  return json({ kind: "Status", status: "Failure", code, reason, message }, code);
}

/** A page of a list, as the cached list API answers. */
export function list(items: unknown[]): Response {
  return json({ items, totalItems: items.length });
}

/** Puts the fake Atoll behind `fetch`; returns the calls it records, as they come. */
export function serve(answer: Answer = () => undefined, allowed: Allowed = true): Call[] {
  const calls: Call[] = [];
  vi.stubGlobal(
    "fetch",
    vi.fn(async (input: RequestInfo | URL, init: RequestInit = {}) => {
      const url = String(input);
      const headers = (init.headers ?? {}) as Record<string, string>;
      const call: Call = {
        method: init.method ?? "GET",
        url,
        contentType: headers["Content-Type"],
        body: init.body ? JSON.parse(String(init.body)) : undefined,
      };
      if (url.endsWith("/accessreviews")) {
        const reviews = (call.body as { reviews: Record<string, string>[] }).reviews;
        return json({ results: reviews.map((review) => ({ allowed: typeof allowed === "function" ? allowed(review) : allowed })) });
      }
      if (url.endsWith("/openapi/v2")) return json({ definitions: {} });
      calls.push(call);
      return answer(call) ?? refusal(404, "not here", "NotFound");
    }),
  );
  return calls;
}

/**
 * Renders `ui` at `url`, matched by the route `path` (so `useParams` answers as in the
 * console); `rerender` keeps the same providers, so the page sees only its props change.
 */
export function renderAt(ui: ReactElement, url = "/", path = "/") {
  const client = new QueryClient({ defaultOptions: { queries: { retry: false } } });
  const wrapper = ({ children }: { children: ReactNode }) => (
    <QueryClientProvider client={client}>
      <MemoryRouter initialEntries={[url]}>
        <Routes>
          <Route path={path} element={children} />
        </Routes>
      </MemoryRouter>
    </QueryClientProvider>
  );
  return { ...render(ui, { wrapper }), client };
}

/** Renders `ui` on a page of project `web` in cluster `host` (`page` may carry a query). */
export function renderInProject(ui: ReactElement, page = "here") {
  return renderAt(ui, `/clusters/host/projects/web/${page}`, `/clusters/:cluster/projects/:namespace/${page.split("?")[0]}`);
}

/** Waits for every answer the fake has given so far to be read and rendered. */
export async function settled(): Promise<void> {
  await act(async () => {
    await Promise.all(vi.mocked(fetch).mock.results.map((result) => result.value));
  });
}

/** Waits until the page has asked what the user may do, and shows the answers. */
export async function reviewed(): Promise<void> {
  await waitFor(() => expect(fetch).toHaveBeenCalledWith(expect.stringContaining("/accessreviews"), expect.anything()));
  await settled();
}
