/**
 * Creating a user (name, display name, e-mail, password, platform role) and changing a
 * user's platform role. The password policy is the server's: what it refuses is shown as
 * it says it, beside the form.
 */
import { useState } from "react";
import { FormGroup, FormHelperText, FormSelect, FormSelectOption, HelperText, HelperTextItem, TextInput } from "@patternfly/react-core";
import { useTranslation } from "react-i18next";
import { FormDialog } from "@/components/FormDialog";
import { useAll } from "@/lib/api/hooks";
import { api } from "@/lib/api/client";
import { describe } from "@/lib/api/errors";
import { GlobalRole, User } from "@/lib/k8s/kinds";
import type { K8sObject } from "@/lib/k8s/types";
import { NameField } from "../NameField";
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

export function CreateUserDialog({ onClose }: { onClose(created: boolean): void }) {
  const { t } = useTranslation();
  const [form, setForm] = useState({ name: "", displayName: "", email: "", password: "", role: DEFAULT_GLOBAL_ROLE });
  const [touched, setTouched] = useState(false);
  const problem = userNameProblem(form.name);
  const set = (field: keyof typeof form) => (_event: unknown, value: string) => setForm({ ...form, [field]: value });
  return (
    <FormDialog
      title={t("platform:users.createTitle")}
      onClose={() => onClose(false)}
      onSubmit={async () => {
        await api.post(User.path("host"), userBody(form));
        onClose(true);
      }}
      submitLabel={t("create")}
      submitTestId="user-submit"
      isSubmitDisabled={Boolean(problem) || !form.password}
      errorTestId="user-error"
    >
      <NameField id="user-name" label={t("platform:users.name")} value={form.name} onChange={(name) => setForm({ ...form, name })} onBlur={() => setTouched(true)} problem={touched && problem} />
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
    </FormDialog>
  );
}

export function RoleDialog({ user, onClose }: { user: K8sObject; onClose(changed: boolean): void }) {
  const { t } = useTranslation();
  const [role, setRole] = useState(platformRole(user));
  return (
    <FormDialog
      title={t("platform:users.roleTitle", { name: user.metadata.name })}
      onClose={() => onClose(false)}
      onSubmit={async () => {
        await api.patch(User.path("host", undefined, user.metadata.name), rolePatch(role));
        onClose(true);
      }}
      submitLabel={t("save")}
      submitTestId="user-submit"
      isSubmitDisabled={role === platformRole(user)}
      errorTestId="user-error"
    >
      <RoleSelect value={role} onChange={setRole} />
    </FormDialog>
  );
}
