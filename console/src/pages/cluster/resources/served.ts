/**
 * The kinds a cluster serves (from discovery), grouped by API group for the resources page:
 * the core group first, then by name; kinds by name within a group. A search matches the
 * kind, its plural or its group, in any case.
 */
import type { Served } from "@/lib/k8s/discovery";

export interface ServedGroup {
  /** "" for the core group. */
  group: string;
  kinds: Served[];
}

export function groupServed(served: Served[], search = ""): ServedGroup[] {
  const needle = search.trim().toLowerCase();
  const groups = new Map<string, Served[]>();
  for (const item of served) {
    const { kind, plural, group } = item.kind;
    if (needle && ![kind, plural, group].some((text) => text.toLowerCase().includes(needle))) continue;
    groups.set(group, [...(groups.get(group) ?? []), item]);
  }
  return [...groups.entries()]
    .sort(([a], [b]) => (a === "" ? -1 : b === "" ? 1 : a.localeCompare(b)))
    .map(([group, kinds]) => ({ group, kinds: kinds.sort((a, b) => a.kind.kind.localeCompare(b.kind.kind)) }));
}
