/** Scale a Deployment, StatefulSet or ReplicaSet: the number of replicas, through `…/scale`. */
import { useState } from "react";
import { Alert, Form, FormGroup, FormHelperText, HelperText, HelperTextItem, NumberInput } from "@patternfly/react-core";
import { useTranslation } from "react-i18next";
import type { ActionProps } from "@/lib/extensions/types";
import { ActionDialog } from "./ActionDialog";
import { scale } from "./patches";

const MAX_REPLICAS = 1000;

export default function ScaleDialog({ kind, object, cluster, onClose }: ActionProps) {
  const { t } = useTranslation();
  const name = object.metadata.name;
  const current = Number(object.spec?.replicas ?? 1);
  const ready = Number(object.status?.readyReplicas ?? 0);
  const owner = object.metadata.ownerReferences?.find((reference) => reference.controller);
  const [replicas, setReplicas] = useState<number | "">(current);
  const valid = replicas !== "" && Number.isInteger(replicas) && replicas >= 0 && replicas <= MAX_REPLICAS;
  const set = (value: number) => setReplicas(Math.min(MAX_REPLICAS, Math.max(0, value)));

  return (
    <ActionDialog
      kind={kind}
      cluster={cluster}
      title={t("workload:scale.title", { kind: kind.kind, name })}
      confirm={t("workload:scale.confirm")}
      disabled={!valid || replicas === current}
      onClose={onClose}
      run={async () => {
        const count = Number(replicas);
        await scale(kind, cluster, object, count);
        return t("workload:scale.done", { name, count });
      }}
    >
      {owner && (
        <Alert variant="warning" isInline isPlain title={t("workload:scale.owned", { kind: owner.kind, name: owner.name })} style={{ marginBottom: 16 }} />
      )}
      <Form onSubmit={(event) => event.preventDefault()}>
        <FormGroup label={t("workload:scale.replicas")} fieldId="scale-replicas">
          <NumberInput
            value={replicas}
            min={0}
            max={MAX_REPLICAS}
            inputName="scale-replicas"
            inputAriaLabel={t("workload:scale.replicas")}
            inputProps={{ id: "scale-replicas", "data-testid": "scale-replicas" }}
            minusBtnAriaLabel={t("workload:scale.fewer")}
            plusBtnAriaLabel={t("workload:scale.more")}
            onMinus={() => set(Number(replicas || 0) - 1)}
            onPlus={() => set(Number(replicas || 0) + 1)}
            onChange={(event) => {
              const text = event.currentTarget.value;
              setReplicas(text === "" ? "" : Number(text));
            }}
            validated={valid ? "default" : "error"}
          />
          <FormHelperText>
            <HelperText>
              <HelperTextItem variant={valid ? "default" : "error"}>
                {valid ? t("workload:scale.now", { count: current, ready }) : t("workload:scale.invalid", { max: MAX_REPLICAS })}
              </HelperTextItem>
            </HelperText>
          </FormHelperText>
        </FormGroup>
      </Form>
    </ActionDialog>
  );
}
