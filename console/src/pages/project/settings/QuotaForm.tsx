/**
 * Creating or editing a project's ResourceQuota in a small form: a row per limited resource
 * (the common ones offered by name) and its hard limit. An edit sends only what changed, as a
 * merge patch; YAML remains a click away on the quota's detail page for anything else.
 */
import { useState } from "react";
import {
  ActionGroup,
  Button,
  FormGroup,
  FormHelperText,
  FormSelect,
  FormSelectOption,
  HelperText,
  HelperTextItem,
  Split,
  SplitItem,
  TextInput,
} from "@patternfly/react-core";
import { MinusCircleIcon, PlusCircleIcon } from "@patternfly/react-icons";
import { useQueryClient } from "@tanstack/react-query";
import { useTranslation } from "react-i18next";
import { FormDialog } from "@/components/FormDialog";
import { api } from "@/lib/api/client";
import { ResourceQuota } from "@/lib/k8s/kinds";
import type { K8sObject } from "@/lib/k8s/types";
import { useResourceName } from "../parts/QuotaBars";
import { mapPatch, QUOTA_RESOURCES, validQuantity } from "../quota";

interface Line {
  resource: string;
  value: string;
}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

/** What is wrong with the form's lines, as i18n keys by line (none: it may be saved). */
export function lineProblems(lines: Line[]): (string | undefined)[] {
  return lines.map((line, at) => {
    if (!line.value.trim()) return "project:quotaForm.required";
    if (!validQuantity(line.resource, line.value)) return "project:quotaForm.invalid";
    if (lines.findIndex((other) => other.resource === line.resource) !== at) return "project:quotaForm.duplicate";
    return undefined;
  });
}

export function QuotaForm({ cluster, namespace, quota, onClose }: { cluster: string; namespace: string; quota?: K8sObject; onClose(): void }) {
  const { t } = useTranslation();
  const client = useQueryClient();
  const nameOf = useResourceName();
  const before: Record<string, string> = quota?.spec?.hard ?? {};
  const [name, setName] = useState(quota?.metadata.name ?? "quota");
  const [lines, setLines] = useState<Line[]>(
    quota ? Object.entries(before).map(([resource, value]) => ({ resource, value })) : [{ resource: "requests.cpu", value: "" }, { resource: "requests.memory", value: "" }],
  );
  const problems = lineProblems(lines);
  const nameOk = DNS_LABEL.test(name);
  const ready = nameOk && lines.length > 0 && problems.every((problem) => !problem);

  const update = (at: number, change: Partial<Line>) => setLines(lines.map((line, index) => (index === at ? { ...line, ...change } : line)));
  const unused = QUOTA_RESOURCES.find((resource) => !lines.some((line) => line.resource === resource)) ?? "pods";

  const save = async () => {
    const hard = Object.fromEntries(lines.map((line) => [line.resource, line.value.trim()]));
    if (quota) {
      await api.patch(ResourceQuota.path(cluster, namespace, quota.metadata.name), { spec: { hard: mapPatch(before, hard) } });
    } else {
      await api.post(ResourceQuota.path(cluster, namespace), { apiVersion: "v1", kind: "ResourceQuota", metadata: { name, namespace }, spec: { hard } });
    }
    void client.invalidateQueries({ queryKey: ["list", cluster, ResourceQuota.resource] });
    onClose();
  };

  return (
    <FormDialog
      title={quota ? t("project:quotaForm.editTitle", { name: quota.metadata.name }) : t("project:quotaForm.createTitle")}
      variant="medium"
      onClose={onClose}
      onSubmit={save}
      submitLabel={t("save")}
      submitTestId="quota-save"
      isSubmitDisabled={!ready}
      errorTitle={t("project:quotaForm.failed")}
      errorTestId="quota-error"
    >
      {!quota && (
        <FormGroup label={t("name")} fieldId="quota-name" isRequired>
          <TextInput id="quota-name" value={name} onChange={(_event, value) => setName(value)} validated={nameOk ? "default" : "error"} isRequired data-testid="quota-name" />
          {!nameOk && (
            <FormHelperText>
              <HelperText>
                <HelperTextItem variant="error">{t("project:quotaForm.badName")}</HelperTextItem>
              </HelperText>
            </FormHelperText>
          )}
        </FormGroup>
      )}
      {lines.map((line, at) => {
        const known = (QUOTA_RESOURCES as readonly string[]).includes(line.resource);
        return (
          <FormGroup key={at} label={t("project:quotaForm.line", { index: at + 1 })} fieldId={`quota-value-${at}`}>
            <Split hasGutter>
              <SplitItem isFilled>
                <FormSelect
                  id={`quota-resource-${at}`}
                  value={line.resource}
                  onChange={(_event, resource) => update(at, { resource })}
                  aria-label={t("project:quotaForm.resource")}
                  data-testid={`quota-resource-${at}`}
                >
                  {!known && <FormSelectOption value={line.resource} label={nameOf(line.resource)} />}
                  {QUOTA_RESOURCES.map((resource) => (
                    <FormSelectOption key={resource} value={resource} label={nameOf(resource)} />
                  ))}
                </FormSelect>
              </SplitItem>
              <SplitItem isFilled>
                <TextInput
                  id={`quota-value-${at}`}
                  value={line.value}
                  onChange={(_event, value) => update(at, { value })}
                  aria-label={t("project:quotaForm.limit")}
                  placeholder={t("project:quotaForm.placeholder")}
                  validated={problems[at] && line.value ? "error" : "default"}
                  data-testid={`quota-value-${at}`}
                />
              </SplitItem>
              <SplitItem>
                <Button variant="plain" icon={<MinusCircleIcon />} aria-label={t("project:quotaForm.removeLine", { resource: line.resource })} onClick={() => setLines(lines.filter((_line, index) => index !== at))} />
              </SplitItem>
            </Split>
            {problems[at] && line.value && (
              <FormHelperText>
                <HelperText>
                  <HelperTextItem variant="error">{t(problems[at])}</HelperTextItem>
                </HelperText>
              </FormHelperText>
            )}
          </FormGroup>
        );
      })}
      <ActionGroup style={{ marginTop: 0 }}>
        <Button variant="link" icon={<PlusCircleIcon />} onClick={() => setLines([...lines, { resource: unused, value: "" }])} data-testid="quota-add-line">
          {t("project:quotaForm.addLine")}
        </Button>
      </ActionGroup>
    </FormDialog>
  );
}
