/**
 * Editing a node's labels as key/value rows. Saving sends only what changed (null for a
 * removed key), so labels others set meanwhile are kept.
 */
import { useState } from "react";
import { FlexItem, TextInput } from "@patternfly/react-core";
import { useTranslation } from "react-i18next";
import { EditableRow } from "@/components/EditableRow";
import { api } from "@/lib/api/client";
import type { ActionProps } from "@/lib/extensions/types";
import { EditDialog } from "./EditDialog";
import { labelsPatch, rowProblems } from "./node";

export default function LabelsAction({ kind, object, cluster, onClose }: ActionProps) {
  const { t } = useTranslation();
  const [rows, setRows] = useState(() => Object.entries(object.metadata.labels ?? {}).map(([key, value]) => ({ key, value })));
  const problems = rowProblems(rows);
  const set = (at: number, field: "key" | "value", value: string) => setRows(rows.map((row, index) => (index === at ? { ...row, [field]: value } : row)));
  const after = Object.fromEntries(rows.map((row) => [row.key.trim(), row.value.trim()]));
  return (
    <EditDialog
      title={t("cluster:nodes.labelsTitle", { name: object.metadata.name })}
      valid={problems.every((problem) => problem === null)}
      onAdd={() => setRows([...rows, { key: "", value: "" }])}
      save={() => api.patch(kind.path(cluster, undefined, object.metadata.name), labelsPatch(object.metadata.labels, after))}
      onClose={onClose}
    >
      {rows.map((row, at) => (
        <EditableRow
          key={at}
          problem={problems[at] && t(`cluster:${problems[at]}`)}
          removeLabel={t("cluster:keys.remove", { key: row.key })}
          onRemove={() => setRows(rows.filter((_row, index) => index !== at))}
        >
          <FlexItem grow={{ default: "grow" }}>
            <TextInput
              id={`label-key-${at}`}
              aria-label={t("cluster:keys.key")}
              placeholder={t("cluster:keys.key")}
              value={row.key}
              onChange={(_event, value) => set(at, "key", value)}
              validated={problems[at] ? "error" : "default"}
            />
          </FlexItem>
          <FlexItem grow={{ default: "grow" }}>
            <TextInput
              id={`label-value-${at}`}
              aria-label={t("cluster:keys.value")}
              placeholder={t("cluster:keys.value")}
              value={row.value}
              onChange={(_event, value) => set(at, "value", value)}
            />
          </FlexItem>
        </EditableRow>
      ))}
    </EditDialog>
  );
}
