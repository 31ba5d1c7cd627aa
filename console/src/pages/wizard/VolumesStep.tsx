/**
 * Step 4: volumes — an existing PersistentVolumeClaim of the project, a temporary directory,
 * or a ConfigMap or Secret (all keys, or chosen ones, as files) — each mounted at one path
 * into the containers chosen.
 */
import { Button, Card, CardBody, CardHeader, CardTitle, Checkbox, Flex, Form, FormGroup, Grid, GridItem } from "@patternfly/react-core";
import { PlusCircleIcon, TrashIcon } from "@patternfly/react-icons";
import { useTranslation } from "react-i18next";
import { containerName, newVolume, type VolumeForm, type VolumeType, type WizardState } from "./model";
import { FieldHelp, SelectField, TextField, removeAt, replaceAt, useProblem } from "./fields";
import { ListError, keysOf, names, useProjectObjects } from "./projectObjects";
import type { StepProps } from "./steps";

const TYPES: VolumeType[] = ["persistentVolumeClaim", "emptyDir", "configMap", "secret"];

function Keys({ id, volume, available, onChange }: { id: string; volume: VolumeForm; available: string[]; onChange(keys: string[]): void }) {
  const { t } = useTranslation();
  if (!available.length) return null;
  return (
    <FormGroup label={t("wizard:volume.keys")} fieldId={`${id}-keys`} role="group" labelInfo={t("wizard:volume.keysHint")}>
      <Flex>
        {available.map((key) => (
          <Checkbox
            key={key}
            id={`${id}-key-${key}`}
            data-testid={`${id}-key-${key}`}
            label={key}
            isChecked={volume.keys.includes(key)}
            onChange={(_event, checked) => onChange(checked ? [...volume.keys, key] : volume.keys.filter((item) => item !== key))}
          />
        ))}
      </Flex>
    </FormGroup>
  );
}

function MountTargets({ id, path, state, volume, onChange }: { id: string; path: string; state: WizardState; volume: VolumeForm; onChange(containers: string[]): void }) {
  const { t } = useTranslation();
  const { problem } = useProblem(path);
  return (
    <FormGroup label={t("wizard:volume.containers")} fieldId={`${id}-containers`} role="group" isRequired>
      <Flex>
        {state.containers.map((container, index) => (
          <Checkbox
            key={container.id}
            id={`${id}-container-${index}`}
            data-testid={`${id}-container-${index}`}
            label={containerName(state, index)}
            isChecked={volume.containers.includes(container.id)}
            onChange={(_event, checked) => onChange(checked ? [...volume.containers, container.id] : volume.containers.filter((item) => item !== container.id))}
          />
        ))}
      </Flex>
      <FieldHelp id={`${id}-containers`} problem={problem} />
    </FormGroup>
  );
}

function VolumeFields({ state, index, onChange }: { state: WizardState; index: number; onChange(volume: VolumeForm): void }) {
  const { t } = useTranslation();
  const objects = useProjectObjects();
  const volume = state.volumes[index];
  const id = `volume-${index}`;
  const path = `volumes.${index}`;
  const set = (patch: Partial<VolumeForm>) => onChange({ ...volume, ...patch });
  const listed = volume.type === "persistentVolumeClaim" ? objects.claims : volume.type === "configMap" ? objects.configMaps : objects.secrets;
  const chosen = listed.items.find((object) => object.metadata.name === volume.source);
  return (
    <>
      <Grid hasGutter>
        <GridItem md={4}>
          <TextField id={`${id}-name`} path={`${path}.name`} label={t("wizard:volume.name")} value={volume.name} onChange={(name) => set({ name })} isRequired />
        </GridItem>
        {volume.type !== "emptyDir" && (
          <GridItem md={8}>
            <SelectField
              id={`${id}-source`}
              path={`${path}.source`}
              label={t(`wizard:volume.types.${volume.type}`)}
              value={volume.source}
              placeholder={t("wizard:choose")}
              options={names(listed).map((name) => ({ value: name, label: name }))}
              onChange={(source) => set({ source, keys: [] })}
              hint={listed.items.length ? undefined : t(`wizard:volume.none.${volume.type}`)}
              isRequired
            />
            <ListError listed={listed} />
          </GridItem>
        )}
      </Grid>
      {volume.type === "emptyDir" && (
        <Checkbox id={`${id}-memory`} data-testid={`${id}-memory`} label={t("wizard:volume.memory")} isChecked={volume.memory} onChange={(_event, memory) => set({ memory })} />
      )}
      {(volume.type === "configMap" || volume.type === "secret") && <Keys id={id} volume={volume} available={keysOf(chosen)} onChange={(keys) => set({ keys })} />}
      <Grid hasGutter>
        <GridItem md={8}>
          <TextField id={`${id}-path`} path={`${path}.mountPath`} label={t("wizard:volume.mountPath")} value={volume.mountPath} onChange={(mountPath) => set({ mountPath })} isRequired placeholder="/data" />
        </GridItem>
        <GridItem md={4} style={{ alignSelf: "center" }}>
          <Checkbox id={`${id}-read-only`} data-testid={`${id}-read-only`} label={t("wizard:volume.readOnly")} isChecked={volume.readOnly} onChange={(_event, readOnly) => set({ readOnly })} />
        </GridItem>
      </Grid>
      <MountTargets id={id} path={`${path}.containers`} state={state} volume={volume} onChange={(containers) => set({ containers })} />
    </>
  );
}

/** `volume-<n>` for the first n not taken. */
function freeName(state: WizardState): number {
  let n = 0;
  while (state.volumes.some((volume) => volume.name === `volume-${n + 1}`)) n++;
  return n;
}

export default function VolumesStep({ state, onChange }: StepProps) {
  const { t } = useTranslation();
  const add = (type: VolumeType) => {
    // A new volume goes into every regular container; the user unticks what it should not.
    const targets = state.containers.filter((container) => !container.init).map((container) => container.id);
    onChange({ ...state, volumes: [...state.volumes, newVolume(type, freeName(state), targets)] });
  };
  return (
    <Form onSubmit={(event) => event.preventDefault()}>
      {!state.volumes.length && <p>{t("wizard:volume.empty")}</p>}
      {state.volumes.map((volume, index) => (
        <Card key={volume.id} isCompact data-testid={`volume-${index}`}>
          <CardHeader
            actions={{
              actions: (
                <Button variant="plain" icon={<TrashIcon />} aria-label={t("wizard:volume.remove", { name: volume.name })} onClick={() => onChange({ ...state, volumes: removeAt(state.volumes, index) })} data-testid={`volume-${index}-remove`} />
              ),
            }}
          >
            <CardTitle component="h2">{t(`wizard:volume.types.${volume.type}`)}</CardTitle>
          </CardHeader>
          <CardBody>
            <VolumeFields state={state} index={index} onChange={(next) => onChange({ ...state, volumes: replaceAt(state.volumes, index, next) })} />
          </CardBody>
        </Card>
      ))}
      <Flex>
        {TYPES.map((type) => (
          <Button key={type} variant="secondary" icon={<PlusCircleIcon />} onClick={() => add(type)} data-testid={`volume-add-${type}`}>
            {t(`wizard:volume.add.${type}`)}
          </Button>
        ))}
      </Flex>
    </Form>
  );
}
