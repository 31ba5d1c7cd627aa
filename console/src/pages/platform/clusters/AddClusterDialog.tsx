/**
 * Adding a member cluster: a name and a kubeconfig, pasted or read from a file. The server
 * connects with it before keeping anything, so its refusal (unreachable, a kubeconfig that
 * names files instead of embedding them) is shown here as it words it.
 */
import { useState } from "react";
import { FileUpload, FormGroup, FormHelperText, HelperText, HelperTextItem } from "@patternfly/react-core";
import { useTranslation } from "react-i18next";
import { FormDialog } from "@/components/FormDialog";
import { api } from "@/lib/api/client";
import { NameField } from "../NameField";
import { dnsLabelProblem } from "../names";
import { CLUSTERS_API } from "./health";

export function AddClusterDialog({ onClose }: { onClose(added: boolean): void }) {
  const { t } = useTranslation();
  const [name, setName] = useState("");
  const [kubeconfig, setKubeconfig] = useState("");
  const [filename, setFilename] = useState("");
  const [touched, setTouched] = useState(false);
  const problem = dnsLabelProblem(name, ["host"]);

  return (
    <FormDialog
      title={t("platform:clusters.addTitle")}
      description={t("platform:clusters.addHelp")}
      variant="medium"
      onClose={() => onClose(false)}
      onSubmit={async () => {
        await api.post(CLUSTERS_API, { name, kubeconfig });
        onClose(true);
      }}
      submitLabel={t("platform:clusters.add")}
      submitTestId="cluster-submit"
      isSubmitDisabled={Boolean(problem) || !kubeconfig.trim()}
      errorTitle={t("platform:clusters.addFailed")}
      errorTestId="add-cluster-error"
    >
      <NameField id="cluster-name" label={t("name")} value={name} onChange={setName} onBlur={() => setTouched(true)} problem={touched && problem} />
      <FormGroup label={t("platform:clusters.kubeconfig")} fieldId="cluster-kubeconfig" isRequired>
        <FileUpload
          id="cluster-kubeconfig"
          type="text"
          value={kubeconfig}
          filename={filename}
          filenamePlaceholder={t("platform:clusters.kubeconfigPlaceholder")}
          browseButtonText={t("platform:clusters.upload")}
          clearButtonText={t("platform:clusters.clear")}
          allowEditingUploadedText
          onFileInputChange={(_event, file) => setFilename(file.name)}
          onDataChange={(_event, data) => setKubeconfig(data)}
          onTextChange={(_event, text) => setKubeconfig(text)}
          onClearClick={() => {
            setKubeconfig("");
            setFilename("");
          }}
          aria-label={t("platform:clusters.kubeconfig")}
          data-testid="cluster-kubeconfig"
        />
        <FormHelperText>
          <HelperText>
            <HelperTextItem>{t("platform:clusters.kubeconfigHelp")}</HelperTextItem>
          </HelperText>
        </FormHelperText>
      </FormGroup>
    </FormDialog>
  );
}
