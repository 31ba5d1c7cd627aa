/**
 * Users as the platform pages read and write them. A user's platform role is the label
 * `iam.atoll.io/globalrole` on its User (none: `platform-regular`), which the users
 * controller turns into one GlobalRoleBinding; its state (`Active`/`Disabled`) is in
 * `status.state`, written through the status subresource; a password is sent in plain text
 * once and the server keeps only its hash (and refuses one its policy does not accept).
 */
import type { StatusWord } from "@/lib/k8s/status";
import { User } from "@/lib/k8s/kinds";
import type { K8sObject } from "@/lib/k8s/types";

export const GLOBAL_ROLE_LABEL = "iam.atoll.io/globalrole";
export const DEFAULT_GLOBAL_ROLE = "platform-regular";
const PROVIDER_LABEL = "iam.atoll.io/identity-provider";

export function platformRole(user: K8sObject): string {
  return user.metadata.labels?.[GLOBAL_ROLE_LABEL] || DEFAULT_GLOBAL_ROLE;
}

/** The identity provider a user came from; `password` for users made in Atoll. */
export function provider(user: K8sObject): string {
  return user.metadata.labels?.[PROVIDER_LABEL] || "password";
}

export function userState(user: K8sObject): StatusWord {
  const state: string | undefined = user.status?.state;
  if (state === "Active") return { text: "Active", health: "ok" };
  if (state === "Disabled") return { text: "Disabled", health: "error" };
  return { text: "Pending", health: "progress" };
}

export function isDisabled(user: K8sObject): boolean {
  return user.status?.state === "Disabled";
}

export interface UserForm {
  name: string;
  displayName: string;
  email: string;
  password: string;
  role: string;
}

export function userBody(form: UserForm): K8sObject {
  const spec: Record<string, string> = { email: form.email.trim(), password: form.password };
  if (form.displayName.trim()) spec.displayName = form.displayName.trim();
  return {
    apiVersion: User.apiVersion,
    kind: User.kind,
    metadata: { name: form.name, labels: { [GLOBAL_ROLE_LABEL]: form.role || DEFAULT_GLOBAL_ROLE } },
    spec,
  };
}

/** A merge patch giving a user another platform role. */
export function rolePatch(role: string): { metadata: { labels: Record<string, string> } } {
  return { metadata: { labels: { [GLOBAL_ROLE_LABEL]: role } } };
}

/** A merge patch of the status subresource enabling or disabling a user. */
export function statePatch(disabled: boolean, now = new Date()): { status: { state: string; lastTransitionTime: string } } {
  return { status: { state: disabled ? "Disabled" : "Active", lastTransitionTime: now.toISOString().replace(/\.\d+Z$/, "Z") } };
}
