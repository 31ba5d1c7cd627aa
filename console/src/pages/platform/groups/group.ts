/**
 * Groups (`iam.atoll.io` Group) and who is in them (GroupBindings). A group may stand for
 * groups of an identity provider (`spec.providerGroups`, each `<provider>:<group>`): their
 * members join it at log-in. Members added here are GroupBindings `<group>-<user>`, labelled
 * with the group and the user as Atoll's own are, so both kinds list together.
 */
import { Group } from "@/lib/k8s/kinds";
import type { K8sObject } from "@/lib/k8s/types";
import { GroupBinding } from "../access/kinds";

export const GROUP_LABEL = "iam.atoll.io/group";
const USER_LABEL = "iam.atoll.io/user";

export interface GroupForm {
  name: string;
  displayName: string;
  description: string;
  providerGroups: string;
}

/** The provider groups typed one per line (or comma-separated); those not `provider:group`. */
export function parseProviderGroups(text: string): { groups: string[]; invalid: string[] } {
  const groups = [...new Set(text.split(/[\n,]/).map((item) => item.trim()).filter(Boolean))];
  return { groups, invalid: groups.filter((item) => !/^[^:\s]+:\S.*$/.test(item)) };
}

export function groupBody(form: GroupForm): K8sObject {
  const spec: Record<string, unknown> = {};
  if (form.displayName.trim()) spec.displayName = form.displayName.trim();
  if (form.description.trim()) spec.description = form.description.trim();
  const { groups } = parseProviderGroups(form.providerGroups);
  if (groups.length) spec.providerGroups = groups;
  return { apiVersion: Group.apiVersion, kind: Group.kind, metadata: { name: form.name }, spec };
}

export function groupBindingBody(group: string, user: string): K8sObject {
  return {
    apiVersion: GroupBinding.apiVersion,
    kind: GroupBinding.kind,
    metadata: { name: `${group}-${user}`.slice(0, 253), labels: { [GROUP_LABEL]: group, [USER_LABEL]: user } },
    groupRef: { apiGroup: Group.group, kind: Group.kind, name: group },
    users: [user],
  };
}

/** Each member of a group once, with the binding that makes it one (to remove it by). */
export function groupMembers(bindings: K8sObject[]): { user: string; binding: K8sObject }[] {
  const seen = new Map<string, K8sObject>();
  for (const binding of bindings) {
    for (const user of (binding.users as string[] | undefined) ?? []) {
      if (!seen.has(user)) seen.set(user, binding);
    }
  }
  return [...seen.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([user, binding]) => ({ user, binding }));
}

/** How to take `user` out of `binding`: delete it when it names no one else, else patch it. */
export function removal(binding: K8sObject, user: string): { delete: true } | { patch: { users: string[] } } {
  const rest = ((binding.users as string[] | undefined) ?? []).filter((name) => name !== user);
  return rest.length ? { patch: { users: rest } } : { delete: true };
}
