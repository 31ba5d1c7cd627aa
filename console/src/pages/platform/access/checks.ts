/**
 * Questions about Atoll's own API (`/kapis`), the only one where a workspace's grants apply
 * (a workspace member may create projects there without any cluster role).
 */
import type { AccessCheck } from "@/lib/api/access";

export function atollCheck(check: AccessCheck): AccessCheck {
  return { ...check, api: "atoll" };
}
