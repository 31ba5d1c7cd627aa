/**
 * Run a CronJob now, off schedule: a Job from its job template, named by the user (a
 * suggestion is filled in), owned by the CronJob so it shows among its jobs and goes with it.
 */
import { useState } from "react";
import { Form, FormGroup, FormHelperText, HelperText, HelperTextItem, TextInput } from "@patternfly/react-core";
import { useTranslation } from "react-i18next";
import { api } from "@/lib/api/client";
import type { ActionProps } from "@/lib/extensions/types";
import { Job } from "@/lib/k8s/kinds";
import { ActionDialog } from "./ActionDialog";
import { jobFromCronJob, manualJobName } from "./patches";

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

export default function RunNowDialog({ kind, object, cluster, onClose }: ActionProps) {
  const { t } = useTranslation();
  const [name, setName] = useState(() => manualJobName(object.metadata.name));
  const valid = name.length <= 63 && DNS_LABEL.test(name);
  return (
    <ActionDialog
      kind={kind}
      cluster={cluster}
      title={t("workload:runNow.title", { name: object.metadata.name })}
      confirm={t("workload:runNow.confirm")}
      disabled={!valid}
      onClose={onClose}
      run={async () => {
        await api.post(Job.path(cluster, object.metadata.namespace), jobFromCronJob(object, name));
        return t("workload:runNow.done", { name });
      }}
    >
      <Form onSubmit={(event) => event.preventDefault()}>
        <p>{t("workload:runNow.body")}</p>
        <FormGroup label={t("workload:runNow.name")} fieldId="run-now-name" isRequired>
          <TextInput
            id="run-now-name"
            data-testid="run-now-name"
            value={name}
            onChange={(_event, value) => setName(value)}
            validated={valid ? "default" : "error"}
          />
          {!valid && (
            <FormHelperText>
              <HelperText>
                <HelperTextItem variant="error">{t("workload:runNow.invalid")}</HelperTextItem>
              </HelperText>
            </FormHelperText>
          )}
        </FormGroup>
      </Form>
    </ActionDialog>
  );
}
