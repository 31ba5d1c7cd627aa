/**
 * What the project area's component tests share: a `fetch` that answers access reviews and
 * the calls a test expects (recording them), and a render inside a project route with a
 * fresh query client. (Tests also replace the watch socket, which jsdom cannot open.)
 */
import type { ReactElement } from "react";
import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { act, render } from "@testing-library/react";
import { MemoryRouter, Route, Routes } from "react-router-dom";

export interface Call {
  method: string;
  url: string;
  body?: unknown;
}

export type Answer = (call: Call) => { status: number; body: unknown } | undefined;

/** Stubs `fetch`: access reviews answer `allowed`; the rest goes to `answer` (404 if none). */
export function serve(answer: Answer, allowed: boolean | ((review: Record<string, string>) => boolean) = true): Call[] {
  const calls: Call[] = [];
  vi.stubGlobal(
    "fetch",
    vi.fn(async (url: string, init: RequestInit = {}) => {
      const call: Call = { method: init.method ?? "GET", url, body: init.body ? JSON.parse(String(init.body)) : undefined };
      let found: { status: number; body: unknown } | undefined;
      if (url.includes("/accessreviews")) {
        const reviews = (call.body as { reviews: Record<string, string>[] }).reviews;
        found = { status: 200, body: { results: reviews.map((review) => ({ allowed: typeof allowed === "function" ? allowed(review) : allowed })) } };
      } else {
        calls.push(call);
        found = answer(call);
      }
      found ??= { status: 404, body: { kind: "Status", message: "not here", code: 404 } };
      return new Response(JSON.stringify(found.body), { status: found.status });
    }),
  );
  return calls;
}

/** Renders `element` at `/clusters/host/projects/web/<page>`, as the router would. */
export function renderInProject(element: ReactElement, page = "here") {
  const client = new QueryClient({ defaultOptions: { queries: { retry: false } } });
  return render(
    <QueryClientProvider client={client}>
      <MemoryRouter initialEntries={[`/clusters/host/projects/web/${page}`]}>
        <Routes>
          <Route path={`/clusters/:cluster/projects/:namespace/${page.split("?")[0]}`} element={element} />
        </Routes>
      </MemoryRouter>
    </QueryClientProvider>,
  );
}

/** Waits for every answer `fetch` has given so far to be read and rendered. */
export async function settled(): Promise<void> {
  await act(async () => {
    await Promise.all(vi.mocked(fetch).mock.results.map((result) => result.value));
  });
}
