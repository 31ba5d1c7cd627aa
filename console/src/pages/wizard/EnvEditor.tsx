/**
 * A container's environment variables: a plain value, or a key of one of the project's
 * ConfigMaps or Secrets (picked from the live lists, the keys from the object chosen).
 */
import { Button, Grid, GridItem } from "@patternfly/react-core";
import { MinusCircleIcon, PlusCircleIcon } from "@patternfly/react-icons";
import { useTranslation } from "react-i18next";
import { newEnv, type EnvForm, type EnvSource } from "./model";
import { SelectField, TextField, removeAt, replaceAt } from "./fields";
import { ListError, keysOf, names, useProjectObjects } from "./projectObjects";

const SOURCES: EnvSource[] = ["value", "configMap", "secret"];

function EnvRow({ index, at, env, onChange, onRemove }: { index: number; at: number; env: EnvForm; onChange(env: EnvForm): void; onRemove(): void }) {
  const { t } = useTranslation();
  const objects = useProjectObjects();
  const id = `container-${index}-env-${at}`;
  const path = `containers.${index}.env.${at}`;
  const set = (patch: Partial<EnvForm>) => onChange({ ...env, ...patch });
  const listed = env.source === "secret" ? objects.secrets : objects.configMaps;
  const chosen = listed.items.find((object) => object.metadata.name === env.ref);
  return (
    <Grid hasGutter>
      <GridItem md={3}>
        <TextField id={`${id}-name`} path={`${path}.name`} label={t("wizard:env.name")} value={env.name} onChange={(name) => set({ name })} isRequired />
      </GridItem>
      <GridItem md={3}>
        <SelectField
          id={`${id}-source`}
          label={t("wizard:env.source")}
          value={env.source}
          options={SOURCES.map((source) => ({ value: source, label: t(`wizard:env.sources.${source}`) }))}
          onChange={(source) => set({ source: source as EnvSource, ref: "", key: "" })}
        />
      </GridItem>
      {env.source === "value" ? (
        <GridItem md={5}>
          <TextField id={`${id}-value`} path={`${path}.value`} label={t("wizard:env.value")} value={env.value} onChange={(value) => set({ value })} />
        </GridItem>
      ) : (
        <>
          <GridItem md={3}>
            <SelectField
              id={`${id}-ref`}
              path={`${path}.ref`}
              label={t(`wizard:env.sources.${env.source}`)}
              value={env.ref}
              placeholder={t("wizard:choose")}
              options={names(listed).map((name) => ({ value: name, label: name }))}
              onChange={(ref) => set({ ref, key: "" })}
              isRequired
            />
            <ListError listed={listed} />
          </GridItem>
          <GridItem md={2}>
            <SelectField
              id={`${id}-key`}
              path={`${path}.key`}
              label={t("wizard:env.key")}
              value={env.key}
              placeholder={t("wizard:choose")}
              options={keysOf(chosen).map((key) => ({ value: key, label: key }))}
              onChange={(key) => set({ key })}
              isRequired
            />
          </GridItem>
        </>
      )}
      <GridItem md={1} style={{ alignSelf: "end" }}>
        <Button variant="plain" icon={<MinusCircleIcon />} aria-label={t("wizard:env.remove")} onClick={onRemove} data-testid={`${id}-remove`} />
      </GridItem>
    </Grid>
  );
}

export function EnvEditor({ index, env, onChange }: { index: number; env: EnvForm[]; onChange(env: EnvForm[]): void }) {
  const { t } = useTranslation();
  return (
    <>
      {env.map((item, at) => (
        <EnvRow key={item.id} index={index} at={at} env={item} onChange={(next) => onChange(replaceAt(env, at, next))} onRemove={() => onChange(removeAt(env, at))} />
      ))}
      <div>
        <Button variant="link" isInline icon={<PlusCircleIcon />} onClick={() => onChange([...env, newEnv()])} data-testid={`container-${index}-add-env`}>
          {t("wizard:env.add")}
        </Button>
      </div>
    </>
  );
}
