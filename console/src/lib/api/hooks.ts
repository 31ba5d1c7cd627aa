/**
 * Data hooks: pages of the cached list API and single objects, kept live by the tab's watch
 * socket. A page is fetched once; then every change to the objects it shows is applied in
 * place as it arrives (a status change shows within the socket's latency), and additions or
 * deletions re-read the page (debounced, so a burst of changes costs one request).
 */
import { useEffect, useRef } from "react";
import { useQuery, useQueryClient, type QueryClient, type QueryKey } from "@tanstack/react-query";
import { api } from "./client";
import { ApiError } from "./errors";
import { watches, type WatchEventType } from "./watch";
import type { Kind } from "../k8s/kinds";
import type { K8sObject, Page } from "../k8s/types";

export interface ListQuery {
  cluster: string;
  namespace?: string;
  page?: number;
  limit?: number;
  sortBy?: "createTime" | "name" | "status";
  ascending?: boolean;
  /** A substring of the name. */
  name?: string;
  labelSelector?: string;
  fieldSelector?: string;
}

/** The key every page of one live scope shares (all pages are patched by one watch). */
function scopeKey(kind: Kind, query: ListQuery): QueryKey {
  return ["list", query.cluster, kind.resource, query.namespace ?? "", query.labelSelector ?? "", query.fieldSelector ?? ""];
}

export function listKey(kind: Kind, query: ListQuery): QueryKey {
  return [...scopeKey(kind, query), query.page ?? 1, query.limit ?? 20, query.sortBy ?? "createTime", query.ascending ?? false, query.name ?? ""];
}

export function objectKey(kind: Kind, cluster: string, namespace: string | undefined, name: string): QueryKey {
  return ["object", cluster, kind.resource, namespace ?? "", name];
}

export function fetchPage<T extends K8sObject>(kind: Kind, query: ListQuery, signal?: AbortSignal): Promise<Page<T>> {
  return api.get<Page<T>>(
    kind.listPath(query.cluster, query.namespace),
    {
      page: query.page ?? 1,
      limit: query.limit ?? 20,
      sortBy: query.sortBy,
      ascending: query.ascending === undefined ? undefined : String(query.ascending),
      name: query.name,
      labelSelector: query.labelSelector,
      fieldSelector: query.fieldSelector,
    },
    signal,
  );
}

function sameObject(a: K8sObject, b: K8sObject): boolean {
  return a.metadata.name === b.metadata.name && (a.metadata.namespace ?? "") === (b.metadata.namespace ?? "");
}

/** Applies a watch event to every cached page of a scope; says whether a re-read is due. */
export function applyToPages(client: QueryClient, scope: QueryKey, type: WatchEventType, object: K8sObject): boolean {
  let found = false;
  client.setQueriesData<Page>({ queryKey: scope }, (page) => {
    if (!page) return page;
    const at = page.items.findIndex((item) => sameObject(item, object));
    if (at < 0) return page;
    found = true;
    const items = page.items.slice();
    if (type === "DELETED") {
      items.splice(at, 1);
      return { ...page, items, totalItems: Math.max(0, page.totalItems - 1) };
    }
    items[at] = object;
    return { ...page, items };
  });
  // A change to an object no page shows may bring it into one (its name now matches the
  // filter, say); additions and deletions shift the pages.
  return type !== "MODIFIED" || !found;
}

/** Calls `fn` at most once per `wait` ms, trailing. */
function debounced(fn: () => void, wait: number): { call(): void; cancel(): void } {
  let timer: ReturnType<typeof setTimeout> | null = null;
  return {
    call() {
      timer ??= setTimeout(() => {
        timer = null;
        fn();
      }, wait);
    },
    cancel() {
      if (timer) clearTimeout(timer);
      timer = null;
    },
  };
}

function live(options: { live?: boolean }): boolean {
  return options.live ?? true;
}

/**
 * A page of `kind` (server-paged, sorted and filtered), live unless `live: false`.
 * Additions and deletions re-read the page at most every `refetchAfterMs` (default 500 ms).
 */
export function useResourcePage<T extends K8sObject = K8sObject>(
  kind: Kind,
  query: ListQuery,
  options: { live?: boolean; enabled?: boolean; refetchAfterMs?: number } = {},
) {
  const client = useQueryClient();
  const enabled = options.enabled ?? true;
  const result = useQuery({
    queryKey: listKey(kind, query),
    queryFn: ({ signal }) => fetchPage<T>(kind, query, signal),
    enabled,
    placeholderData: (previous) => previous,
  });
  const version = result.data?.resourceVersion;
  const haveData = result.data !== undefined;
  const scope = scopeKey(kind, query);
  const scopeId = JSON.stringify(scope);
  // The version the first page of this scope was read at: the watch starts there.
  const since = useRef<{ scope: string; version: string } | undefined>(undefined);
  if (haveData && since.current?.scope !== scopeId) since.current = { scope: scopeId, version: version ?? "" };

  useEffect(() => {
    if (!enabled || !live(options) || !haveData) return;
    const refetch = debounced(() => void client.invalidateQueries({ queryKey: scope }), options.refetchAfterMs ?? 500);
    const from = since.current?.version || undefined;
    let synced = Boolean(from);
    const stop = watches.subscribe(
      {
        cluster: query.cluster,
        group: kind.group,
        version: kind.version,
        resource: kind.plural,
        namespace: kind.namespaced ? query.namespace : undefined,
        labelSelector: query.labelSelector,
        fieldSelector: query.fieldSelector,
        resourceVersion: from,
      },
      {
        onEvent(type, object) {
          // Without a starting version the first frames are the current state: nothing new.
          if (!synced) return;
          if (applyToPages(client, scope, type, object as K8sObject)) refetch.call();
        },
        onSynced() {
          synced = true;
        },
        onResync() {
          synced = false;
          refetch.call();
        },
      },
    );
    return () => {
      stop();
      refetch.cancel();
    };
    // The scope (serialized) decides the subscription; the page and order do not.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [scopeId, enabled, haveData, options.live]);
  return result;
}

/** One object from the cache, live. */
export function useObject<T extends K8sObject = K8sObject>(
  kind: Kind,
  cluster: string,
  namespace: string | undefined,
  name: string,
  options: { live?: boolean; enabled?: boolean } = {},
) {
  const client = useQueryClient();
  const key = objectKey(kind, cluster, namespace, name);
  const enabled = (options.enabled ?? true) && Boolean(name);
  const result = useQuery({
    queryKey: key,
    queryFn: ({ signal }) => api.get<T>(kind.listPath(cluster, namespace, name), undefined, signal),
    enabled,
    // The cache follows writes by a watch: an object just created may be a moment away.
    retry: (count, error) =>
      error instanceof ApiError ? (error.notFound ? count < 5 : error.transient && count < 3) : count < 1,
    retryDelay: (count, error) => (error instanceof ApiError && error.notFound ? 200 : Math.min(4000, 500 * 2 ** count)),
  });
  const haveData = result.data !== undefined;
  const version = result.data?.metadata?.resourceVersion;
  useEffect(() => {
    if (!enabled || !live(options) || !haveData) return;
    return watches.subscribe(
      {
        cluster,
        group: kind.group,
        version: kind.version,
        resource: kind.plural,
        namespace: kind.namespaced ? namespace : undefined,
        fieldSelector: `metadata.name=${name}`,
        resourceVersion: version,
      },
      {
        onEvent(type, object) {
          if (type === "DELETED") void client.invalidateQueries({ queryKey: key });
          else client.setQueryData(key, object);
        },
      },
    );
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [cluster, kind.resource, namespace, name, enabled, haveData]);
  return result;
}

/** Every object of a small scope (an object's events, a Deployment's ReplicaSets), live. */
export function useAll<T extends K8sObject = K8sObject>(
  kind: Kind,
  query: Omit<ListQuery, "page" | "limit">,
  options: { live?: boolean; enabled?: boolean } = {},
) {
  return useResourcePage<T>(kind, { ...query, page: 1, limit: 500 }, { ...options, refetchAfterMs: 300 });
}
