/**
 * Workspace › Roles: the workspace's WorkspaceRoles (labelled with it), with their rules
 * readable; built-in ones are marked and never offered for deletion.
 */
import { useState } from "react";
import { PageSection, Title } from "@patternfly/react-core";
import { useQueryClient } from "@tanstack/react-query";
import { useParams } from "react-router-dom";
import { useTranslation } from "react-i18next";
import { ResourceTable, ageColumn, nameColumn } from "@/components/ResourceTable";
import { useCan } from "@/lib/api/access";
import { api } from "@/lib/api/client";
import type { K8sObject } from "@/lib/k8s/types";
import { detailPath } from "@/pages/resources/views";
import { HOST, WORKSPACE_OF_ROLE, WorkspaceRole } from "@/pages/platform/access/kinds";
import { isBuiltIn } from "@/pages/platform/access/rules";
import { builtInDelete, roleColumns } from "@/pages/platform/access/RulesTable";
import { ConfirmDialog } from "@/pages/platform/ConfirmDialog";

export default function RolesPage() {
  const { t } = useTranslation();
  const client = useQueryClient();
  const { workspace = "" } = useParams();
  const [deleting, setDeleting] = useState<K8sObject | null>(null);
  const mayDelete = useCan({ verb: "delete", group: WorkspaceRole.group, resource: WorkspaceRole.plural });
  return (
    <>
      <PageSection>
        <Title headingLevel="h1">{t("workspace:roles.title")}</Title>
      </PageSection>
      <PageSection>
        <ResourceTable
          kind={WorkspaceRole}
          scope={{ cluster: HOST, labelSelector: `${WORKSPACE_OF_ROLE}=${workspace}` }}
          columns={[nameColumn(t("name")), ...roleColumns(t), ageColumn(t("age"))]}
          link={(role) => detailPath(HOST, WorkspaceRole.resource, role.metadata.name)}
          actions={mayDelete ? (role) => [isBuiltIn(role) ? builtInDelete(t("delete"), t("platform:rules.builtInKept")) : { title: t("delete"), isDanger: true, onClick: () => setDeleting(role) }] : undefined}
        />
      </PageSection>
      {deleting && (
        <ConfirmDialog
          title={t("workspace:roles.deleteTitle", { name: deleting.metadata.name })}
          body={t("workspace:roles.deleteBody")}
          run={() => api.delete(WorkspaceRole.path(HOST, undefined, deleting.metadata.name))}
          onClose={(done) => {
            setDeleting(null);
            if (done) void client.invalidateQueries({ queryKey: ["list", HOST, WorkspaceRole.resource] });
          }}
        />
      )}
    </>
  );
}
