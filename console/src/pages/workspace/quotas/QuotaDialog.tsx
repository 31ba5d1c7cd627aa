/**
 * Editing a workspace's quota in one cluster: rows of a limited key (`requests.cpu`,
 * `pods`, `count/services`…) and its hard limit (a quantity: `4`, `500m`, `8Gi`). Saving
 * replaces that cluster's quota and keeps the others'.
 */
import { useState } from "react";
import { Button, FlexItem, TextInput } from "@patternfly/react-core";
import { PlusCircleIcon } from "@patternfly/react-icons";
import { useTranslation } from "react-i18next";
import { EditableRow } from "@/components/EditableRow";
import { FormDialog } from "@/components/FormDialog";
import { api } from "@/lib/api/client";
import { Workspace } from "@/lib/k8s/kinds";
import type { K8sObject } from "@/lib/k8s/types";
import { COMMON_KEYS, hardOf, hardProblem, normalizeKey, quotasPatch } from "./quota";

export function QuotaDialog({ workspace, cluster, onClose }: { workspace: K8sObject; cluster: string; onClose(saved: boolean): void }) {
  const { t } = useTranslation();
  const [rows, setRows] = useState(() => {
    const hard = Object.entries(hardOf(workspace, cluster)).map(([key, value]) => ({ key, value }));
    return hard.length ? hard : [{ key: "requests.cpu", value: "" }];
  });
  const keys = rows.map((row) => row.key);
  const problems = rows.map((row) => hardProblem(row.key, row.value, keys));
  const set = (at: number, field: "key" | "value", value: string) => setRows(rows.map((row, index) => (index === at ? { ...row, [field]: value } : row)));

  async function save() {
    const hard = Object.fromEntries(rows.map((row) => [normalizeKey(row.key.trim()), row.value.trim()]));
    await api.patch(Workspace.path("host", undefined, workspace.metadata.name), quotasPatch(workspace, cluster, hard));
    onClose(true);
  }

  return (
    <FormDialog
      title={t("workspace:quotas.editTitle", { cluster })}
      description={t("workspace:quotas.editHelp")}
      variant="medium"
      onClose={() => onClose(false)}
      onSubmit={save}
      submitLabel={t("save")}
      submitTestId="quota-save"
      isSubmitDisabled={problems.some(Boolean)}
    >
      <datalist id="quota-keys">
        {COMMON_KEYS.map((key) => (
          <option key={key} value={key} />
        ))}
      </datalist>
      {rows.map((row, at) => (
        <EditableRow
          key={at}
          problem={problems[at] && t(`workspace:${problems[at]}`)}
          removeLabel={t("workspace:quotas.removeRow", { key: row.key })}
          onRemove={() => setRows(rows.filter((_row, index) => index !== at))}
        >
          <FlexItem grow={{ default: "grow" }}>
            <TextInput
              id={`quota-key-${at}`}
              list="quota-keys"
              aria-label={t("workspace:quotas.resource")}
              placeholder={t("workspace:quotas.resource")}
              value={row.key}
              onChange={(_event, value) => set(at, "key", value)}
            />
          </FlexItem>
          <FlexItem grow={{ default: "grow" }}>
            <TextInput
              id={`quota-value-${at}`}
              aria-label={t("workspace:quotas.hard")}
              placeholder={t("workspace:quotas.hard")}
              value={row.value}
              onChange={(_event, value) => set(at, "value", value)}
              validated={problems[at] ? "error" : "default"}
            />
          </FlexItem>
        </EditableRow>
      ))}
      <div>
        <Button variant="link" icon={<PlusCircleIcon />} onClick={() => setRows([...rows, { key: "", value: "" }])} data-testid="quota-add">
          {t("workspace:quotas.addRow")}
        </Button>
      </div>
    </FormDialog>
  );
}
