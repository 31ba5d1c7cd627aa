/**
 * Creating a workspace: its name (a DNS label), what it is for, its manager (the first
 * administrator; the creator by default) and the clusters its projects may use. The
 * Workspace is written through the host cluster's Kubernetes API; the server's refusal is
 * shown in its words.
 */
import { useState } from "react";
import { Alert, Checkbox, FormGroup, FormHelperText, HelperText, HelperTextItem, TextArea, TextInput } from "@patternfly/react-core";
import { useTranslation } from "react-i18next";
import { useClusters } from "@/app/Switchers";
import { FormDialog } from "@/components/FormDialog";
import { api } from "@/lib/api/client";
import { describe } from "@/lib/api/errors";
import { useMe } from "@/lib/api/me";
import { Workspace } from "@/lib/k8s/kinds";
import { NameField } from "../NameField";
import { dnsLabelProblem } from "../names";
import { workspaceBody } from "./workspace";

export function CreateWorkspaceDialog({ onClose }: { onClose(created: boolean): void }) {
  const { t } = useTranslation();
  const me = useMe();
  const clusters = useClusters();
  const [name, setName] = useState("");
  const [description, setDescription] = useState("");
  const [manager, setManager] = useState<string | null>(null);
  const [chosen, setChosen] = useState<string[]>([]);
  const [touched, setTouched] = useState(false);
  const problem = dnsLabelProblem(name);
  const managerName = manager ?? me.data?.name ?? "";

  async function submit() {
    setTouched(true);
    if (problem) return;
    await api.post(Workspace.path("host"), workspaceBody({ name, description, manager: managerName, clusters: chosen }));
    onClose(true);
  }

  const names = clusters.data?.items.map((cluster) => cluster.metadata.name) ?? [];
  return (
    <FormDialog
      title={t("platform:workspaces.createTitle")}
      variant="medium"
      onClose={() => onClose(false)}
      onSubmit={submit}
      submitLabel={t("create")}
      submitTestId="workspace-submit"
      isSubmitDisabled={touched && Boolean(problem)}
      errorTestId="workspace-error"
    >
      <NameField
        id="workspace-name"
        label={t("name")}
        value={name}
        onChange={setName}
        onBlur={() => setTouched(true)}
        problem={touched && problem}
        help={t("platform:names.dnsLabelHelp")}
      />
      <FormGroup label={t("platform:workspaces.description")} fieldId="workspace-description">
        <TextArea id="workspace-description" value={description} onChange={(_event, value) => setDescription(value)} resizeOrientation="vertical" />
      </FormGroup>
      <FormGroup label={t("platform:workspaces.manager")} fieldId="workspace-manager">
        <TextInput id="workspace-manager" value={managerName} onChange={(_event, value) => setManager(value)} />
        <FormHelperText>
          <HelperText>
            <HelperTextItem>{t("platform:workspaces.managerHelp")}</HelperTextItem>
          </HelperText>
        </FormHelperText>
      </FormGroup>
      <FormGroup label={t("platform:workspaces.clusters")} fieldId="workspace-clusters" role="group">
        {clusters.error ? (
          <Alert variant="warning" isInline isPlain title={describe(clusters.error)} />
        ) : (
          names.map((cluster) => (
            <Checkbox
              key={cluster}
              id={`workspace-cluster-${cluster}`}
              label={cluster}
              isChecked={chosen.includes(cluster)}
              onChange={(_event, checked) => setChosen(checked ? [...chosen, cluster] : chosen.filter((name) => name !== cluster))}
            />
          ))
        )}
        <FormHelperText>
          <HelperText>
            <HelperTextItem>{t("platform:workspaces.clustersHelp")}</HelperTextItem>
          </HelperText>
        </FormHelperText>
      </FormGroup>
    </FormDialog>
  );
}
