/**
 * Editing a node's taints: key, optional value and effect (NoSchedule, PreferNoSchedule,
 * NoExecute) per row. The list is sent whole, as a merge patch replaces lists.
 */
import { useState } from "react";
import { FlexItem, FormSelect, FormSelectOption, TextInput } from "@patternfly/react-core";
import { useTranslation } from "react-i18next";
import { EditableRow } from "@/components/EditableRow";
import { api } from "@/lib/api/client";
import type { ActionProps } from "@/lib/extensions/types";
import { EditDialog } from "./EditDialog";
import { TAINT_EFFECTS, taintProblems, taintsPatch, type Taint, type TaintEffect } from "./node";

export default function TaintsAction({ kind, object, cluster, onClose }: ActionProps) {
  const { t } = useTranslation();
  const [taints, setTaints] = useState<Taint[]>(() => object.spec?.taints ?? []);
  const problems = taintProblems(taints);
  const set = (at: number, change: Partial<Taint>) => setTaints(taints.map((taint, index) => (index === at ? { ...taint, ...change } : taint)));
  return (
    <EditDialog
      title={t("cluster:nodes.taintsTitle", { name: object.metadata.name })}
      valid={problems.every((problem) => problem === null)}
      onAdd={() => setTaints([...taints, { key: "", value: "", effect: "NoSchedule" }])}
      save={() => api.patch(kind.path(cluster, undefined, object.metadata.name), taintsPatch(taints))}
      onClose={onClose}
    >
      {taints.map((taint, at) => (
        <EditableRow
          key={at}
          problem={problems[at] && t(`cluster:${problems[at]}`)}
          removeLabel={t("cluster:keys.remove", { key: taint.key })}
          onRemove={() => setTaints(taints.filter((_taint, index) => index !== at))}
        >
          <FlexItem grow={{ default: "grow" }}>
            <TextInput
              id={`taint-key-${at}`}
              aria-label={t("cluster:taints.key")}
              placeholder={t("cluster:taints.key")}
              value={taint.key}
              onChange={(_event, key) => set(at, { key })}
              validated={problems[at] ? "error" : "default"}
            />
          </FlexItem>
          <FlexItem grow={{ default: "grow" }}>
            <TextInput
              id={`taint-value-${at}`}
              aria-label={t("cluster:taints.value")}
              placeholder={t("cluster:taints.value")}
              value={taint.value ?? ""}
              onChange={(_event, value) => set(at, { value })}
            />
          </FlexItem>
          <FlexItem>
            <FormSelect
              id={`taint-effect-${at}`}
              aria-label={t("cluster:taints.effect")}
              value={taint.effect}
              onChange={(_event, effect) => set(at, { effect: effect as TaintEffect })}
            >
              {TAINT_EFFECTS.map((effect) => (
                <FormSelectOption key={effect} value={effect} label={effect} />
              ))}
            </FormSelect>
          </FlexItem>
        </EditableRow>
      ))}
    </EditDialog>
  );
}
