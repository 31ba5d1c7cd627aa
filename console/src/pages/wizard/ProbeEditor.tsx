/**
 * One health check of a container (liveness, readiness or startup): an HTTP GET, a TCP
 * connection or a command, and its timing. Kubernetes' defaults are filled in; choosing HTTP
 * or TCP proposes the container's first port.
 */
import { Grid, GridItem } from "@patternfly/react-core";
import { useTranslation } from "react-i18next";
import type { ProbeForm, ProbeKind, ProbeType } from "./model";
import { SelectField, TextField } from "./fields";

interface ProbeEditorProps {
  /** The container's index. */
  index: number;
  kind: ProbeKind;
  probe: ProbeForm;
  /** The container's first port, proposed for HTTP and TCP checks. */
  firstPort: string;
  onChange(probe: ProbeForm): void;
}

const TYPES: ProbeType[] = ["none", "http", "tcp", "exec"];
const TIMINGS = [
  ["initialDelaySeconds", "initial-delay"],
  ["periodSeconds", "period"],
  ["timeoutSeconds", "timeout"],
  ["failureThreshold", "failure-threshold"],
] as const;

export function ProbeEditor({ index, kind, probe, firstPort, onChange }: ProbeEditorProps) {
  const { t } = useTranslation();
  const id = `probe-${index}-${kind}`;
  const path = `containers.${index}.probes.${kind}`;
  const set = (patch: Partial<ProbeForm>) => onChange({ ...probe, ...patch });
  return (
    <Grid hasGutter data-testid={id}>
      <GridItem md={4}>
        <SelectField
          id={`${id}-type`}
          label={t(`wizard:probe.${kind}`)}
          value={probe.type}
          options={TYPES.map((type) => ({ value: type, label: t(`wizard:probe.types.${type}`) }))}
          onChange={(value) => {
            const type = value as ProbeType;
            set({ type, port: probe.port || (type === "http" || type === "tcp" ? firstPort : "") });
          }}
          hint={t(`wizard:probe.${kind}Hint`)}
        />
      </GridItem>
      {probe.type === "http" && (
        <>
          <GridItem md={4}>
            <TextField id={`${id}-path`} path={`${path}.path`} label={t("wizard:probe.path")} value={probe.path} onChange={(value) => set({ path: value })} isRequired />
          </GridItem>
          <GridItem md={2}>
            <TextField id={`${id}-port`} path={`${path}.port`} label={t("wizard:probe.port")} value={probe.port} onChange={(port) => set({ port })} isRequired />
          </GridItem>
          <GridItem md={2}>
            <SelectField
              id={`${id}-scheme`}
              label={t("wizard:probe.scheme")}
              value={probe.scheme}
              options={["HTTP", "HTTPS"].map((scheme) => ({ value: scheme, label: scheme }))}
              onChange={(scheme) => set({ scheme: scheme as ProbeForm["scheme"] })}
            />
          </GridItem>
        </>
      )}
      {probe.type === "tcp" && (
        <GridItem md={4}>
          <TextField id={`${id}-port`} path={`${path}.port`} label={t("wizard:probe.port")} value={probe.port} onChange={(port) => set({ port })} isRequired />
        </GridItem>
      )}
      {probe.type === "exec" && (
        <GridItem md={8}>
          <TextField
            id={`${id}-command`}
            path={`${path}.command`}
            label={t("wizard:probe.command")}
            value={probe.command}
            onChange={(command) => set({ command })}
            isRequired
            placeholder="cat /tmp/healthy"
          />
        </GridItem>
      )}
      {probe.type !== "none" &&
        TIMINGS.map(([field, suffix]) => (
          <GridItem md={3} key={field}>
            <TextField
              id={`${id}-${suffix}`}
              path={`${path}.${field}`}
              label={t(`wizard:probe.${field}`)}
              value={probe[field]}
              onChange={(value) => set({ [field]: value })}
              type="number"
              isRequired
            />
          </GridItem>
        ))}
    </Grid>
  );
}
