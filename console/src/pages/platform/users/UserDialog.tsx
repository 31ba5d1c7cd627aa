/**
 * Creating a user (name, display name, e-mail, password, platform role) and changing a
 * user's platform role. The password policy is the server's: what it refuses is shown as
 * it says it, beside the form.
 */
import { useState, type ReactNode } from "react";
import {
  Alert,
  Button,
  Form,
  FormGroup,
  FormHelperText,
  FormSelect,
  FormSelectOption,
  HelperText,
  HelperTextItem,
  Modal,
  ModalBody,
  ModalFooter,
  ModalHeader,
  TextInput,
} from "@patternfly/react-core";
import { useTranslation } from "react-i18next";
import { useAll } from "@/lib/api/hooks";
import { api } from "@/lib/api/client";
import { describe } from "@/lib/api/errors";
import { GlobalRole, User } from "@/lib/k8s/kinds";
import type { K8sObject } from "@/lib/k8s/types";
import { userNameProblem } from "../names";
import { DEFAULT_GLOBAL_ROLE, platformRole, rolePatch, userBody } from "./user";

function RoleSelect({ value, onChange }: { value: string; onChange(role: string): void }) {
  const { t } = useTranslation();
  const roles = useAll(GlobalRole, { cluster: "host", sortBy: "name", ascending: true }, { live: false });
  const names = roles.data?.items.map((role) => role.metadata.name) ?? [value];
  return (
    <FormGroup label={t("platform:users.role")} fieldId="user-role" isRequired>
      <FormSelect id="user-role" data-testid="user-role" value={value} onChange={(_event, chosen) => onChange(chosen)}>
        {(names.includes(value) ? names : [value, ...names]).map((name) => (
          <FormSelectOption key={name} value={name} label={name} />
        ))}
      </FormSelect>
      {roles.error && (
        <FormHelperText>
          <HelperText>
            <HelperTextItem variant="warning">{describe(roles.error)}</HelperTextItem>
          </HelperText>
        </FormHelperText>
      )}
    </FormGroup>
  );
}

function Dialog({ title, busy, error, ready, submitLabel, onSubmit, onClose, children }: {
  title: string;
  busy: boolean;
  error: string | null;
  ready: boolean;
  submitLabel: string;
  onSubmit(): void;
  onClose(): void;
  children: ReactNode;
}) {
  const { t } = useTranslation();
  return (
    <Modal isOpen variant="small" onClose={onClose} aria-labelledby="user-dialog-title">
      <ModalHeader title={title} labelId="user-dialog-title" />
      <ModalBody>
        <Form
          id="user-form"
          onSubmit={(event) => {
            event.preventDefault();
            onSubmit();
          }}
        >
          {children}
          {error && <Alert variant="danger" isInline title={error} data-testid="user-error" />}
        </Form>
      </ModalBody>
      <ModalFooter>
        <Button type="submit" form="user-form" isLoading={busy} isDisabled={busy || !ready} data-testid="user-submit">
          {submitLabel}
        </Button>
        <Button variant="link" onClick={onClose}>
          {t("cancel")}
        </Button>
      </ModalFooter>
    </Modal>
  );
}

function useSubmit(onDone: () => void) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const run = async (work: () => Promise<unknown>) => {
    setBusy(true);
    setError(null);
    try {
      await work();
      onDone();
    } catch (caught) {
      setError(describe(caught));
      setBusy(false);
    }
  };
  return { busy, error, run };
}

export function CreateUserDialog({ onClose }: { onClose(created: boolean): void }) {
  const { t } = useTranslation();
  const [form, setForm] = useState({ name: "", displayName: "", email: "", password: "", role: DEFAULT_GLOBAL_ROLE });
  const [touched, setTouched] = useState(false);
  const submit = useSubmit(() => onClose(true));
  const problem = userNameProblem(form.name);
  const set = (field: keyof typeof form) => (_event: unknown, value: string) => setForm({ ...form, [field]: value });
  return (
    <Dialog
      title={t("platform:users.createTitle")}
      busy={submit.busy}
      error={submit.error}
      ready={!problem && Boolean(form.password)}
      submitLabel={t("create")}
      onClose={() => onClose(false)}
      onSubmit={() => void submit.run(() => api.post(User.path("host"), userBody(form)))}
    >
      <FormGroup label={t("platform:users.name")} fieldId="user-name" isRequired>
        <TextInput id="user-name" data-testid="user-name" value={form.name} onChange={set("name")} onBlur={() => setTouched(true)} validated={touched && problem ? "error" : "default"} isRequired autoComplete="off" />
        {touched && problem && (
          <FormHelperText>
            <HelperText>
              <HelperTextItem variant="error">{t(`platform:${problem}`)}</HelperTextItem>
            </HelperText>
          </FormHelperText>
        )}
      </FormGroup>
      <FormGroup label={t("platform:users.displayName")} fieldId="user-display-name">
        <TextInput id="user-display-name" value={form.displayName} onChange={set("displayName")} />
      </FormGroup>
      <FormGroup label={t("platform:users.email")} fieldId="user-email">
        <TextInput id="user-email" data-testid="user-email" type="email" value={form.email} onChange={set("email")} />
      </FormGroup>
      <FormGroup label={t("platform:users.password")} fieldId="user-password" isRequired>
        <TextInput id="user-password" data-testid="user-password" type="password" value={form.password} onChange={set("password")} isRequired autoComplete="new-password" />
        <FormHelperText>
          <HelperText>
            <HelperTextItem>{t("platform:users.passwordHelp")}</HelperTextItem>
          </HelperText>
        </FormHelperText>
      </FormGroup>
      <RoleSelect value={form.role} onChange={(role) => setForm({ ...form, role })} />
    </Dialog>
  );
}

export function RoleDialog({ user, onClose }: { user: K8sObject; onClose(changed: boolean): void }) {
  const { t } = useTranslation();
  const [role, setRole] = useState(platformRole(user));
  const submit = useSubmit(() => onClose(true));
  return (
    <Dialog
      title={t("platform:users.roleTitle", { name: user.metadata.name })}
      busy={submit.busy}
      error={submit.error}
      ready={role !== platformRole(user)}
      submitLabel={t("save")}
      onClose={() => onClose(false)}
      onSubmit={() => void submit.run(() => api.patch(User.path("host", undefined, user.metadata.name), rolePatch(role)))}
    >
      <RoleSelect value={role} onChange={setRole} />
    </Dialog>
  );
}
