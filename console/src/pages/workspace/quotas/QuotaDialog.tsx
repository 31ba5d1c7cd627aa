/**
 * Editing a workspace's quota in one cluster: rows of a limited key (`requests.cpu`,
 * `pods`, `count/services`…) and its hard limit (a quantity: `4`, `500m`, `8Gi`). Saving
 * replaces that cluster's quota and keeps the others'.
 */
import { useState } from "react";
import {
  Alert,
  Button,
  Flex,
  FlexItem,
  Form,
  FormHelperText,
  HelperText,
  HelperTextItem,
  Modal,
  ModalBody,
  ModalFooter,
  ModalHeader,
  TextInput,
} from "@patternfly/react-core";
import { MinusCircleIcon, PlusCircleIcon } from "@patternfly/react-icons";
import { useTranslation } from "react-i18next";
import { api } from "@/lib/api/client";
import { describe } from "@/lib/api/errors";
import { Workspace } from "@/lib/k8s/kinds";
import type { K8sObject } from "@/lib/k8s/types";
import { COMMON_KEYS, hardOf, hardProblem, normalizeKey, quotasPatch } from "./quota";

export function QuotaDialog({ workspace, cluster, onClose }: { workspace: K8sObject; cluster: string; onClose(saved: boolean): void }) {
  const { t } = useTranslation();
  const [rows, setRows] = useState(() => {
    const hard = Object.entries(hardOf(workspace, cluster)).map(([key, value]) => ({ key, value }));
    return hard.length ? hard : [{ key: "requests.cpu", value: "" }];
  });
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const keys = rows.map((row) => row.key);
  const problems = rows.map((row) => hardProblem(row.key, row.value, keys));
  const set = (at: number, field: "key" | "value", value: string) => setRows(rows.map((row, index) => (index === at ? { ...row, [field]: value } : row)));

  async function save() {
    setBusy(true);
    setError(null);
    const hard = Object.fromEntries(rows.map((row) => [normalizeKey(row.key.trim()), row.value.trim()]));
    try {
      await api.patch(Workspace.path("host", undefined, workspace.metadata.name), quotasPatch(workspace, cluster, hard));
      onClose(true);
    } catch (caught) {
      setError(describe(caught));
      setBusy(false);
    }
  }

  return (
    <Modal isOpen variant="medium" onClose={() => onClose(false)} aria-labelledby="quota-title">
      <ModalHeader title={t("workspace:quotas.editTitle", { cluster })} labelId="quota-title" description={t("workspace:quotas.editHelp")} />
      <ModalBody>
        <datalist id="quota-keys">
          {COMMON_KEYS.map((key) => (
            <option key={key} value={key} />
          ))}
        </datalist>
        <Form
          id="quota-form"
          onSubmit={(event) => {
            event.preventDefault();
            void save();
          }}
        >
          {rows.map((row, at) => (
            <div key={at}>
              <Flex>
                <FlexItem grow={{ default: "grow" }}>
                  <TextInput id={`quota-key-${at}`} list="quota-keys" aria-label={t("workspace:quotas.resource")} placeholder={t("workspace:quotas.resource")} value={row.key} onChange={(_event, value) => set(at, "key", value)} />
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
                <FlexItem>
                  <Button variant="plain" aria-label={t("workspace:quotas.removeRow", { key: row.key })} onClick={() => setRows(rows.filter((_row, index) => index !== at))}>
                    <MinusCircleIcon />
                  </Button>
                </FlexItem>
              </Flex>
              {problems[at] && (
                <FormHelperText>
                  <HelperText>
                    <HelperTextItem variant="error">{t(`workspace:${problems[at]}`)}</HelperTextItem>
                  </HelperText>
                </FormHelperText>
              )}
            </div>
          ))}
          <div>
            <Button variant="link" icon={<PlusCircleIcon />} onClick={() => setRows([...rows, { key: "", value: "" }])} data-testid="quota-add">
              {t("workspace:quotas.addRow")}
            </Button>
          </div>
          {error && <Alert variant="danger" isInline title={error} />}
        </Form>
      </ModalBody>
      <ModalFooter>
        <Button type="submit" form="quota-form" isLoading={busy} isDisabled={busy || problems.some(Boolean)} data-testid="quota-save">
          {t("save")}
        </Button>
        <Button variant="link" onClick={() => onClose(false)}>
          {t("cancel")}
        </Button>
      </ModalFooter>
    </Modal>
  );
}
