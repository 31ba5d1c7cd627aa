/**
 * Step 7: credentials for a private registry — an existing `kubernetes.io/dockerconfigjson`
 * Secret of the project, or a new one made from a server, user name and password (created
 * before the workload, whose pods name it in `imagePullSecrets`).
 */
import { Form, Radio } from "@patternfly/react-core";
import { useTranslation } from "react-i18next";
import { pullSecretName, type PullSecretForm, type PullSecretMode } from "./model";
import { SelectField, TextField } from "./fields";
import { ListError, useProjectObjects } from "./projectObjects";
import type { StepProps } from "./steps";

const DOCKER_CONFIG = "kubernetes.io/dockerconfigjson";

export default function PullSecretStep({ state, onChange, mayCreateSecret }: StepProps & { mayCreateSecret: boolean }) {
  const { t } = useTranslation();
  const { secrets } = useProjectObjects();
  const form = state.pullSecret;
  const set = (patch: Partial<PullSecretForm>) => onChange({ ...state, pullSecret: { ...form, ...patch } });
  const registries = secrets.items.filter((secret) => secret.type === DOCKER_CONFIG).map((secret) => secret.metadata.name).sort();
  const modes: PullSecretMode[] = mayCreateSecret ? ["none", "existing", "new"] : ["none", "existing"];
  return (
    <Form onSubmit={(event) => event.preventDefault()}>
      {modes.map((mode) => (
        <Radio
          key={mode}
          id={`pull-secret-${mode}`}
          data-testid={`pull-secret-${mode}`}
          name="pull-secret-mode"
          label={t(`wizard:pullSecret.modes.${mode}`)}
          description={t(`wizard:pullSecret.hints.${mode}`)}
          isChecked={form.mode === mode}
          onChange={() => set({ mode })}
        />
      ))}
      {form.mode === "existing" && (
        <>
          <SelectField
            id="pull-secret-existing-name"
            path="pullSecret.existing"
            label={t("wizard:pullSecret.existing")}
            value={form.existing}
            placeholder={t("wizard:choose")}
            options={registries.map((name) => ({ value: name, label: name }))}
            onChange={(existing) => set({ existing })}
            hint={registries.length ? undefined : t("wizard:pullSecret.noneYet")}
            isRequired
          />
          <ListError listed={secrets} />
        </>
      )}
      {form.mode === "new" && (
        <>
          <TextField id="pull-secret-name" path="pullSecret.name" label={t("wizard:pullSecret.name")} value={form.name} onChange={(name) => set({ name })} placeholder={pullSecretName({ ...state, pullSecret: { ...form, name: "" } })} />
          <TextField id="pull-secret-server" path="pullSecret.server" label={t("wizard:pullSecret.server")} value={form.server} onChange={(server) => set({ server })} isRequired placeholder="registry.example.com" hint={t("wizard:pullSecret.serverHint")} />
          <TextField id="pull-secret-username" path="pullSecret.username" label={t("wizard:pullSecret.username")} value={form.username} onChange={(username) => set({ username })} isRequired />
          <TextField id="pull-secret-password" path="pullSecret.password" label={t("wizard:pullSecret.password")} value={form.password} onChange={(password) => set({ password })} type="password" isRequired />
          <TextField id="pull-secret-email" path="pullSecret.email" label={t("wizard:pullSecret.email")} value={form.email} onChange={(email) => set({ email })} type="email" />
        </>
      )}
    </Form>
  );
}
