/**
 * The members of a scope (a project, a workspace, a cluster): who has which role there,
 * through Atoll's members API. Every scope answers alike at its collection (`…/members`,
 * `…/workspacemembers`, `…/clustermembers`): a list of `{username, roleRef}`; POST a list to
 * add members or change their roles (the server grants the new role before taking the old
 * away); DELETE `…/<user>` to take the role away. So one table serves them all: the page
 * gives the collection, the roles that may be given, what the user may do, and the words of
 * its area. Those allowed add a member (user names suggested as they type), change a role in
 * place, and remove a member after confirming (warned when it is themselves).
 */
import { useEffect, useState } from "react";
import {
  Alert,
  Button,
  FormGroup,
  FormSelect,
  FormSelectOption,
  Label,
  LabelGroup,
  SearchInput,
  TextInput,
  Toolbar,
  ToolbarContent,
  ToolbarItem,
} from "@patternfly/react-core";
import { Table, Tbody, Td, Th, Thead, Tr } from "@patternfly/react-table";
import { TrashIcon } from "@patternfly/react-icons";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { useTranslation } from "react-i18next";
import { FormDialog } from "@/components/FormDialog";
import { ErrorState, Loading } from "@/components/States";
import { api } from "@/lib/api/client";
import { describe } from "@/lib/api/errors";
import { useResourcePage } from "@/lib/api/hooks";
import { useMe } from "@/lib/api/me";
import { watches, type WatchSpec } from "@/lib/api/watch";
import { User } from "@/lib/k8s/kinds";

interface Member {
  username: string;
  roleRef: string;
}

/**
 * The i18n keys of what the table says, in the page's namespace. Each is given the member as
 * `user` and `name`, and the page's `context`; a failure without its key is titled by the
 * server's words alone, and without `removeSelf` no one is warned.
 */
export interface MembersWords {
  title: string;
  user: string;
  role: string;
  /** The label of a member's role picker. */
  roleOf: string;
  /** The button that opens the dialog. */
  add: string;
  addTitle: string;
  addButton: string;
  suggestions: string;
  none: string;
  remove: string;
  removeTitle: string;
  removeBody: string;
  removeSelf?: string;
  addFailed?: string;
  changeFailed?: string;
  removeFailed?: string;
}

export interface MembersProps {
  /** The members collection (`/kapis/iam.atoll.io/v1alpha1/workspaces/shop/workspacemembers`). */
  path: string;
  /** The roles that may be given; undefined while they load. */
  roles: string[] | undefined;
  /** The role offered first when adding, if it may be given. */
  defaultRole?: string;
  /** May add members and change roles. */
  mayEdit: boolean;
  mayRemove: boolean;
  words: MembersWords;
  /** What else the words may name (`{ project: "web" }`). */
  context?: Record<string, string>;
  /** What the members are made of, watched to keep the list live; without it the list is read again after each change made here. */
  watch?: WatchSpec;
}

/** The words a page may leave out. */
type OptionalWord = "removeSelf" | "addFailed" | "changeFailed" | "removeFailed";

/** A word of the table, about a member: undefined when the page has none for it. */
interface Say {
  (word: Exclude<keyof MembersWords, OptionalWord>, user?: string): string;
  (word: OptionalWord, user?: string): string | undefined;
}

function membersKey(path: string): unknown[] {
  return ["members", path];
}

/** The members, read again whenever what `watch` names changes. */
function useMembers(path: string, watch?: WatchSpec) {
  const client = useQueryClient();
  const result = useQuery({
    queryKey: membersKey(path),
    queryFn: ({ signal }) => api.get<{ items: Member[] }>(path, undefined, signal),
  });
  const loaded = result.data !== undefined;
  const watched = JSON.stringify(watch ?? null);
  useEffect(() => {
    if (!loaded || !watch) return;
    let synced = false;
    const refresh = () => void client.invalidateQueries({ queryKey: membersKey(path) });
    return watches.subscribe(watch, {
      // The first frames are the objects as they are: only what changes after counts.
      onEvent() {
        if (synced) refresh();
      },
      onSynced() {
        synced = true;
      },
      onResync() {
        synced = false;
        refresh();
      },
    });
    // `watched` stands for `watch`, which pages build anew on each render.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [client, path, watched, loaded]);
  return result;
}

function RoleSelect({
  id,
  value,
  roles,
  onChange,
  label,
  disabled,
}: {
  id: string;
  value: string;
  roles: string[];
  onChange(role: string): void;
  label: string;
  disabled?: boolean;
}) {
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
function Suggestions({ typed, label, onPick }: { typed: string; label: string; onPick(name: string): void }) {
  const users = useResourcePage(
    User,
    { cluster: "host", name: typed, page: 1, limit: 5, sortBy: "name", ascending: true },
    { enabled: typed.length > 0, live: false },
  );
  const names = (users.data?.items ?? []).map((user) => user.metadata.name).filter((name) => name !== typed);
  if (!names.length) return null;
  return (
    <LabelGroup categoryName={label} numLabels={5}>
      {names.map((name) => (
        <Label key={name} isCompact onClick={() => onPick(name)} data-testid={`suggest-${name}`}>
          {name}
        </Label>
      ))}
    </LabelGroup>
  );
}

function AddMember({
  roles,
  defaultRole,
  save,
  say,
  onClose,
}: {
  roles: string[];
  defaultRole?: string;
  save(member: Member): Promise<void>;
  say: Say;
  onClose(): void;
}) {
  const [username, setUsername] = useState("");
  const [role, setRole] = useState(defaultRole && roles.includes(defaultRole) ? defaultRole : (roles[0] ?? ""));
  return (
    <FormDialog
      title={say("addTitle")}
      onClose={onClose}
      onSubmit={async () => {
        await save({ username: username.trim(), roleRef: role });
        onClose();
      }}
      submitLabel={say("addButton")}
      submitTestId="member-submit"
      isSubmitDisabled={!username.trim() || !role}
      errorTitle={say("addFailed")}
      errorTestId="member-error"
    >
      <FormGroup label={say("user")} fieldId="member-username" isRequired>
        <TextInput
          id="member-username"
          value={username}
          onChange={(_event, value) => setUsername(value)}
          isRequired
          autoComplete="off"
          data-testid="member-username"
        />
      </FormGroup>
      <Suggestions typed={username.trim()} label={say("suggestions")} onPick={setUsername} />
      <FormGroup label={say("role")} fieldId="member-role" isRequired>
        <RoleSelect id="member-role" value={role} roles={roles} onChange={setRole} label={say("role")} />
      </FormGroup>
    </FormDialog>
  );
}

function RemoveMember({ user, remove, say, onClose }: { user: string; remove(): Promise<void>; say: Say; onClose(): void }) {
  const me = useMe();
  const self = say("removeSelf", user);
  return (
    <FormDialog
      title={say("removeTitle", user)}
      warning
      onClose={onClose}
      onSubmit={async () => {
        await remove();
        onClose();
      }}
      submitLabel={say("remove", user)}
      submitVariant="danger"
      submitTestId="confirm-remove"
      errorTitle={say("removeFailed", user)}
    >
      <p>{say("removeBody", user)}</p>
      {self && me.data?.name === user && <Alert variant="warning" isInline isPlain title={self} />}
    </FormDialog>
  );
}

export function Members({ path, roles, defaultRole, mayEdit, mayRemove, words, context, watch }: MembersProps) {
  const { t } = useTranslation();
  const client = useQueryClient();
  const members = useMembers(path, watch);
  const [filter, setFilter] = useState("");
  const [adding, setAdding] = useState(false);
  const [removing, setRemoving] = useState<string | null>(null);
  const [changing, setChanging] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(null);
  const say = ((word: keyof MembersWords, user = "") => {
    const key = words[word];
    return key === undefined ? undefined : t(key, { ...context, user, name: user });
  }) as Say;

  const changed = () => void client.invalidateQueries({ queryKey: membersKey(path) });
  const save = async (member: Member) => {
    await api.post(path, [member]);
    changed();
  };
  const changeRole = async (member: Member) => {
    setChanging(member.username);
    setError(null);
    try {
      await save(member);
    } catch (failure) {
      setError(failure);
    } finally {
      setChanging(null);
    }
  };

  if (members.isPending) return <Loading />;
  if (members.error) return <ErrorState error={members.error} retry={() => void members.refetch()} />;
  const shown = members.data.items.filter((member) => member.username.includes(filter.trim()));
  const changeFailed = say("changeFailed");
  return (
    <>
      <Toolbar>
        <ToolbarContent>
          <ToolbarItem>
            <SearchInput
              aria-label={t("list.filterByName")}
              placeholder={t("list.filterByName")}
              value={filter}
              onChange={(_event, value) => setFilter(value)}
              onClear={() => setFilter("")}
            />
          </ToolbarItem>
          {mayEdit && (
            <ToolbarItem>
              <Button onClick={() => setAdding(true)} isDisabled={!roles?.length} data-testid="add-member">
                {say("add")}
              </Button>
            </ToolbarItem>
          )}
        </ToolbarContent>
      </Toolbar>
      {error !== null && (
        <Alert variant="danger" isInline title={changeFailed ?? describe(error)} data-testid="member-error" style={{ marginBottom: 8 }}>
          {changeFailed && describe(error)}
        </Alert>
      )}
      <Table variant="compact" aria-label={say("title")} data-testid="members">
        <Thead>
          <Tr>
            <Th width={50}>{say("user")}</Th>
            <Th width={30}>{say("role")}</Th>
            {mayRemove && <Th screenReaderText={t("actions")} />}
          </Tr>
        </Thead>
        <Tbody>
          {shown.length === 0 && (
            <Tr>
              <Td colSpan={3}>{say("none")}</Td>
            </Tr>
          )}
          {shown.map(({ username, roleRef }) => (
            <Tr key={username} data-row={username}>
              <Td dataLabel={say("user")}>{username}</Td>
              <Td dataLabel={say("role")}>
                {mayEdit && roles ? (
                  <RoleSelect
                    id={`role-${username}`}
                    value={roleRef}
                    roles={roles}
                    label={say("roleOf", username)}
                    disabled={changing === username}
                    onChange={(role) => void changeRole({ username, roleRef: role })}
                  />
                ) : (
                  roleRef
                )}
              </Td>
              {mayRemove && (
                <Td isActionCell>
                  <Button
                    variant="plain"
                    icon={<TrashIcon />}
                    aria-label={say("removeTitle", username)}
                    onClick={() => setRemoving(username)}
                    data-testid={`remove-${username}`}
                  />
                </Td>
              )}
            </Tr>
          ))}
        </Tbody>
      </Table>
      {adding && roles && <AddMember roles={roles} defaultRole={defaultRole} save={save} say={say} onClose={() => setAdding(false)} />}
      {removing && (
        <RemoveMember
          user={removing}
          remove={async () => {
            await api.delete(`${path}/${encodeURIComponent(removing)}`);
            changed();
          }}
          say={say}
          onClose={() => setRemoving(null)}
        />
      )}
    </>
  );
}
