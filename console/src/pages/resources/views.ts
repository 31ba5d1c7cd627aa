/** The view of a kind (its columns and overview), from the registered resource views. */
import { useExtensions } from "@/lib/extensions/registry";
import type { ResourceViewExtension } from "@/lib/extensions/types";

export function useView(resource: string): ResourceViewExtension | undefined {
  return useExtensions("resource-view").find((view) => view.resource === resource);
}

/** Where an object's detail page is, in the area that shows it. */
export function detailPath(cluster: string, resource: string, name: string, namespace?: string): string {
  const c = encodeURIComponent(cluster);
  return namespace
    ? `/clusters/${c}/projects/${encodeURIComponent(namespace)}/${resource}/${encodeURIComponent(name)}`
    : `/clusters/${c}/resources/${resource}/${encodeURIComponent(name)}`;
}

export function listPath(cluster: string, resource: string, namespace?: string): string {
  const c = encodeURIComponent(cluster);
  return namespace ? `/clusters/${c}/projects/${encodeURIComponent(namespace)}/${resource}` : `/clusters/${c}/resources/${resource}`;
}
