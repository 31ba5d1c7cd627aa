/**
 * Step 6 (long-running kinds only): a Service made along with the workload, of its name and
 * with its selector, exposing the container ports chosen (each on a port of its own, and on
 * every node for a NodePort Service).
 */
import { Alert, Checkbox, Form, FormHelperText, Grid, GridItem, HelperText, HelperTextItem, Radio } from "@patternfly/react-core";
import { useTranslation } from "react-i18next";
import { containerName, serviceName, servicePorts, type ServiceForm, type ServicePortForm, type ServiceType } from "./model";
import { TextField, useProblem } from "./fields";
import type { StepProps } from "./steps";

const TYPES: ServiceType[] = ["None", "ClusterIP", "NodePort"];

function Ports({ state, onChange }: StepProps) {
  const { t } = useTranslation();
  const exposed = servicePorts(state);
  const setEntry = (id: string, entry: ServicePortForm) => onChange({ ...state, service: { ...state.service, ports: { ...state.service.ports, [id]: entry } } });
  if (!exposed.length) return null;
  return (
    <>
      {exposed.map(({ id, container, port, entry }, at) => {
        const testId = `service-port-${at}`;
        const path = `service.ports.${id}`;
        const target = t("wizard:service.target", { container: containerName(state, container), port: port.containerPort, protocol: port.protocol });
        return (
          <Grid hasGutter key={id}>
            <GridItem md={4} style={{ alignSelf: "center" }}>
              <Checkbox id={`${testId}-expose`} data-testid={`${testId}-expose`} label={target} isChecked={entry.expose} onChange={(_event, expose) => setEntry(id, { ...entry, expose })} />
            </GridItem>
            {entry.expose && (
              <GridItem md={4}>
                <TextField id={testId} path={`${path}.port`} label={t("wizard:service.port")} value={entry.port} onChange={(value) => setEntry(id, { ...entry, port: value })} type="number" isRequired />
              </GridItem>
            )}
            {entry.expose && state.service.type === "NodePort" && (
              <GridItem md={4}>
                <TextField id={`${testId}-node-port`} path={`${path}.nodePort`} label={t("wizard:service.nodePort")} value={entry.nodePort} onChange={(nodePort) => setEntry(id, { ...entry, nodePort })} type="number" hint={t("wizard:service.nodePortHint")} />
              </GridItem>
            )}
          </Grid>
        );
      })}
    </>
  );
}

export default function ServiceStep({ state, onChange, mayCreateService }: StepProps & { mayCreateService: boolean }) {
  const { t } = useTranslation();
  const { problem } = useProblem("service.type");
  const set = (patch: Partial<ServiceForm>) => onChange({ ...state, service: { ...state.service, ...patch } });
  const offered = mayCreateService ? TYPES : TYPES.slice(0, 1);
  return (
    <Form onSubmit={(event) => event.preventDefault()}>
      {!mayCreateService && <Alert variant="info" isInline title={t("wizard:service.notAllowed")} />}
      {offered.map((type) => (
        <Radio
          key={type}
          id={`service-type-${type}`}
          data-testid={`service-type-${type}`}
          name="service-type"
          label={t(`wizard:service.types.${type}`)}
          description={t(`wizard:service.hints.${type}`, { name: serviceName(state) })}
          isChecked={state.service.type === type}
          onChange={() => set({ type })}
        />
      ))}
      {state.kind === "StatefulSet" && state.service.type === "None" && (
        <Alert variant="info" isInline title={t("wizard:service.headless", { name: serviceName(state) })} data-testid="service-headless" />
      )}
      {state.service.type !== "None" && <Ports state={state} onChange={onChange} />}
      {problem && (
        <FormHelperText>
          <HelperText>
            <HelperTextItem variant="error" data-testid="service-error">
              {problem}
            </HelperTextItem>
          </HelperText>
        </FormHelperText>
      )}
    </Form>
  );
}
