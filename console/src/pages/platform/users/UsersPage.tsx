/**
 * Platform › Users: every user (live, paged) with its state, platform role, provider and
 * last log-in when one is recorded. Those allowed create users, change a user's platform
 * role, disable or enable it, and delete it; nobody is offered to disable or delete
 * themselves.
 */
import { useState } from "react";
import { Button, PageSection, Title } from "@patternfly/react-core";
import type { IAction } from "@patternfly/react-table";
import { useQueryClient } from "@tanstack/react-query";
import { useTranslation } from "react-i18next";
import { ResourceTable, ageColumn, nameColumn, type Column } from "@/components/ResourceTable";
import { StatusLabel } from "@/components/StatusLabel";
import { useCan } from "@/lib/api/access";
import { api } from "@/lib/api/client";
import { useMe } from "@/lib/api/me";
import { age } from "@/lib/format";
import { User } from "@/lib/k8s/kinds";
import type { K8sObject } from "@/lib/k8s/types";
import { detailPath } from "@/pages/resources/views";
import { ConfirmDialog } from "../ConfirmDialog";
import { CreateUserDialog, RoleDialog } from "./UserDialog";
import { isDisabled, platformRole, provider, statePatch, userState } from "./user";

function LastLogin({ user }: { user: K8sObject }) {
  const { t } = useTranslation();
  const when: string | undefined = user.status?.lastLoginTime;
  return when ? <span title={when}>{t("time.ago", { value: age(when) })}</span> : <span style={{ opacity: 0.6 }}>{t("platform:users.never")}</span>;
}

type Pending = { what: "role" | "state" | "delete"; user: K8sObject };

export default function UsersPage() {
  const { t } = useTranslation();
  const client = useQueryClient();
  const me = useMe();
  const [creating, setCreating] = useState(false);
  const [pending, setPending] = useState<Pending | null>(null);
  const check = { group: User.group, resource: User.plural };
  const mayCreate = useCan({ ...check, verb: "create" });
  const mayPatch = useCan({ ...check, verb: "patch" });
  const mayChangeState = useCan({ ...check, verb: "patch", subresource: "status" });
  const mayDelete = useCan({ ...check, verb: "delete" });
  const refresh = () => void client.invalidateQueries({ queryKey: ["list", "host", User.resource] });
  const done = (changed: boolean) => {
    setPending(null);
    if (changed) refresh();
  };

  const columns: Column[] = [
    nameColumn(t("platform:users.name")),
    { id: "email", title: t("platform:users.email"), width: 20, render: (user) => user.spec?.email ?? "" },
    { id: "status", title: t("status"), width: 10, render: (user) => <StatusLabel status={userState(user)} /> },
    { id: "role", title: t("platform:users.role"), width: 15, render: platformRole },
    { id: "provider", title: t("platform:users.provider"), width: 10, render: provider },
    { id: "login", title: t("platform:users.lastLogin"), width: 10, render: (user) => <LastLogin user={user} /> },
    ageColumn(t("age")),
  ];
  const actions = (user: K8sObject): IAction[] => {
    const self = user.metadata.name === me.data?.name;
    const items: IAction[] = [];
    if (mayPatch) items.push({ title: t("platform:users.changeRole"), onClick: () => setPending({ what: "role", user }) });
    if (mayChangeState && !self) {
      items.push({
        title: isDisabled(user) ? t("platform:users.enable") : t("platform:users.disable"),
        onClick: () => setPending({ what: "state", user }),
      });
    }
    if (mayDelete && !self) items.push({ title: t("delete"), isDanger: true, onClick: () => setPending({ what: "delete", user }) });
    return items;
  };
  const path = (user: K8sObject, subresource?: string) => User.path("host", undefined, user.metadata.name, subresource);

  return (
    <>
      <PageSection>
        <Title headingLevel="h1">{t("platform:users.title")}</Title>
      </PageSection>
      <PageSection>
        <ResourceTable
          kind={User}
          scope={{ cluster: "host" }}
          columns={columns}
          link={(user) => detailPath("host", User.resource, user.metadata.name)}
          actions={mayPatch || mayChangeState || mayDelete ? actions : undefined}
          toolbar={
            mayCreate ? (
              <Button onClick={() => setCreating(true)} data-testid="create-user">
                {t("platform:users.create")}
              </Button>
            ) : undefined
          }
        />
      </PageSection>
      {creating && (
        <CreateUserDialog
          onClose={(created) => {
            setCreating(false);
            if (created) refresh();
          }}
        />
      )}
      {pending?.what === "role" && <RoleDialog user={pending.user} onClose={done} />}
      {pending?.what === "state" && (
        <ConfirmDialog
          title={t(isDisabled(pending.user) ? "platform:users.enableTitle" : "platform:users.disableTitle", { name: pending.user.metadata.name })}
          body={t(isDisabled(pending.user) ? "platform:users.enableBody" : "platform:users.disableBody")}
          confirm={isDisabled(pending.user) ? t("platform:users.enable") : t("platform:users.disable")}
          variant={isDisabled(pending.user) ? "primary" : "danger"}
          run={() => api.patch(path(pending.user, "status"), statePatch(!isDisabled(pending.user)))}
          onClose={done}
        />
      )}
      {pending?.what === "delete" && (
        <ConfirmDialog
          title={t("platform:users.deleteTitle", { name: pending.user.metadata.name })}
          body={t("platform:users.deleteBody")}
          run={() => api.delete(path(pending.user))}
          onClose={done}
        />
      )}
    </>
  );
}
