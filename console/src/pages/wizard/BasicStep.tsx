/** Step 1: what the workload is called, what it is, and how many replicas it runs. */
import { Form } from "@patternfly/react-core";
import { useTranslation } from "react-i18next";
import { TRAITS, WORKLOAD_KINDS, kindOf, withKind, type WizardState } from "./model";
import { SelectField, TextField } from "./fields";
import type { StepProps } from "./steps";

export default function BasicStep({ state, onChange }: StepProps) {
  const { t } = useTranslation();
  const set = (patch: Partial<WizardState>) => onChange({ ...state, ...patch });
  return (
    <Form onSubmit={(event) => event.preventDefault()}>
      <SelectField
        id="wizard-kind"
        label={t("wizard:basic.kind")}
        value={state.kind}
        options={WORKLOAD_KINDS.map((kind) => ({ value: kind, label: t(`wizard:kinds.${kind}`) }))}
        onChange={(value) => onChange(withKind(state, kindOf(value)))}
        hint={t(`wizard:kindHints.${state.kind}`)}
      />
      <TextField
        id="wizard-name"
        path="name"
        label={t("wizard:basic.name")}
        value={state.name}
        onChange={(name) => set({ name })}
        isRequired
        placeholder="web"
        hint={t("wizard:basic.nameHint", { limit: TRAITS[state.kind].maxName })}
      />
      <TextField id="wizard-alias" path="alias" label={t("wizard:basic.alias")} value={state.alias} onChange={(alias) => set({ alias })} hint={t("wizard:basic.aliasHint")} />
      <TextField
        id="wizard-description"
        path="description"
        label={t("wizard:basic.description")}
        value={state.description}
        onChange={(description) => set({ description })}
        multiline
      />
      {TRAITS[state.kind].replicas && (
        <TextField id="wizard-replicas" path="replicas" label={t("wizard:basic.replicas")} value={state.replicas} onChange={(replicas) => set({ replicas })} type="number" isRequired />
      )}
    </Form>
  );
}
