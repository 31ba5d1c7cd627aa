/**
 * What the workload tests share: a stand-in for the server (`fetch` answering access
 * reviews and whatever else the test gives), and rendering inside the providers pages have.
 * Only tests import it.
 */
import type { ReactElement } from "react";
import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { render } from "@testing-library/react";
import { MemoryRouter } from "react-router-dom";

export interface Call {
  method: string;
  url: string;
  contentType?: string;
  body?: unknown;
}

export type Answer = (call: Call) => { status: number; body: unknown } | undefined;

/** Answers access reviews with `allowed`, the rest with `answer` (404 when it has none). */
export function serve(answer: Answer, allowed = true): Call[] {
  const calls: Call[] = [];
  vi.stubGlobal(
    "fetch",
    vi.fn(async (url: string, init: RequestInit = {}) => {
      const headers = (init.headers ?? {}) as Record<string, string>;
      const call: Call = {
        method: init.method ?? "GET",
        url,
        contentType: headers["Content-Type"],
        body: init.body ? JSON.parse(String(init.body)) : undefined,
      };
      let found: { status: number; body: unknown } | undefined;
      if (url.includes("/accessreviews")) {
        const reviews = (call.body as { reviews: unknown[] }).reviews;
        found = { status: 200, body: { results: reviews.map(() => ({ allowed })) } };
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

export function renderPage(ui: ReactElement) {
  const client = new QueryClient({ defaultOptions: { queries: { retry: false } } });
  return render(
    <QueryClientProvider client={client}>
      <MemoryRouter>{ui}</MemoryRouter>
    </QueryClientProvider>,
  );
}
