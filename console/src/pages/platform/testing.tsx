/**
 * For the tests of the platform, cluster and workspace pages: a fake Atoll behind `fetch`
 * (access reviews answered as told, any other call answered by the test or with an empty
 * list), every call recorded; and a page rendered inside a query client and a router.
 */
import type { ReactElement } from "react";
import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { render } from "@testing-library/react";
import { MemoryRouter, Route, Routes } from "react-router-dom";

export interface Call {
  method: string;
  path: string;
  body?: unknown;
}

export function json(body: unknown, status = 200): Response {
  return new Response(JSON.stringify(body), { status, headers: { "Content-Type": "application/json" } });
}

export function problem(status: number, detail: string): Response {
  return new Response(JSON.stringify({ title: "refused", status, detail }), { status, headers: { "Content-Type": "application/problem+json" } });
}

/** Serve `answer`'s responses (undefined: an empty list); access reviews say `allowed`. */
export function fakeAtoll(answer: (call: Call) => Response | undefined = () => undefined, allowed = true): Call[] {
  const calls: Call[] = [];
  vi.stubGlobal(
    "fetch",
    vi.fn(async (input: RequestInfo | URL, init?: RequestInit) => {
      const call: Call = { method: init?.method ?? "GET", path: String(input), body: init?.body ? JSON.parse(String(init.body)) : undefined };
      calls.push(call);
      if (call.path.endsWith("/accessreviews")) {
        const reviews = (call.body as { reviews: unknown[] }).reviews;
        return json({ results: reviews.map(() => ({ allowed })) });
      }
      return answer(call) ?? json({ items: [], totalItems: 0 });
    }),
  );
  return calls;
}

/** `ui` rendered at `url`, matched by the route `path` (so `useParams` answers). */
export function renderAt(ui: ReactElement, url = "/", path = "/") {
  const client = new QueryClient({ defaultOptions: { queries: { retry: false } } });
  const result = render(
    <QueryClientProvider client={client}>
      <MemoryRouter initialEntries={[url]}>
        <Routes>
          <Route path={path} element={ui} />
        </Routes>
      </MemoryRouter>
    </QueryClientProvider>,
  );
  return { ...result, client };
}
