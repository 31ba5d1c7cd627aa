/**
 * Platform › Groups: Atoll's groups (live, paged) with the identity-provider groups each
 * stands for; their members are managed in a dialog. Roles are bound to a group as to a
 * user, so a group is how a team gets a role at once.
 */
import { useState } from "react";
import { Button, Label, LabelGroup, PageSection, Title } from "@patternfly/react-core";
import { useQueryClient } from "@tanstack/react-query";
import { useTranslation } from "react-i18next";
import { ResourceTable, ageColumn, nameColumn, type Column } from "@/components/ResourceTable";
import { useCan } from "@/lib/api/access";
import { api } from "@/lib/api/client";
import { fetchPage } from "@/lib/api/hooks";
import { Group } from "@/lib/k8s/kinds";
import type { K8sObject } from "@/lib/k8s/types";
import { detailPath } from "@/pages/resources/views";
import { GroupBinding, HOST } from "../access/kinds";
import { ConfirmDialog } from "../ConfirmDialog";
import { CreateGroupDialog, GroupMembersDialog } from "./GroupDialogs";
import { GROUP_LABEL } from "./group";

/** The group, then the bindings that named it (left alone they would name a group no more). */
async function deleteGroup(name: string): Promise<void> {
  await api.delete(Group.path(HOST, undefined, name));
  const bindings = await fetchPage(GroupBinding, { cluster: HOST, labelSelector: `${GROUP_LABEL}=${name}`, limit: 500 });
  await Promise.all(bindings.items.map((binding) => api.delete(GroupBinding.path(HOST, undefined, binding.metadata.name))));
}

export default function GroupsPage() {
  const { t } = useTranslation();
  const client = useQueryClient();
  const [creating, setCreating] = useState(false);
  const [members, setMembers] = useState<K8sObject | null>(null);
  const [deleting, setDeleting] = useState<K8sObject | null>(null);
  const mayCreate = useCan({ verb: "create", group: Group.group, resource: Group.plural });
  const mayDelete = useCan({ verb: "delete", group: Group.group, resource: Group.plural });
  const refresh = () => void client.invalidateQueries({ queryKey: ["list", HOST, Group.resource] });
  const columns: Column[] = [
    nameColumn(t("name")),
    { id: "display", title: t("platform:groups.displayName"), width: 15, render: (group) => group.spec?.displayName ?? "" },
    { id: "description", title: t("platform:groups.description"), width: 20, render: (group) => group.spec?.description ?? "" },
    {
      id: "provider",
      title: t("platform:groups.providerGroups"),
      width: 20,
      render: (group) => (
        <LabelGroup numLabels={3}>
          {((group.spec?.providerGroups as string[] | undefined) ?? []).map((item) => (
            <Label key={item} isCompact>
              {item}
            </Label>
          ))}
        </LabelGroup>
      ),
    },
    {
      id: "members",
      title: t("platform:groups.members"),
      width: 10,
      render: (group) => (
        <Button variant="link" isInline onClick={() => setMembers(group)} data-testid={`members-${group.metadata.name}`}>
          {t("platform:groups.showMembers")}
        </Button>
      ),
    },
    ageColumn(t("age")),
  ];
  return (
    <>
      <PageSection>
        <Title headingLevel="h1">{t("platform:groups.title")}</Title>
      </PageSection>
      <PageSection>
        <ResourceTable
          kind={Group}
          scope={{ cluster: HOST }}
          columns={columns}
          link={(group) => detailPath(HOST, Group.resource, group.metadata.name)}
          actions={mayDelete ? (group) => [{ title: t("delete"), isDanger: true, onClick: () => setDeleting(group) }] : undefined}
          toolbar={
            mayCreate ? (
              <Button onClick={() => setCreating(true)} data-testid="create-group">
                {t("platform:groups.create")}
              </Button>
            ) : undefined
          }
        />
      </PageSection>
      {creating && (
        <CreateGroupDialog
          onClose={(created) => {
            setCreating(false);
            if (created) refresh();
          }}
        />
      )}
      {members && <GroupMembersDialog group={members} onClose={() => setMembers(null)} />}
      {deleting && (
        <ConfirmDialog
          title={t("platform:groups.deleteTitle", { name: deleting.metadata.name })}
          body={t("platform:groups.deleteBody")}
          run={() => deleteGroup(deleting.metadata.name)}
          onClose={(done) => {
            setDeleting(null);
            if (done) refresh();
          }}
        />
      )}
    </>
  );
}
