/**
 * Creating a project in a workspace: the cluster (of those the workspace may use), a name
 * checked as a DNS-1123 label while typing, and an optional alias and description. The
 * server's refusal (a name taken, a quota) is shown in its words.
 */
import { useState } from "react";
import { FormGroup, FormSelect, FormSelectOption, TextArea, TextInput } from "@patternfly/react-core";
import { useQueryClient } from "@tanstack/react-query";
import { useTranslation } from "react-i18next";
import { FormDialog } from "@/components/FormDialog";
import { api } from "@/lib/api/client";
import { NameField } from "@/pages/platform/NameField";
import { dnsLabelProblem } from "@/pages/platform/names";
import { projectBody, projectsKey, projectsPath, type ProjectForm } from "./project";

export function CreateProjectDialog({ workspace, clusters, onClose }: { workspace: string; clusters: string[]; onClose(created?: ProjectForm): void }) {
  const { t } = useTranslation();
  const client = useQueryClient();
  const [form, setForm] = useState<ProjectForm>({ cluster: clusters[0] ?? "", name: "", alias: "", description: "" });
  const [touched, setTouched] = useState(false);
  const problem = dnsLabelProblem(form.name);
  const showProblem = (touched || form.name !== "") && problem;
  const set = (field: keyof ProjectForm) => (_event: unknown, value: string) => setForm({ ...form, [field]: value });

  async function submit() {
    setTouched(true);
    if (problem || !form.cluster) return;
    await api.post(projectsPath(workspace, form.cluster), projectBody(form));
    await client.invalidateQueries({ queryKey: projectsKey(workspace, form.cluster) });
    onClose(form);
  }

  return (
    <FormDialog
      title={t("workspace:projects.createTitle")}
      onClose={() => onClose()}
      onSubmit={submit}
      submitLabel={t("create")}
      submitTestId="project-submit"
      isSubmitDisabled={Boolean(showProblem) || !form.cluster}
      errorTestId="project-error"
    >
      <FormGroup label={t("workspace:projects.cluster")} fieldId="project-cluster" isRequired>
        <FormSelect id="project-cluster" data-testid="project-cluster" value={form.cluster} onChange={set("cluster")}>
          {clusters.map((cluster) => (
            <FormSelectOption key={cluster} value={cluster} label={cluster} />
          ))}
        </FormSelect>
      </FormGroup>
      <NameField
        id="project-name"
        label={t("name")}
        value={form.name}
        onChange={(name) => setForm({ ...form, name })}
        onBlur={() => setTouched(true)}
        problem={showProblem}
        help={t("platform:names.dnsLabelHelp")}
      />
      <FormGroup label={t("workspace:projects.alias")} fieldId="project-alias">
        <TextInput id="project-alias" value={form.alias} onChange={set("alias")} />
      </FormGroup>
      <FormGroup label={t("workspace:projects.description")} fieldId="project-description">
        <TextArea id="project-description" value={form.description} onChange={set("description")} resizeOrientation="vertical" />
      </FormGroup>
    </FormDialog>
  );
}
