/**
 * The console: providers and routes. Every page is a page extension (built-in ones
 * included); the router is made from what is registered, each area inside the shell with
 * its navigation.
 */
import { StrictMode, lazy, Suspense, type ReactNode } from "react";
import { QueryClient, QueryClientProvider, useQuery } from "@tanstack/react-query";
import { createBrowserRouter, matchPath, Navigate, Outlet, RouterProvider, useParams, type RouteObject } from "react-router-dom";
import { api } from "@/lib/api/client";
import { ApiError } from "@/lib/api/errors";
import { all, DisabledComponents } from "@/lib/extensions/registry";
import { AREA_PREFIX, type Area, type PageExtension } from "@/lib/extensions/types";
import { Loading } from "@/components/States";
import { Shell } from "./Shell";
import { Login } from "./Login";
import { RequireSession } from "./RequireSession";
import { LazyPart, preload } from "./LazyPage";

const Home = lazy(() => import("./Home"));

export function makeQueryClient(): QueryClient {
  return new QueryClient({
    defaultOptions: {
      queries: {
        // Never retry what retrying cannot fix (401, 403, 404, bad input).
        retry: (count, error) => (error instanceof ApiError ? error.transient && count < 3 : count < 1),
        refetchOnWindowFocus: false,
        staleTime: 10_000,
      },
    },
  });
}

/** The page of a route, given the route's parameters as keyed props so it remounts on change. */
function PageRoute({ page }: { page: PageExtension }) {
  const params = useParams();
  return <LazyPart key={JSON.stringify(params)} load={page.load} props={{}} />;
}

function areaRoutes(area: Area, pages: PageExtension[]): RouteObject {
  return {
    path: AREA_PREFIX[area],
    element: <Shell area={area} />,
    children: pages
      .filter((page) => page.area === area)
      .map((page) => ({ path: page.path, element: <PageRoute page={page} /> })),
  };
}

function Components({ children }: { children: ReactNode }) {
  // Which components are switched off: their pages, tabs and actions are not offered.
  const switched = useQuery({
    queryKey: ["components"],
    queryFn: () => api.get<{ items: { name: string; enabled: boolean }[] }>("/kapis/config.atoll.io/v1alpha1/components"),
    staleTime: 60_000,
    retry: false,
  });
  const off = new Set((switched.data?.items ?? []).filter((item) => item.enabled === false).map((item) => item.name));
  return <DisabledComponents.Provider value={off}>{children}</DisabledComponents.Provider>;
}

/**
 * Loads the code of the page at `pathname`, beside the app's own. The app renders once it is
 * in (main.tsx waits, a little): else the page would be asked for only after the app's first
 * render, and React shows a fallback it then holds for a moment.
 */
export function warm(pathname: string): Promise<void> {
  const loading: Promise<void>[] = [];
  for (const extension of all()) {
    if (extension.type !== "page") continue;
    if (matchPath({ path: `${AREA_PREFIX[extension.area]}/${extension.path}`, end: true }, pathname)) {
      loading.push(preload(extension.load));
    }
  }
  return Promise.all(loading).then(() => undefined);
}

export function routes(): RouteObject[] {
  const pages = all().filter((extension): extension is PageExtension => extension.type === "page");
  return [
    { path: "/login", element: <Login /> },
    {
      element: (
        <RequireSession>
          <Components>
            <Suspense fallback={<Loading />}>
              <OutletShell />
            </Suspense>
          </Components>
        </RequireSession>
      ),
      children: [
        { path: "/", element: <Shell area={null} />, children: [{ index: true, element: <Home /> }] },
        { path: "/platform", element: <Navigate to="/platform/clusters" replace /> },
        { path: "/clusters/:cluster", element: <Navigate to="overview" replace /> },
        { path: "/clusters/:cluster/projects/:namespace", element: <Navigate to="overview" replace /> },
        { path: "/workspaces/:workspace", element: <Navigate to="projects" replace /> },
        ...(["platform", "cluster", "workspace", "project"] as Area[]).map((area) => areaRoutes(area, pages)),
        { path: "*", element: <Navigate to="/" replace /> },
      ],
    },
  ];
}

function OutletShell() {
  return <Outlet />;
}

export function App({ client }: { client: QueryClient }) {
  const router = createBrowserRouter(routes());
  return (
    <StrictMode>
      <QueryClientProvider client={client}>
        <RouterProvider router={router} />
      </QueryClientProvider>
    </StrictMode>
  );
}
