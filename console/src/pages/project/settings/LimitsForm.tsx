/**
 * Setting the default requests and limits of a project's containers (a LimitRange's
 * `Container` entry) in a small form: creating the LimitRange, or changing its defaults while
 * keeping its other entries (min, max, Pod and claim limits) as they are.
 */
import { useState } from "react";
import { Alert, Button, Form, FormGroup, Grid, GridItem, Modal, ModalBody, ModalFooter, ModalHeader, TextInput } from "@patternfly/react-core";
import { useQueryClient } from "@tanstack/react-query";
import { useTranslation } from "react-i18next";
import { api } from "@/lib/api/client";
import { describe } from "@/lib/api/errors";
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
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const bad = (field: keyof ContainerDefaults, resource: string) => values[field].trim() !== "" && !validQuantity(resource, values[field]);
  const ready = FIELDS.every(({ field, resource }) => !bad(field, resource)) && FIELDS.some(({ field }) => values[field].trim());

  const save = async () => {
    setBusy(true);
    setError(null);
    const limits = withContainerDefaults(limitRange, values);
    try {
      if (limitRange) {
        await api.patch(LimitRange.path(cluster, namespace, limitRange.metadata.name), { spec: { limits } });
      } else {
        await api.post(LimitRange.path(cluster, namespace), { apiVersion: "v1", kind: "LimitRange", metadata: { name: "limits", namespace }, spec: { limits } });
      }
      void client.invalidateQueries({ queryKey: ["list", cluster, LimitRange.resource] });
      onClose();
    } catch (failure) {
      setError(failure);
    } finally {
      setBusy(false);
    }
  };

  return (
    <Modal isOpen variant="small" onClose={onClose} aria-labelledby="limits-form-title">
      <ModalHeader title={t("project:limits.formTitle")} labelId="limits-form-title" description={t("project:limits.formHelp")} />
      <ModalBody>
        <Form
          id="limits-form"
          onSubmit={(event) => {
            event.preventDefault();
            if (ready) void save();
          }}
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
          {error !== null && (
            <Alert variant="danger" isInline title={t("project:limits.failed")} data-testid="limits-error">
              {describe(error)}
            </Alert>
          )}
        </Form>
      </ModalBody>
      <ModalFooter>
        <Button type="submit" form="limits-form" isDisabled={!ready || busy} isLoading={busy} data-testid="limits-save">
          {t("save")}
        </Button>
        <Button variant="link" onClick={onClose}>
          {t("cancel")}
        </Button>
      </ModalFooter>
    </Modal>
  );
}
