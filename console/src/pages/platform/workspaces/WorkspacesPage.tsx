/**
 * Platform › Workspaces: every workspace (live, paged), what it is for, its manager and the
 * clusters its projects may use; each links to its projects. Creating and deleting are
 * offered to those allowed (platform administrators); deleting asks for the name typed,
 * since the workspace's projects in the host cluster go with it.
 */
import { useState } from "react";
import { Button, PageSection, Title } from "@patternfly/react-core";
import { useQueryClient } from "@tanstack/react-query";
import { useTranslation } from "react-i18next";
import { ResourceTable, ageColumn, nameColumn, type Column } from "@/components/ResourceTable";
import { useCan } from "@/lib/api/access";
import { api } from "@/lib/api/client";
import { Workspace } from "@/lib/k8s/kinds";
import type { K8sObject } from "@/lib/k8s/types";
import { ConfirmDialog } from "../ConfirmDialog";
import { CreateWorkspaceDialog } from "./CreateWorkspaceDialog";
import { workspaceClusters } from "./workspace";

export default function WorkspacesPage() {
  const { t } = useTranslation();
  const client = useQueryClient();
  const [creating, setCreating] = useState(false);
  const [deleting, setDeleting] = useState<K8sObject | null>(null);
  const mayCreate = useCan({ verb: "create", group: Workspace.group, resource: Workspace.plural });
  const mayDelete = useCan({ verb: "delete", group: Workspace.group, resource: Workspace.plural });
  const refresh = () => {
    void client.invalidateQueries({ queryKey: ["workspaces"] });
    void client.invalidateQueries({ queryKey: ["list", "host", Workspace.resource] });
  };
  const columns: Column[] = [
    nameColumn(t("name")),
    { id: "description", title: t("platform:workspaces.description"), render: (ws) => ws.spec?.description ?? "" },
    { id: "manager", title: t("platform:workspaces.manager"), width: 15, render: (ws) => ws.spec?.manager ?? "" },
    { id: "clusters", title: t("platform:workspaces.clusters"), width: 20, render: (ws) => workspaceClusters(ws).join(", ") },
    ageColumn(t("age")),
  ];
  return (
    <>
      <PageSection>
        <Title headingLevel="h1">{t("platform:workspaces.title")}</Title>
      </PageSection>
      <PageSection>
        <ResourceTable
          kind={Workspace}
          scope={{ cluster: "host" }}
          columns={columns}
          link={(ws) => `/workspaces/${encodeURIComponent(ws.metadata.name)}/projects`}
          actions={mayDelete ? (ws) => [{ title: t("delete"), isDanger: true, onClick: () => setDeleting(ws) }] : undefined}
          toolbar={
            mayCreate ? (
              <Button onClick={() => setCreating(true)} data-testid="create-workspace">
                {t("platform:workspaces.create")}
              </Button>
            ) : undefined
          }
        />
      </PageSection>
      {creating && (
        <CreateWorkspaceDialog
          onClose={(created) => {
            setCreating(false);
            if (created) refresh();
          }}
        />
      )}
      {deleting && (
        <ConfirmDialog
          title={t("platform:workspaces.deleteTitle", { name: deleting.metadata.name })}
          body={t("platform:workspaces.deleteBody")}
          typed={deleting.metadata.name}
          run={() => api.delete(Workspace.path("host", undefined, deleting.metadata.name))}
          onClose={(done) => {
            setDeleting(null);
            if (done) refresh();
          }}
        />
      )}
    </>
  );
}
