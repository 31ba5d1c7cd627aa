/**
 * Everything about one container: image, name, start command, ports, resources, environment
 * and health checks. Init containers run before the others and have no health checks.
 */
import { Checkbox, FormSection, Grid, GridItem } from "@patternfly/react-core";
import { useTranslation } from "react-i18next";
import { PROBE_KINDS, containerName, type ContainerForm, type PullPolicy, type ResourcesForm, type WizardState } from "./model";
import { SelectField, TextField } from "./fields";
import { EnvEditor } from "./EnvEditor";
import { PortsEditor } from "./PortsEditor";
import { ProbeEditor } from "./ProbeEditor";
import { WordsField } from "./WordsField";

const POLICIES: PullPolicy[] = ["IfNotPresent", "Always", "Never"];
const RESOURCES = [
  ["cpuRequest", "cpu-request", "100m"],
  ["cpuLimit", "cpu-limit", "500m"],
  ["memoryRequest", "memory-request", "128Mi"],
  ["memoryLimit", "memory-limit", "512Mi"],
] as const;

interface ContainerFieldsProps {
  state: WizardState;
  index: number;
  onChange(container: ContainerForm): void;
}

export function ContainerFields({ state, index, onChange }: ContainerFieldsProps) {
  const { t } = useTranslation();
  const container = state.containers[index];
  const id = `container-${index}`;
  const path = `containers.${index}`;
  const set = (patch: Partial<ContainerForm>) => onChange({ ...container, ...patch });
  const setResource = (field: keyof ResourcesForm, value: string) => set({ resources: { ...container.resources, [field]: value } });
  return (
    <>
      <Grid hasGutter>
        <GridItem md={6}>
          <TextField id={`${id}-image`} path={`${path}.image`} label={t("wizard:container.image")} value={container.image} onChange={(image) => set({ image })} isRequired placeholder="nginx:1.27" hint={t("wizard:container.imageHint")} />
        </GridItem>
        <GridItem md={3}>
          <TextField
            id={`${id}-name`}
            path={`${path}.name`}
            label={t("wizard:container.name")}
            value={container.name}
            onChange={(name) => set({ name })}
            placeholder={containerName({ ...state, containers: state.containers.map((item, at) => (at === index ? { ...item, name: "" } : item)) }, index)}
            hint={t("wizard:container.nameHint")}
          />
        </GridItem>
        <GridItem md={3}>
          <SelectField
            id={`${id}-pull-policy`}
            label={t("wizard:container.pullPolicy")}
            value={container.imagePullPolicy}
            options={POLICIES.map((policy) => ({ value: policy, label: t(`wizard:container.policies.${policy}`) }))}
            onChange={(policy) => set({ imagePullPolicy: policy as PullPolicy })}
          />
        </GridItem>
      </Grid>
      <Checkbox
        id={`${id}-init`}
        data-testid={`${id}-init`}
        label={t("wizard:container.init")}
        description={t("wizard:container.initHint")}
        isChecked={container.init}
        onChange={(_event, init) => set({ init })}
      />
      <FormSection title={t("wizard:container.start")} titleElement="h3">
        <WordsField id={`${id}-command`} path={`${path}.command`} label={t("wizard:container.command")} value={container.command} onChange={(command) => set({ command })} placeholder="python3 -m http.server 8000" />
        <WordsField id={`${id}-args`} path={`${path}.args`} label={t("wizard:container.args")} value={container.args} onChange={(args) => set({ args })} placeholder="--port 8080" />
      </FormSection>
      <FormSection title={t("wizard:container.ports")} titleElement="h3">
        <PortsEditor index={index} ports={container.ports} onChange={(ports) => set({ ports })} />
      </FormSection>
      <FormSection title={t("wizard:container.resources")} titleElement="h3">
        <Grid hasGutter>
          {RESOURCES.map(([field, suffix, example]) => (
            <GridItem md={3} key={field}>
              <TextField id={`${id}-${suffix}`} path={`${path}.resources.${field}`} label={t(`wizard:container.${field}`)} value={container.resources[field]} onChange={(value) => setResource(field, value)} placeholder={example} />
            </GridItem>
          ))}
        </Grid>
      </FormSection>
      <FormSection title={t("wizard:container.env")} titleElement="h3">
        <EnvEditor index={index} env={container.env} onChange={(env) => set({ env })} />
      </FormSection>
      {!container.init && (
        <FormSection title={t("wizard:container.probes")} titleElement="h3">
          {PROBE_KINDS.map((kind) => (
            <ProbeEditor
              key={kind}
              index={index}
              kind={kind}
              probe={container.probes[kind]}
              firstPort={container.ports[0]?.containerPort ?? ""}
              onChange={(probe) => set({ probes: { ...container.probes, [kind]: probe } })}
            />
          ))}
        </FormSection>
      )}
    </>
  );
}
