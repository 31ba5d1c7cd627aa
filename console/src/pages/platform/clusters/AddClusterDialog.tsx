/**
 * Adding a member cluster: a name and a kubeconfig, pasted or read from a file. The server
 * connects with it before keeping anything, so its refusal (unreachable, a kubeconfig that
 * names files instead of embedding them) is shown here as it words it.
 */
import { useState } from "react";
import {
  Alert,
  Button,
  FileUpload,
  Form,
  FormGroup,
  FormHelperText,
  HelperText,
  HelperTextItem,
  Modal,
  ModalBody,
  ModalFooter,
  ModalHeader,
  TextInput,
} from "@patternfly/react-core";
import { useTranslation } from "react-i18next";
import { api } from "@/lib/api/client";
import { describe } from "@/lib/api/errors";
import { dnsLabelProblem } from "../names";
import { CLUSTERS_API } from "./health";

export function AddClusterDialog({ onClose }: { onClose(added: boolean): void }) {
  const { t } = useTranslation();
  const [name, setName] = useState("");
  const [kubeconfig, setKubeconfig] = useState("");
  const [filename, setFilename] = useState("");
  const [touched, setTouched] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const problem = dnsLabelProblem(name, ["host"]);

  async function submit() {
    setTouched(true);
    if (problem || !kubeconfig.trim()) return;
    setBusy(true);
    setError(null);
    try {
      await api.post(CLUSTERS_API, { name, kubeconfig });
      onClose(true);
    } catch (caught) {
      setError(describe(caught));
      setBusy(false);
    }
  }

  return (
    <Modal isOpen variant="medium" onClose={() => onClose(false)} aria-labelledby="add-cluster-title">
      <ModalHeader title={t("platform:clusters.addTitle")} labelId="add-cluster-title" description={t("platform:clusters.addHelp")} />
      <ModalBody>
        <Form
          id="add-cluster-form"
          onSubmit={(event) => {
            event.preventDefault();
            void submit();
          }}
        >
          <FormGroup label={t("name")} fieldId="cluster-name" isRequired>
            <TextInput
              id="cluster-name"
              data-testid="cluster-name"
              value={name}
              onChange={(_event, value) => setName(value)}
              onBlur={() => setTouched(true)}
              validated={touched && problem ? "error" : "default"}
              isRequired
            />
            {touched && problem && (
              <FormHelperText>
                <HelperText>
                  <HelperTextItem variant="error">{t(`platform:${problem}`)}</HelperTextItem>
                </HelperText>
              </FormHelperText>
            )}
          </FormGroup>
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
          {error && <Alert variant="danger" isInline title={t("platform:clusters.addFailed")} data-testid="add-cluster-error">{error}</Alert>}
        </Form>
      </ModalBody>
      <ModalFooter>
        <Button type="submit" form="add-cluster-form" isLoading={busy} isDisabled={busy || Boolean(problem) || !kubeconfig.trim()} data-testid="cluster-submit">
          {t("platform:clusters.add")}
        </Button>
        <Button variant="link" onClick={() => onClose(false)}>
          {t("cancel")}
        </Button>
      </ModalFooter>
    </Modal>
  );
}
