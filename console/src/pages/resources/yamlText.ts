/**
 * Objects as YAML text and back, for the YAML tab and the create page. The text shows what
 * a user may write (`metadata.managedFields` is the server's bookkeeping: left out); reading
 * it back says what is wrong and on which line, so nothing malformed is ever sent.
 */
import { parseAllDocuments, stringify } from "yaml";
import type { K8sObject } from "@/lib/k8s/types";

export function toYaml(object: K8sObject): string {
  const metadata: Record<string, unknown> = { ...object.metadata };
  delete metadata.managedFields;
  // lineWidth 0: long values (last-applied-configuration) stay on one line, as the server has them.
  return stringify({ ...object, metadata }, { lineWidth: 0, aliasDuplicateObjects: false });
}

export type Parsed =
  | { ok: true; object: K8sObject }
  | { ok: false; problem: "syntax"; line: number; message: string }
  | { ok: false; problem: "several" | "notAnObject" };

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** A mapping with a `metadata` mapping; its fields are for the server to judge. */
function isObject(value: unknown): value is K8sObject {
  return isRecord(value) && isRecord(value.metadata);
}

/** One object from YAML text: a mapping whose `metadata` (if any) is a mapping too. */
export function parseObject(text: string): Parsed {
  const documents = parseAllDocuments(text);
  for (const document of documents) {
    const [error] = document.errors;
    if (error) return { ok: false, problem: "syntax", line: error.linePos?.[0].line ?? 1, message: error.message };
  }
  const values = documents.map((document) => document.toJS() as unknown).filter((value) => value !== null);
  if (values.length > 1) return { ok: false, problem: "several" };
  const [value] = values;
  const object = isRecord(value) && value.metadata === undefined ? { ...value, metadata: {} } : value;
  return isObject(object) ? { ok: true, object } : { ok: false, problem: "notAnObject" };
}
