/** A container's ports: number, optional name, protocol; the Service step maps them later. */
import { Button, Grid, GridItem } from "@patternfly/react-core";
import { MinusCircleIcon, PlusCircleIcon } from "@patternfly/react-icons";
import { useTranslation } from "react-i18next";
import { newPort, type PortForm, type Protocol } from "./model";
import { SelectField, TextField, removeAt, replaceAt } from "./fields";

const PROTOCOLS: Protocol[] = ["TCP", "UDP", "SCTP"];

export function PortsEditor({ index, ports, onChange }: { index: number; ports: PortForm[]; onChange(ports: PortForm[]): void }) {
  const { t } = useTranslation();
  return (
    <>
      {ports.map((port, at) => {
        const id = `container-${index}-port-${at}`;
        const path = `containers.${index}.ports.${at}`;
        const set = (patch: Partial<PortForm>) => onChange(replaceAt(ports, at, { ...port, ...patch }));
        return (
          <Grid hasGutter key={port.id}>
            <GridItem md={3}>
              <TextField id={id} path={`${path}.containerPort`} label={t("wizard:port.containerPort")} value={port.containerPort} onChange={(containerPort) => set({ containerPort })} type="number" isRequired />
            </GridItem>
            <GridItem md={4}>
              <TextField id={`${id}-name`} path={`${path}.name`} label={t("wizard:port.name")} value={port.name} onChange={(name) => set({ name })} placeholder="http" />
            </GridItem>
            <GridItem md={3}>
              <SelectField
                id={`${id}-protocol`}
                label={t("wizard:port.protocol")}
                value={port.protocol}
                options={PROTOCOLS.map((protocol) => ({ value: protocol, label: protocol }))}
                onChange={(protocol) => set({ protocol: protocol as Protocol })}
              />
            </GridItem>
            <GridItem md={2} style={{ alignSelf: "end" }}>
              <Button variant="plain" icon={<MinusCircleIcon />} aria-label={t("wizard:port.remove")} onClick={() => onChange(removeAt(ports, at))} data-testid={`${id}-remove`} />
            </GridItem>
          </Grid>
        );
      })}
      <div>
        <Button variant="link" isInline icon={<PlusCircleIcon />} onClick={() => onChange([...ports, newPort()])} data-testid={`container-${index}-add-port`}>
          {t("wizard:port.add")}
        </Button>
      </div>
    </>
  );
}
