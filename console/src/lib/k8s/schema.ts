/**
 * The JSON schema of one kind, for the YAML editor's completion, hover docs and validation.
 *
 * It comes from the cluster's own OpenAPI v2 document (`/clusters/<c>/openapi/v2`), so CRDs
 * and the cluster's Kubernetes version are described as that cluster serves them. The
 * document is large (about 1.4 MB): it is read once per cluster and kept for the session;
 * each kind's schema is cut out of it — the definition carrying the kind's
 * `x-kubernetes-group-version-kind` plus every definition it reaches — so the editor gets a
 * small, self-contained schema whose `$ref`s stay `#/definitions/...`.
 *
 * A few Kubernetes conventions are spelled out in plain JSON schema on the way, so that the
 * editor accepts what the API server accepts: int-or-string fields take both, quantities take
 * numbers (`cpu: 1`), and any field may be `null` (as in `creationTimestamp: null`).
 */
import { useQuery } from "@tanstack/react-query";
import { api } from "../api/client";

export type JsonSchema = Record<string, unknown>;

export interface GroupVersionKind {
  group: string;
  version: string;
  kind: string;
}

export interface OpenApiDocument {
  definitions?: Record<string, JsonSchema>;
}

const GVK = "x-kubernetes-group-version-kind";
const REF = "#/definitions/";

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** The kinds a definition describes (several for shared types such as DeleteOptions). */
function kindsOf(definition: JsonSchema): Record<string, unknown>[] {
  const found = definition[GVK];
  return Array.isArray(found) ? found.filter(isRecord) : [];
}

/** The name of the definition of a kind, if the document describes it. */
export function definitionOf(document: OpenApiDocument, wanted: GroupVersionKind): string | undefined {
  return Object.entries(document.definitions ?? {}).find(([, definition]) =>
    kindsOf(definition).some(
      (gvk) => (gvk.group ?? "") === wanted.group && gvk.version === wanted.version && gvk.kind === wanted.kind,
    ),
  )?.[0];
}

const SCHEMA_MAPS = ["properties", "patternProperties", "definitions"];
const SCHEMA_LISTS = ["allOf", "anyOf", "oneOf"];
const SCHEMA_ONES = ["items", "additionalProperties", "not"];

/** A schema node with each of its sub-schemas replaced by `change(sub)`. */
function mapChildren(schema: JsonSchema, change: (sub: JsonSchema) => JsonSchema): JsonSchema {
  const copy: JsonSchema = { ...schema };
  for (const key of SCHEMA_MAPS) {
    const map = copy[key];
    if (isRecord(map)) {
      copy[key] = Object.fromEntries(Object.entries(map).map(([field, sub]) => [field, isRecord(sub) ? change(sub) : sub]));
    }
  }
  for (const key of [...SCHEMA_LISTS, ...SCHEMA_ONES]) {
    const value = copy[key];
    if (Array.isArray(value)) copy[key] = value.map((sub) => (isRecord(sub) ? change(sub) : sub));
    else if (isRecord(value)) copy[key] = change(value);
  }
  return copy;
}

/** The definitions a schema refers to, directly or through its sub-schemas. */
function refs(schema: JsonSchema | undefined, into = new Set<string>()): Set<string> {
  if (!schema) return into;
  if (typeof schema.$ref === "string" && schema.$ref.startsWith(REF)) into.add(schema.$ref.slice(REF.length));
  mapChildren(schema, (sub) => {
    refs(sub, into);
    return sub;
  });
  return into;
}

/** Definitions reachable from `root` (itself included only if something refers back to it). */
function reachable(definitions: Record<string, JsonSchema>, root: string): string[] {
  const seen = new Set<string>();
  const queue = [...refs(definitions[root])];
  while (queue.length) {
    const name = queue.shift()!;
    if (seen.has(name) || !definitions[name]) continue;
    seen.add(name);
    queue.push(...refs(definitions[name]));
  }
  return [...seen];
}

function allowing(type: unknown, ...more: string[]): string[] {
  const types = Array.isArray(type) ? type.map(String) : typeof type === "string" ? [type] : [];
  return [...new Set([...types, ...more])];
}

/** A schema in plain JSON schema terms (see the module comment), copied. */
function plain(schema: JsonSchema, name = ""): JsonSchema {
  const copy = mapChildren(schema, (sub) => plain(sub));
  if (copy.format === "int-or-string" || copy["x-kubernetes-int-or-string"] === true) {
    copy.type = ["integer", "string"];
    delete copy.format;
  }
  if (name.endsWith(".api.resource.Quantity") || copy.format === "quantity") {
    copy.type = allowing(copy.type, "number");
    delete copy.format;
  }
  if (copy.type !== undefined) copy.type = allowing(copy.type, "null");
  return copy;
}

/** The self-contained JSON schema of a kind, or `undefined` if the document lacks it. */
export function kindSchema(document: OpenApiDocument, wanted: GroupVersionKind): JsonSchema | undefined {
  const definitions = document.definitions ?? {};
  const root = definitionOf(document, wanted);
  if (!root) return undefined;
  const schema = plain(definitions[root], root);
  const needed = reachable(definitions, root);
  if (needed.length) {
    schema.definitions = Object.fromEntries(needed.map((name) => [name, plain(definitions[name], name)]));
  }
  return schema;
}

const documents = new Map<string, Promise<OpenApiDocument>>();

/** The cluster's OpenAPI v2 document, read once; a failed read is tried again next time. */
export function openApiDocument(cluster: string): Promise<OpenApiDocument> {
  let found = documents.get(cluster);
  if (!found) {
    found = api.get<OpenApiDocument>(`/clusters/${encodeURIComponent(cluster)}/openapi/v2`);
    found.catch(() => documents.delete(cluster));
    documents.set(cluster, found);
  }
  return found;
}

export async function fetchKindSchema(cluster: string, wanted: GroupVersionKind): Promise<JsonSchema | undefined> {
  return kindSchema(await openApiDocument(cluster), wanted);
}

/**
 * The schema of a kind in a cluster; `undefined` while it loads, or if the cluster does not
 * describe the kind (the editor then works without one: a schema helps, it is not needed).
 */
export function useKindSchema(kind: GroupVersionKind, cluster: string): JsonSchema | undefined {
  const found = useQuery({
    queryKey: ["schema", cluster, kind.group, kind.version, kind.kind],
    queryFn: async () => (await fetchKindSchema(cluster, kind)) ?? null,
    staleTime: Infinity,
    retry: false,
  });
  return found.data ?? undefined;
}
