/**
 * Workspace › Members: who is in the workspace and with which of its roles (its
 * WorkspaceRoles: the built-in admin, regular and viewer, and any custom one).
 */
import { useParams } from "react-router-dom";
import { useTranslation } from "react-i18next";
import { useAll } from "@/lib/api/hooks";
import { HOST, WORKSPACE_OF_ROLE, WorkspaceRole } from "@/pages/platform/access/kinds";
import { ScopeMembers } from "@/pages/platform/access/ScopeMembers";

export default function MembersPage() {
  const { t } = useTranslation();
  const { workspace = "" } = useParams();
  const roles = useAll(WorkspaceRole, { cluster: HOST, labelSelector: `${WORKSPACE_OF_ROLE}=${workspace}`, sortBy: "name", ascending: true }, { live: false });
  return <ScopeMembers title={t("workspace:members.title")} scope={{ workspace }} roles={roles.data?.items.map((role) => role.metadata.name)} />;
}
