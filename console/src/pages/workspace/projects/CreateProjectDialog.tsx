/**
 * Creating a project in a workspace: the cluster (of those the workspace may use), a name
 * checked as a DNS-1123 label while typing, and an optional alias and description. The
 * server's refusal (a name taken, a quota) is shown in its words.
 */
import { useState } from "react";
import {
  Alert,
  Button,
  Form,
  FormGroup,
  FormHelperText,
  FormSelect,
  FormSelectOption,
  HelperText,
  HelperTextItem,
  Modal,
  ModalBody,
  ModalFooter,
  ModalHeader,
  TextArea,
  TextInput,
} from "@patternfly/react-core";
import { useQueryClient } from "@tanstack/react-query";
import { useTranslation } from "react-i18next";
import { api } from "@/lib/api/client";
import { describe } from "@/lib/api/errors";
import { dnsLabelProblem } from "@/pages/platform/names";
import { projectBody, projectsKey, projectsPath, type ProjectForm } from "./project";

export function CreateProjectDialog({ workspace, clusters, onClose }: { workspace: string; clusters: string[]; onClose(created?: ProjectForm): void }) {
  const { t } = useTranslation();
  const client = useQueryClient();
  const [form, setForm] = useState<ProjectForm>({ cluster: clusters[0] ?? "", name: "", alias: "", description: "" });
  const [touched, setTouched] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const problem = dnsLabelProblem(form.name);
  const showProblem = (touched || form.name !== "") && problem;
  const set = (field: keyof ProjectForm) => (_event: unknown, value: string) => setForm({ ...form, [field]: value });

  async function submit() {
    setTouched(true);
    if (problem || !form.cluster) return;
    setBusy(true);
    setError(null);
    try {
      await api.post(projectsPath(workspace, form.cluster), projectBody(form));
      await client.invalidateQueries({ queryKey: projectsKey(workspace, form.cluster) });
      onClose(form);
    } catch (caught) {
      setError(describe(caught));
      setBusy(false);
    }
  }

  return (
    <Modal isOpen variant="small" onClose={() => onClose()} aria-labelledby="create-project-title">
      <ModalHeader title={t("workspace:projects.createTitle")} labelId="create-project-title" />
      <ModalBody>
        <Form
          id="create-project-form"
          onSubmit={(event) => {
            event.preventDefault();
            void submit();
          }}
        >
          <FormGroup label={t("workspace:projects.cluster")} fieldId="project-cluster" isRequired>
            <FormSelect id="project-cluster" data-testid="project-cluster" value={form.cluster} onChange={set("cluster")}>
              {clusters.map((cluster) => (
                <FormSelectOption key={cluster} value={cluster} label={cluster} />
              ))}
            </FormSelect>
          </FormGroup>
          <FormGroup label={t("name")} fieldId="project-name" isRequired>
            <TextInput
              id="project-name"
              data-testid="project-name"
              value={form.name}
              onChange={set("name")}
              onBlur={() => setTouched(true)}
              validated={showProblem ? "error" : "default"}
              isRequired
              autoComplete="off"
            />
            <FormHelperText>
              <HelperText>
                {showProblem ? (
                  <HelperTextItem variant="error" data-testid="project-name-error">
                    {t(`platform:${problem}`)}
                  </HelperTextItem>
                ) : (
                  <HelperTextItem>{t("platform:names.dnsLabelHelp")}</HelperTextItem>
                )}
              </HelperText>
            </FormHelperText>
          </FormGroup>
          <FormGroup label={t("workspace:projects.alias")} fieldId="project-alias">
            <TextInput id="project-alias" value={form.alias} onChange={set("alias")} />
          </FormGroup>
          <FormGroup label={t("workspace:projects.description")} fieldId="project-description">
            <TextArea id="project-description" value={form.description} onChange={set("description")} resizeOrientation="vertical" />
          </FormGroup>
          {error && <Alert variant="danger" isInline title={error} data-testid="project-error" />}
        </Form>
      </ModalBody>
      <ModalFooter>
        <Button type="submit" form="create-project-form" isLoading={busy} isDisabled={busy || Boolean(showProblem) || !form.cluster} data-testid="project-submit">
          {t("create")}
        </Button>
        <Button variant="link" onClick={() => onClose()}>
          {t("cancel")}
        </Button>
      </ModalFooter>
    </Modal>
  );
}
