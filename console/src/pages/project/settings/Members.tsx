/**
 * The project's members: who has which role. Those allowed to bind roles in the namespace
 * may add a member, change a role in place, or remove a member (confirming, and warned when
 * it is themselves); everyone else sees the list only. Errors come back in the server's words.
 */
import { useState } from "react";
import {
  Alert,
  Button,
  Form,
  FormGroup,
  FormSelect,
  FormSelectOption,
  Label,
  LabelGroup,
  Modal,
  ModalBody,
  ModalFooter,
  ModalHeader,
  PageSection,
  TextInput,
  Title,
  Toolbar,
  ToolbarContent,
  ToolbarItem,
} from "@patternfly/react-core";
import { Table, Tbody, Td, Th, Thead, Tr } from "@patternfly/react-table";
import { TrashIcon } from "@patternfly/react-icons";
import { useQueryClient } from "@tanstack/react-query";
import { useParams } from "react-router-dom";
import { useTranslation } from "react-i18next";
import { ErrorState, Loading } from "@/components/States";
import { useCan } from "@/lib/api/access";
import { describe } from "@/lib/api/errors";
import { useAll, useResourcePage } from "@/lib/api/hooks";
import { useMe } from "@/lib/api/me";
import { Role, User } from "@/lib/k8s/kinds";
import { BUILT_IN_ROLES, membersKey, removeMember, saveMember, useMembers, type Member } from "./members";

const RBAC = "rbac.authorization.k8s.io";

/** The roles a member may be given: the project's Roles, or the built-in ones. */
function useRoleNames(cluster: string, namespace: string): string[] {
  const roles = useAll(Role, { cluster, namespace });
  const names = (roles.data?.items ?? []).map((role) => role.metadata.name).sort();
  return names.length ? names : BUILT_IN_ROLES;
}

function RoleSelect({ id, value, roles, onChange, label, disabled }: { id: string; value: string; roles: string[]; onChange(role: string): void; label: string; disabled?: boolean }) {
  const options = roles.includes(value) || !value ? roles : [value, ...roles];
  return (
    <FormSelect id={id} value={value} onChange={(_event, chosen) => onChange(chosen)} aria-label={label} isDisabled={disabled} data-testid={id}>
      {options.map((role) => (
        <FormSelectOption key={role} value={role} label={role} />
      ))}
    </FormSelect>
  );
}

/** Users whose names hold what was typed, when the user may list users (else none). */
function Suggestions({ typed, onPick }: { typed: string; onPick(name: string): void }) {
  const { t } = useTranslation();
  const users = useResourcePage(User, { cluster: "host", name: typed, page: 1, limit: 5, sortBy: "name", ascending: true }, { enabled: typed.length > 0, live: false });
  const names = (users.data?.items ?? []).map((user) => user.metadata.name).filter((name) => name !== typed);
  if (!names.length) return null;
  return (
    <LabelGroup categoryName={t("project:members.suggestions")} numLabels={5}>
      {names.map((name) => (
        <Label key={name} isCompact onClick={() => onPick(name)} data-testid={`suggest-${name}`}>
          {name}
        </Label>
      ))}
    </LabelGroup>
  );
}

function AddMember({ cluster, namespace, roles, onClose }: { cluster: string; namespace: string; roles: string[]; onClose(): void }) {
  const { t } = useTranslation();
  const client = useQueryClient();
  const [username, setUsername] = useState("");
  const [role, setRole] = useState(roles.includes("viewer") ? "viewer" : (roles[0] ?? ""));
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const submit = async () => {
    setBusy(true);
    setError(null);
    try {
      await saveMember(cluster, namespace, { username: username.trim(), roleRef: role });
      void client.invalidateQueries({ queryKey: membersKey(cluster, namespace) });
      onClose();
    } catch (failure) {
      setError(failure);
    } finally {
      setBusy(false);
    }
  };
  return (
    <Modal isOpen variant="small" onClose={onClose} aria-labelledby="add-member-title">
      <ModalHeader title={t("project:members.add")} labelId="add-member-title" />
      <ModalBody>
        <Form
          id="add-member-form"
          onSubmit={(event) => {
            event.preventDefault();
            void submit();
          }}
        >
          <FormGroup label={t("project:members.user")} fieldId="member-username" isRequired>
            <TextInput id="member-username" value={username} onChange={(_event, value) => setUsername(value)} isRequired autoComplete="off" data-testid="member-username" />
          </FormGroup>
          <Suggestions typed={username.trim()} onPick={setUsername} />
          <FormGroup label={t("project:members.role")} fieldId="member-role" isRequired>
            <RoleSelect id="member-role" value={role} roles={roles} onChange={setRole} label={t("project:members.role")} />
          </FormGroup>
          {error !== null && (
            <Alert variant="danger" isInline title={t("project:members.addFailed")} data-testid="member-error">
              {describe(error)}
            </Alert>
          )}
        </Form>
      </ModalBody>
      <ModalFooter>
        <Button type="submit" form="add-member-form" isDisabled={busy || !username.trim() || !role} isLoading={busy} data-testid="member-submit">
          {t("project:members.addButton")}
        </Button>
        <Button variant="link" onClick={onClose}>
          {t("cancel")}
        </Button>
      </ModalFooter>
    </Modal>
  );
}

function RemoveMember({ cluster, namespace, user, onClose }: { cluster: string; namespace: string; user: string; onClose(): void }) {
  const { t } = useTranslation();
  const client = useQueryClient();
  const me = useMe();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const remove = async () => {
    setBusy(true);
    setError(null);
    try {
      await removeMember(cluster, namespace, user);
      void client.invalidateQueries({ queryKey: membersKey(cluster, namespace) });
      onClose();
    } catch (failure) {
      setError(failure);
    } finally {
      setBusy(false);
    }
  };
  return (
    <Modal isOpen variant="small" onClose={onClose} aria-labelledby="remove-member-title">
      <ModalHeader title={t("project:members.removeTitle", { user })} labelId="remove-member-title" titleIconVariant="warning" />
      <ModalBody>
        <p>{t("project:members.removeBody", { user, project: namespace })}</p>
        {me.data?.name === user && <Alert variant="warning" isInline isPlain title={t("project:members.removeSelf")} />}
        {error !== null && (
          <Alert variant="danger" isInline title={t("project:members.removeFailed")}>
            {describe(error)}
          </Alert>
        )}
      </ModalBody>
      <ModalFooter>
        <Button variant="danger" onClick={() => void remove()} isLoading={busy} isDisabled={busy} data-testid="confirm-remove">
          {t("project:members.remove")}
        </Button>
        <Button variant="link" onClick={onClose}>
          {t("cancel")}
        </Button>
      </ModalFooter>
    </Modal>
  );
}

export default function Members() {
  const { t } = useTranslation();
  const client = useQueryClient();
  const { cluster = "", namespace = "" } = useParams();
  const members = useMembers(cluster, namespace);
  const roles = useRoleNames(cluster, namespace);
  const mayBind = useCan({ cluster, verb: "create", group: RBAC, resource: "rolebindings", namespace });
  const mayUnbind = useCan({ cluster, verb: "delete", group: RBAC, resource: "rolebindings", namespace });
  const [adding, setAdding] = useState(false);
  const [removing, setRemoving] = useState<string | null>(null);
  const [changing, setChanging] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(null);

  const changeRole = async (member: Member) => {
    setChanging(member.username);
    setError(null);
    try {
      await saveMember(cluster, namespace, member);
      void client.invalidateQueries({ queryKey: membersKey(cluster, namespace) });
    } catch (failure) {
      setError(failure);
    } finally {
      setChanging(null);
    }
  };

  return (
    <>
      <PageSection>
        <Title headingLevel="h1">{t("project:nav.members")}</Title>
      </PageSection>
      <PageSection>
        {members.isPending ? (
          <Loading />
        ) : members.error ? (
          <ErrorState error={members.error} retry={() => void members.refetch()} />
        ) : (
          <>
            <Toolbar>
              <ToolbarContent>
                {mayBind && (
                  <ToolbarItem>
                    <Button onClick={() => setAdding(true)} data-testid="add-member">
                      {t("project:members.add")}
                    </Button>
                  </ToolbarItem>
                )}
              </ToolbarContent>
            </Toolbar>
            {error !== null && (
              <Alert variant="danger" isInline title={t("project:members.changeFailed")} data-testid="member-error" style={{ marginBottom: 8 }}>
                {describe(error)}
              </Alert>
            )}
            <Table variant="compact" aria-label={t("project:nav.members")} data-testid="members">
              <Thead>
                <Tr>
                  <Th width={50}>{t("project:members.user")}</Th>
                  <Th width={30}>{t("project:members.role")}</Th>
                  {mayUnbind && <Th screenReaderText={t("actions")} />}
                </Tr>
              </Thead>
              <Tbody>
                {members.data.items.length === 0 && (
                  <Tr>
                    <Td colSpan={3}>{t("project:members.none")}</Td>
                  </Tr>
                )}
                {members.data.items.map((member) => (
                  <Tr key={member.username} data-row={member.username}>
                    <Td dataLabel={t("project:members.user")}>{member.username}</Td>
                    <Td dataLabel={t("project:members.role")}>
                      {mayBind ? (
                        <RoleSelect
                          id={`role-${member.username}`}
                          value={member.roleRef}
                          roles={roles}
                          label={t("project:members.roleOf", { user: member.username })}
                          disabled={changing === member.username}
                          onChange={(role) => void changeRole({ username: member.username, roleRef: role })}
                        />
                      ) : (
                        member.roleRef
                      )}
                    </Td>
                    {mayUnbind && (
                      <Td isActionCell>
                        <Button
                          variant="plain"
                          icon={<TrashIcon />}
                          aria-label={t("project:members.removeTitle", { user: member.username })}
                          onClick={() => setRemoving(member.username)}
                          data-testid={`remove-${member.username}`}
                        />
                      </Td>
                    )}
                  </Tr>
                ))}
              </Tbody>
            </Table>
          </>
        )}
      </PageSection>
      {adding && <AddMember cluster={cluster} namespace={namespace} roles={roles} onClose={() => setAdding(false)} />}
      {removing && <RemoveMember cluster={cluster} namespace={namespace} user={removing} onClose={() => setRemoving(null)} />}
    </>
  );
}
