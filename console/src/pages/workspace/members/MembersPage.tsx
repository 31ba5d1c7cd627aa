/**
 * Workspace › Members: who is in the workspace and with which of its roles (its
 * WorkspaceRoles: the built-in admin, regular and viewer, and any custom one).
 */
import { PageSection, Title } from "@patternfly/react-core";
import { useParams } from "react-router-dom";
import { useTranslation } from "react-i18next";
import { useCan } from "@/lib/api/access";
import { useAll } from "@/lib/api/hooks";
import { atollCheck } from "@/pages/platform/access/checks";
import { HOST, WORKSPACE_OF_ROLE, WorkspaceRole } from "@/pages/platform/access/kinds";
import { Members } from "@/pages/platform/access/Members";

export default function MembersPage() {
  const { t } = useTranslation();
  const { workspace = "" } = useParams();
  const roles = useAll(WorkspaceRole, { cluster: HOST, labelSelector: `${WORKSPACE_OF_ROLE}=${workspace}`, sortBy: "name", ascending: true }, { live: false });
  const check = { workspace, group: "iam.atoll.io", resource: "workspacemembers" };
  const mayEdit = useCan(atollCheck({ ...check, verb: "create" }));
  const mayRemove = useCan(atollCheck({ ...check, verb: "delete" }));
  return (
    <>
      <PageSection>
        <Title headingLevel="h1">{t("workspace:members.title")}</Title>
      </PageSection>
      <PageSection>
        <Members
          path={`/kapis/iam.atoll.io/v1alpha1/workspaces/${encodeURIComponent(workspace)}/workspacemembers`}
          roles={roles.data?.items.map((role) => role.metadata.name)}
          mayEdit={Boolean(mayEdit)}
          mayRemove={Boolean(mayRemove)}
        />
      </PageSection>
    </>
  );
}
