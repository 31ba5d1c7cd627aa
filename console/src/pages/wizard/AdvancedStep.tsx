/**
 * Step 5: where the pods may run (a node selector), the labels that mark them — which are
 * also how the workload and its Service find them, `app: <name>` unless changed — and the
 * workload's annotations.
 */
import { Form } from "@patternfly/react-core";
import { useTranslation } from "react-i18next";
import { podLabels } from "./model";
import { PairsEditor } from "./PairsEditor";
import type { StepProps } from "./steps";

export default function AdvancedStep({ state, onChange }: StepProps) {
  const { t } = useTranslation();
  return (
    <Form onSubmit={(event) => event.preventDefault()}>
      <PairsEditor
        name="labels"
        title={t("wizard:advanced.labels")}
        hint={t("wizard:advanced.labelsHint")}
        pairs={podLabels(state)}
        // Once edited, the labels no longer follow the name.
        onChange={(labels) => onChange({ ...state, labels })}
      />
      <PairsEditor name="nodeSelector" title={t("wizard:advanced.nodeSelector")} hint={t("wizard:advanced.nodeSelectorHint")} pairs={state.nodeSelector} onChange={(nodeSelector) => onChange({ ...state, nodeSelector })} />
      <PairsEditor name="annotations" title={t("wizard:advanced.annotations")} hint={t("wizard:advanced.annotationsHint")} pairs={state.annotations} onChange={(annotations) => onChange({ ...state, annotations })} />
    </Form>
  );
}
