/**
 * The name rules forms check as the user types, the same the server applies: a DNS-1123
 * label for clusters, workspaces, projects and groups; a user name may also hold dots.
 * Answers are i18n keys (in `platform`), so each form says what is wrong in its language.
 */

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const USER_NAME = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;

export type NameProblem = "names.required" | "names.tooLong" | "names.dnsLabel" | "names.userName" | "names.reserved";

/** What is wrong with a DNS-1123 label (at most 63 lower-case letters, digits and '-'). */
export function dnsLabelProblem(name: string, reserved: readonly string[] = []): NameProblem | null {
  if (!name) return "names.required";
  if (name.length > 63) return "names.tooLong";
  if (!DNS_LABEL.test(name)) return "names.dnsLabel";
  if (reserved.includes(name)) return "names.reserved";
  return null;
}

/** What is wrong with a user name (it is used as a label value: 63 characters at most). */
export function userNameProblem(name: string): NameProblem | null {
  if (!name) return "names.required";
  if (name.length > 63) return "names.tooLong";
  if (!USER_NAME.test(name)) return "names.userName";
  return null;
}
