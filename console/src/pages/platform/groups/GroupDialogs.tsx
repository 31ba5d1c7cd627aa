/**
 * A group's dialogs: creating one (name, display name, description, the provider groups it
 * stands for) and its members (added and removed one by one as GroupBindings).
 */
import { useState } from "react";
import {
  Alert,
  Button,
  FormGroup,
  FormHelperText,
  HelperText,
  HelperTextItem,
  Modal,
  ModalBody,
  ModalFooter,
  ModalHeader,
  TextArea,
  TextInput,
  Toolbar,
  ToolbarContent,
  ToolbarItem,
} from "@patternfly/react-core";
import { Table, Tbody, Td, Th, Thead, Tr } from "@patternfly/react-table";
import { useQueryClient } from "@tanstack/react-query";
import { useTranslation } from "react-i18next";
import { FormDialog } from "@/components/FormDialog";
import { ErrorState, Loading } from "@/components/States";
import { useCan } from "@/lib/api/access";
import { api } from "@/lib/api/client";
import { describe } from "@/lib/api/errors";
import { useAll } from "@/lib/api/hooks";
import { Group } from "@/lib/k8s/kinds";
import type { K8sObject } from "@/lib/k8s/types";
import { GroupBinding, HOST } from "../access/kinds";
import { NameField } from "../NameField";
import { dnsLabelProblem } from "../names";
import { GROUP_LABEL, groupBindingBody, groupBody, groupMembers, parseProviderGroups, removal } from "./group";

export function CreateGroupDialog({ onClose }: { onClose(created: boolean): void }) {
  const { t } = useTranslation();
  const [form, setForm] = useState({ name: "", displayName: "", description: "", providerGroups: "" });
  const problem = form.name ? dnsLabelProblem(form.name) : null;
  const { invalid } = parseProviderGroups(form.providerGroups);
  const set = (field: keyof typeof form) => (_event: unknown, value: string) => setForm({ ...form, [field]: value });

  return (
    <FormDialog
      title={t("platform:groups.createTitle")}
      onClose={() => onClose(false)}
      onSubmit={async () => {
        await api.post(Group.path(HOST), groupBody(form));
        onClose(true);
      }}
      submitLabel={t("create")}
      submitTestId="group-submit"
      isSubmitDisabled={!form.name || Boolean(problem) || invalid.length > 0}
    >
      <NameField id="group-name" label={t("name")} value={form.name} onChange={(name) => setForm({ ...form, name })} problem={problem} />
      <FormGroup label={t("platform:groups.displayName")} fieldId="group-display-name">
        <TextInput id="group-display-name" value={form.displayName} onChange={set("displayName")} />
      </FormGroup>
      <FormGroup label={t("platform:groups.description")} fieldId="group-description">
        <TextInput id="group-description" value={form.description} onChange={set("description")} />
      </FormGroup>
      <FormGroup label={t("platform:groups.providerGroups")} fieldId="group-provider-groups">
        <TextArea
          id="group-provider-groups"
          value={form.providerGroups}
          onChange={set("providerGroups")}
          validated={invalid.length ? "error" : "default"}
          resizeOrientation="vertical"
        />
        <FormHelperText>
          <HelperText>
            {invalid.length ? (
              <HelperTextItem variant="error">{t("platform:groups.providerGroupsInvalid", { groups: invalid.join(", ") })}</HelperTextItem>
            ) : (
              <HelperTextItem>{t("platform:groups.providerGroupsHelp")}</HelperTextItem>
            )}
          </HelperText>
        </FormHelperText>
      </FormGroup>
    </FormDialog>
  );
}

export function GroupMembersDialog({ group, onClose }: { group: K8sObject; onClose(): void }) {
  const { t } = useTranslation();
  const client = useQueryClient();
  const name = group.metadata.name;
  const bindings = useAll(GroupBinding, { cluster: HOST, labelSelector: `${GROUP_LABEL}=${name}` });
  const mayAdd = useCan({ verb: "create", group: GroupBinding.group, resource: GroupBinding.plural });
  const mayRemove = useCan({ verb: "delete", group: GroupBinding.group, resource: GroupBinding.plural });
  const [user, setUser] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  async function change(work: () => Promise<unknown>) {
    setBusy(true);
    setError(null);
    try {
      await work();
      setUser("");
    } catch (caught) {
      setError(describe(caught));
    }
    setBusy(false);
    void client.invalidateQueries({ queryKey: ["list", HOST, GroupBinding.resource] });
  }

  const remove = (binding: K8sObject, member: string) => {
    const how = removal(binding, member);
    const path = GroupBinding.path(HOST, undefined, binding.metadata.name);
    return "delete" in how ? api.delete(path) : api.patch(path, how.patch);
  };

  return (
    <Modal isOpen variant="medium" onClose={onClose} aria-labelledby="group-members-title">
      <ModalHeader title={t("platform:groups.membersOf", { name })} labelId="group-members-title" />
      <ModalBody>
        {mayAdd && (
          <Toolbar>
            <ToolbarContent>
              <ToolbarItem>
                <TextInput
                  id="group-member"
                  aria-label={t("platform:members.username")}
                  placeholder={t("platform:members.username")}
                  value={user}
                  onChange={(_event, value) => setUser(value)}
                />
              </ToolbarItem>
              <ToolbarItem>
                <Button
                  onClick={() => void change(() => api.post(GroupBinding.path(HOST), groupBindingBody(name, user.trim())))}
                  isDisabled={busy || !user.trim()}
                  data-testid="group-member-add"
                >
                  {t("platform:members.add")}
                </Button>
              </ToolbarItem>
            </ToolbarContent>
          </Toolbar>
        )}
        {error && <Alert variant="danger" isInline title={error} style={{ marginBottom: 8 }} />}
        {bindings.isPending ? (
          <Loading />
        ) : bindings.error ? (
          <ErrorState error={bindings.error} />
        ) : (
          <Table variant="compact" aria-label={t("platform:groups.members")}>
            <Thead>
              <Tr>
                <Th>{t("platform:members.username")}</Th>
                <Th>{t("platform:groups.source")}</Th>
                {mayRemove && <Th screenReaderText={t("actions")} />}
              </Tr>
            </Thead>
            <Tbody>
              {groupMembers(bindings.data.items).map(({ user: member, binding }) => (
                <Tr key={member} data-row={member}>
                  <Td>{member}</Td>
                  <Td>{binding.metadata.labels?.["iam.atoll.io/identity-provider"] ?? t("platform:groups.manual")}</Td>
                  {mayRemove && (
                    <Td isActionCell>
                      <Button
                        variant="link"
                        isDanger
                        isInline
                        onClick={() => void change(() => remove(binding, member))}
                        isDisabled={busy}
                        aria-label={t("platform:groups.removeMember", { name: member })}
                      >
                        {t("platform:members.remove")}
                      </Button>
                    </Td>
                  )}
                </Tr>
              ))}
            </Tbody>
          </Table>
        )}
      </ModalBody>
      <ModalFooter>
        <Button variant="primary" onClick={onClose}>
          {t("close")}
        </Button>
      </ModalFooter>
    </Modal>
  );
}
