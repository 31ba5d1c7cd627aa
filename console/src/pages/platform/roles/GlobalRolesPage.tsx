/**
 * Platform › Roles: the GlobalRoles (platform roles) with their rules readable as a table.
 * Built-in roles are marked and never offered for deletion (Atoll puts them back anyway);
 * a custom role is written as YAML through the generic create page.
 */
import { useState } from "react";
import { Button, PageSection, Title } from "@patternfly/react-core";
import { useQueryClient } from "@tanstack/react-query";
import { useNavigate } from "react-router-dom";
import { useTranslation } from "react-i18next";
import { ResourceTable, ageColumn, nameColumn } from "@/components/ResourceTable";
import { useCan } from "@/lib/api/access";
import { api } from "@/lib/api/client";
import { GlobalRole } from "@/lib/k8s/kinds";
import type { K8sObject } from "@/lib/k8s/types";
import { detailPath, listPath } from "@/pages/resources/views";
import { HOST } from "../access/kinds";
import { isBuiltIn } from "../access/rules";
import { builtInDelete, roleColumns } from "../access/RulesTable";
import { ConfirmDialog } from "../ConfirmDialog";

export default function GlobalRolesPage() {
  const { t } = useTranslation();
  const navigate = useNavigate();
  const client = useQueryClient();
  const [deleting, setDeleting] = useState<K8sObject | null>(null);
  const mayCreate = useCan({ verb: "create", group: GlobalRole.group, resource: GlobalRole.plural });
  const mayDelete = useCan({ verb: "delete", group: GlobalRole.group, resource: GlobalRole.plural });
  return (
    <>
      <PageSection>
        <Title headingLevel="h1">{t("platform:roles.title")}</Title>
      </PageSection>
      <PageSection>
        <ResourceTable
          kind={GlobalRole}
          scope={{ cluster: HOST }}
          columns={[nameColumn(t("name")), ...roleColumns(t), ageColumn(t("age"))]}
          link={(role) => detailPath(HOST, GlobalRole.resource, role.metadata.name)}
          actions={
            mayDelete
              ? (role) => [isBuiltIn(role) ? builtInDelete(t("delete"), t("platform:rules.builtInKept")) : { title: t("delete"), isDanger: true, onClick: () => setDeleting(role) }]
              : undefined
          }
          toolbar={
            mayCreate ? (
              <Button onClick={() => navigate(`${listPath(HOST, GlobalRole.resource)}/~new`)} data-testid="create-role">
                {t("platform:roles.create")}
              </Button>
            ) : undefined
          }
        />
      </PageSection>
      {deleting && (
        <ConfirmDialog
          title={t("platform:roles.deleteTitle", { name: deleting.metadata.name })}
          body={t("platform:roles.deleteBody")}
          run={() => api.delete(GlobalRole.path(HOST, undefined, deleting.metadata.name))}
          onClose={(done) => {
            setDeleting(null);
            if (done) void client.invalidateQueries({ queryKey: ["list", HOST, GlobalRole.resource] });
          }}
        />
      )}
    </>
  );
}
