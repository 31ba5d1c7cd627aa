/**
 * The members of a workspace or a cluster: who has which role there, through Atoll's members
 * API (`…/workspacemembers`, `…/clustermembers`: a list of `{username, roleRef}`; POST a
 * list to add or to change roles; DELETE one to take its role away). Both scopes answer
 * alike, so one table serves both; the page says which roles may be given.
 */
import { useState } from "react";
import {
  Alert,
  Button,
  Form,
  FormGroup,
  FormSelect,
  FormSelectOption,
  Modal,
  ModalBody,
  ModalFooter,
  ModalHeader,
  SearchInput,
  TextInput,
  Toolbar,
  ToolbarContent,
  ToolbarItem,
} from "@patternfly/react-core";
import { ActionsColumn, Table, Tbody, Td, Th, Thead, Tr, type IAction } from "@patternfly/react-table";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { useTranslation } from "react-i18next";
import { ErrorState, Loading } from "@/components/States";
import { api } from "@/lib/api/client";
import { describe } from "@/lib/api/errors";
import { ConfirmDialog } from "../ConfirmDialog";

export interface Member {
  username: string;
  roleRef: string;
}

export function membersKey(path: string): unknown[] {
  return ["members", path];
}

function MemberDialog({
  path,
  roles,
  member,
  onClose,
}: {
  path: string;
  roles: string[];
  /** Changing this member's role; none: adding a member. */
  member?: Member;
  onClose(): void;
}) {
  const { t } = useTranslation();
  const client = useQueryClient();
  const [username, setUsername] = useState(member?.username ?? "");
  const [role, setRole] = useState(member?.roleRef ?? roles[0] ?? "");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  async function submit() {
    setBusy(true);
    setError(null);
    try {
      await api.post(path, [{ username: username.trim(), roleRef: role }]);
      await client.invalidateQueries({ queryKey: membersKey(path) });
      onClose();
    } catch (caught) {
      setError(describe(caught));
      setBusy(false);
    }
  }

  const title = member ? t("platform:members.changeTitle", { name: member.username }) : t("platform:members.addTitle");
  return (
    <Modal isOpen variant="small" onClose={onClose} aria-labelledby="member-title">
      <ModalHeader title={title} labelId="member-title" />
      <ModalBody>
        <Form
          id="member-form"
          onSubmit={(event) => {
            event.preventDefault();
            void submit();
          }}
        >
          <FormGroup label={t("platform:members.username")} fieldId="member-username" isRequired>
            <TextInput id="member-username" value={username} isDisabled={Boolean(member)} onChange={(_event, value) => setUsername(value)} isRequired />
          </FormGroup>
          <FormGroup label={t("platform:members.role")} fieldId="member-role" isRequired>
            <FormSelect id="member-role" value={role} onChange={(_event, value) => setRole(value)}>
              {roles.map((name) => (
                <FormSelectOption key={name} value={name} label={name} />
              ))}
            </FormSelect>
          </FormGroup>
          {error && <Alert variant="danger" isInline title={error} />}
        </Form>
      </ModalBody>
      <ModalFooter>
        <Button type="submit" form="member-form" isLoading={busy} isDisabled={busy || !username.trim() || !role} data-testid="member-submit">
          {member ? t("save") : t("platform:members.add")}
        </Button>
        <Button variant="link" onClick={onClose}>
          {t("cancel")}
        </Button>
      </ModalFooter>
    </Modal>
  );
}

export function Members({
  path,
  roles,
  mayEdit,
  mayRemove,
}: {
  /** The members collection (`/kapis/iam.atoll.io/v1alpha1/workspaces/ws/workspacemembers`). */
  path: string;
  /** The roles that may be given; undefined while they load. */
  roles: string[] | undefined;
  /** May add members and change roles. */
  mayEdit: boolean;
  mayRemove: boolean;
}) {
  const { t } = useTranslation();
  const client = useQueryClient();
  const [filter, setFilter] = useState("");
  const [editing, setEditing] = useState<Member | "new" | null>(null);
  const [removing, setRemoving] = useState<Member | null>(null);
  const members = useQuery({ queryKey: membersKey(path), queryFn: () => api.get<{ items: Member[] }>(path) });

  if (members.isPending) return <Loading />;
  if (members.error) return <ErrorState error={members.error} retry={() => void members.refetch()} />;
  const shown = members.data.items.filter((member) => member.username.includes(filter.trim()));
  const actions = (member: Member): IAction[] => [
    ...(mayEdit ? [{ title: t("platform:members.changeRole"), onClick: () => setEditing(member) }] : []),
    ...(mayRemove ? [{ title: t("platform:members.remove"), isDanger: true, onClick: () => setRemoving(member) }] : []),
  ];
  return (
    <>
      <Toolbar>
        <ToolbarContent>
          <ToolbarItem>
            <SearchInput aria-label={t("list.filterByName")} placeholder={t("list.filterByName")} value={filter} onChange={(_event, value) => setFilter(value)} onClear={() => setFilter("")} />
          </ToolbarItem>
          {mayEdit && (
            <ToolbarItem>
              <Button onClick={() => setEditing("new")} isDisabled={!roles?.length} data-testid="member-add">
                {t("platform:members.add")}
              </Button>
            </ToolbarItem>
          )}
        </ToolbarContent>
      </Toolbar>
      <Table variant="compact" aria-label={t("platform:members.title")}>
        <Thead>
          <Tr>
            <Th>{t("platform:members.username")}</Th>
            <Th>{t("platform:members.role")}</Th>
            {(mayEdit || mayRemove) && <Th screenReaderText={t("actions")} />}
          </Tr>
        </Thead>
        <Tbody>
          {shown.length === 0 && (
            <Tr>
              <Td colSpan={3}>{t("platform:members.none")}</Td>
            </Tr>
          )}
          {shown.map((member) => (
            <Tr key={member.username} data-row={member.username}>
              <Td dataLabel={t("platform:members.username")}>{member.username}</Td>
              <Td dataLabel={t("platform:members.role")}>{member.roleRef}</Td>
              {(mayEdit || mayRemove) && (
                <Td isActionCell>
                  <ActionsColumn items={actions(member)} />
                </Td>
              )}
            </Tr>
          ))}
        </Tbody>
      </Table>
      {editing && roles && (
        <MemberDialog path={path} roles={roles} member={editing === "new" ? undefined : editing} onClose={() => setEditing(null)} />
      )}
      {removing && (
        <ConfirmDialog
          title={t("platform:members.removeTitle", { name: removing.username })}
          body={t("platform:members.removeBody")}
          confirm={t("platform:members.remove")}
          run={() => api.delete(`${path}/${encodeURIComponent(removing.username)}`)}
          onClose={(done) => {
            setRemoving(null);
            if (done) void client.invalidateQueries({ queryKey: membersKey(path) });
          }}
        />
      )}
    </>
  );
}
