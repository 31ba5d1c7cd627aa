/**
 * Reading a Secret's values for the person who asked to see them. The list cache may hold a
 * Secret readable by someone who may not `get` it, so values are never taken from there: a
 * reveal reads the Secret afresh through the Kubernetes API, where the user's own rights
 * decide (a refusal comes back as a 403 `ApiError`, shown in words).
 */
import { api } from "@/lib/api/client";
import { Secret } from "@/lib/k8s/kinds";
import type { K8sObject } from "@/lib/k8s/types";

/** A decoded value: its text, or `null` when it is not UTF-8 text (a key, an image). */
export interface SecretValue {
  text: string | null;
  size: number;
}

export function decodeBase64(value: string): SecretValue {
  let binary: string;
  try {
    binary = atob(value);
  } catch {
    return { text: null, size: 0 };
  }
  const data = Uint8Array.from(binary, (char) => char.charCodeAt(0));
  try {
    return { text: new TextDecoder("utf-8", { fatal: true }).decode(data), size: data.length };
  } catch {
    return { text: null, size: data.length };
  }
}

/** The size in bytes of a base64 value, without decoding it. */
export function decodedSize(value: string): number {
  const padding = value.endsWith("==") ? 2 : value.endsWith("=") ? 1 : 0;
  return Math.max(0, Math.floor((value.length * 3) / 4) - padding);
}

/** The Secret's values, read now through the Kubernetes API with the user's rights. */
export async function revealSecret(cluster: string, namespace: string, name: string): Promise<Record<string, SecretValue>> {
  const secret = await api.get<K8sObject>(Secret.path(cluster, namespace, name));
  const data = (secret.data ?? {}) as Record<string, string>;
  return Object.fromEntries(Object.entries(data).map(([key, value]) => [key, decodeBase64(value)]));
}
