/**
 * Step 3: how the workload changes and runs. Long-running kinds choose how pods are replaced
 * on an update (each kind has its own choices); Jobs say how many pods must succeed and how
 * often to retry; a CronJob adds its schedule.
 */
import { Checkbox, Form, Radio } from "@patternfly/react-core";
import { useTranslation } from "react-i18next";
import { TRAITS, type CronForm, type JobForm, type StrategyForm, type StrategyType } from "./model";
import { SelectField, TextField } from "./fields";
import type { StepProps } from "./steps";

function UpdateStrategy({ state, onChange }: StepProps) {
  const { t } = useTranslation();
  const strategy = state.strategy;
  const set = (patch: Partial<StrategyForm>) => onChange({ ...state, strategy: { ...strategy, ...patch } });
  const rolling = strategy.type === "RollingUpdate";
  return (
    <>
      {TRAITS[state.kind].strategies.map((type: StrategyType) => (
        <Radio
          key={type}
          id={`strategy-${type}`}
          data-testid={`strategy-${type}`}
          name="strategy"
          label={t(`wizard:strategy.types.${type}`)}
          description={t(`wizard:strategy.hint.${state.kind}.${type}`)}
          isChecked={strategy.type === type}
          onChange={() => set({ type })}
        />
      ))}
      {rolling && state.kind === "Deployment" && (
        <TextField id="strategy-max-surge" path="strategy.maxSurge" label={t("wizard:strategy.maxSurge")} value={strategy.maxSurge} onChange={(maxSurge) => set({ maxSurge })} hint={t("wizard:strategy.maxSurgeHint")} isRequired />
      )}
      {rolling && state.kind !== "StatefulSet" && (
        <TextField
          id="strategy-max-unavailable"
          path="strategy.maxUnavailable"
          label={t("wizard:strategy.maxUnavailable")}
          value={strategy.maxUnavailable}
          onChange={(maxUnavailable) => set({ maxUnavailable })}
          hint={t("wizard:strategy.maxUnavailableHint")}
          isRequired
        />
      )}
      {rolling && state.kind === "StatefulSet" && (
        <TextField id="strategy-partition" path="strategy.partition" label={t("wizard:strategy.partition")} value={strategy.partition} onChange={(partition) => set({ partition })} type="number" hint={t("wizard:strategy.partitionHint")} isRequired />
      )}
    </>
  );
}

function JobFields({ state, onChange }: StepProps) {
  const { t } = useTranslation();
  const set = (patch: Partial<JobForm>) => onChange({ ...state, job: { ...state.job, ...patch } });
  const setCron = (patch: Partial<CronForm>) => onChange({ ...state, cron: { ...state.cron, ...patch } });
  return (
    <>
      {state.kind === "CronJob" && (
        <>
          <TextField id="cron-schedule" path="cron.schedule" label={t("wizard:cron.schedule")} value={state.cron.schedule} onChange={(schedule) => setCron({ schedule })} hint={t("wizard:cron.scheduleHint")} isRequired placeholder="*/5 * * * *" />
          <SelectField
            id="cron-concurrency"
            label={t("wizard:cron.concurrencyPolicy")}
            value={state.cron.concurrencyPolicy}
            options={(["Allow", "Forbid", "Replace"] as const).map((policy) => ({ value: policy, label: t(`wizard:cron.policies.${policy}`) }))}
            onChange={(policy) => setCron({ concurrencyPolicy: policy as CronForm["concurrencyPolicy"] })}
          />
          <Checkbox id="cron-suspend" data-testid="cron-suspend" label={t("wizard:cron.suspend")} isChecked={state.cron.suspend} onChange={(_event, suspend) => setCron({ suspend })} />
        </>
      )}
      <TextField id="job-completions" path="job.completions" label={t("wizard:job.completions")} value={state.job.completions} onChange={(completions) => set({ completions })} type="number" isRequired hint={t("wizard:job.completionsHint")} />
      <TextField id="job-parallelism" path="job.parallelism" label={t("wizard:job.parallelism")} value={state.job.parallelism} onChange={(parallelism) => set({ parallelism })} type="number" isRequired hint={t("wizard:job.parallelismHint")} />
      <TextField id="job-backoff-limit" path="job.backoffLimit" label={t("wizard:job.backoffLimit")} value={state.job.backoffLimit} onChange={(backoffLimit) => set({ backoffLimit })} type="number" isRequired hint={t("wizard:job.backoffLimitHint")} />
      <SelectField
        id="job-restart-policy"
        label={t("wizard:job.restartPolicy")}
        value={state.job.restartPolicy}
        options={(["Never", "OnFailure"] as const).map((policy) => ({ value: policy, label: t(`wizard:job.policies.${policy}`) }))}
        onChange={(policy) => set({ restartPolicy: policy as JobForm["restartPolicy"] })}
      />
    </>
  );
}

export default function StrategyStep(props: StepProps) {
  return (
    <Form onSubmit={(event) => event.preventDefault()}>
      {TRAITS[props.state.kind].batch ? <JobFields {...props} /> : <UpdateStrategy {...props} />}
    </Form>
  );
}
