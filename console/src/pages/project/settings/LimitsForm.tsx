/**
 * Setting the default requests and limits of a project's containers (a LimitRange's
 * `Container` entry) in a small form: creating the LimitRange, or changing its defaults while
 * keeping its other entries (min, max, Pod and claim limits) as they are.
 */
import { useState } from "react";
import { FormGroup, Grid, GridItem, TextInput } from "@patternfly/react-core";
import { useQueryClient } from "@tanstack/react-query";
import { useTranslation } from "react-i18next";
import { FormDialog } from "@/components/FormDialog";
import { api } from "@/lib/api/client";
import { LimitRange } from "@/lib/k8s/kinds";
import type { K8sObject } from "@/lib/k8s/types";
import { containerDefaults, validQuantity, withContainerDefaults, type ContainerDefaults } from "../quota";

const FIELDS: { field: keyof ContainerDefaults; resource: "cpu" | "memory"; label: string; placeholder: string }[] = [
  { field: "requestCpu", resource: "cpu", label: "project:limits.requestCpu", placeholder: "100m" },
  { field: "limitCpu", resource: "cpu", label: "project:limits.limitCpu", placeholder: "500m" },
  { field: "requestMemory", resource: "memory", label: "project:limits.requestMemory", placeholder: "128Mi" },
  { field: "limitMemory", resource: "memory", label: "project:limits.limitMemory", placeholder: "512Mi" },
];

export function LimitsForm({ cluster, namespace, limitRange, onClose }: { cluster: string; namespace: string; limitRange?: K8sObject; onClose(): void }) {
  const { t } = useTranslation();
  const client = useQueryClient();
  const [values, setValues] = useState<ContainerDefaults>(containerDefaults(limitRange));
  const bad = (field: keyof ContainerDefaults, resource: string) => values[field].trim() !== "" && !validQuantity(resource, values[field]);
  const ready = FIELDS.every(({ field, resource }) => !bad(field, resource)) && FIELDS.some(({ field }) => values[field].trim());

  const save = async () => {
    const limits = withContainerDefaults(limitRange, values);
    if (limitRange) {
      await api.patch(LimitRange.path(cluster, namespace, limitRange.metadata.name), { spec: { limits } });
    } else {
      await api.post(LimitRange.path(cluster, namespace), { apiVersion: "v1", kind: "LimitRange", metadata: { name: "limits", namespace }, spec: { limits } });
    }
    void client.invalidateQueries({ queryKey: ["list", cluster, LimitRange.resource] });
    onClose();
  };

  return (
    <FormDialog
      title={t("project:limits.formTitle")}
      description={t("project:limits.formHelp")}
      onClose={onClose}
      onSubmit={save}
      submitLabel={t("save")}
      submitTestId="limits-save"
      isSubmitDisabled={!ready}
      errorTitle={t("project:limits.failed")}
      errorTestId="limits-error"
    >
      <Grid hasGutter md={6}>
        {FIELDS.map(({ field, resource, label, placeholder }) => (
          <GridItem key={field}>
            <FormGroup label={t(label)} fieldId={`limits-${field}`}>
              <TextInput
                id={`limits-${field}`}
                value={values[field]}
                placeholder={placeholder}
                onChange={(_event, value) => setValues({ ...values, [field]: value })}
                validated={bad(field, resource) ? "error" : "default"}
                data-testid={`limits-${field}`}
              />
            </FormGroup>
          </GridItem>
        ))}
      </Grid>
    </FormDialog>
  );
}
