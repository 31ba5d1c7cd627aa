/** Deleting one object or several, with the choice of what happens to what they own. */
import { useState } from "react";
import { Alert, Button, Modal, ModalBody, ModalFooter, ModalHeader, Radio } from "@patternfly/react-core";
import { useQueryClient } from "@tanstack/react-query";
import { useTranslation } from "react-i18next";
import { api } from "@/lib/api/client";
import { describe } from "@/lib/api/errors";
import type { Kind } from "@/lib/k8s/kinds";
import type { K8sObject } from "@/lib/k8s/types";

const OWNERS = new Set(["Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job", "CronJob"]);

export function DeleteDialog({
  kind,
  cluster,
  objects,
  onClose,
}: {
  kind: Kind;
  cluster: string;
  objects: K8sObject[];
  onClose(deleted: boolean): void;
}) {
  const { t } = useTranslation();
  const client = useQueryClient();
  const [cascade, setCascade] = useState<"Background" | "Orphan">("Background");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const owns = OWNERS.has(kind.kind);
  const title =
    objects.length === 1
      ? t("delete.title", { kind: kind.kind, name: objects[0].metadata.name })
      : t("delete.many", { count: objects.length });

  async function remove() {
    setBusy(true);
    setError(null);
    const failures: string[] = [];
    for (const object of objects) {
      try {
        await api.delete(kind.path(cluster, object.metadata.namespace, object.metadata.name), {
          kind: "DeleteOptions",
          apiVersion: "v1",
          propagationPolicy: owns ? cascade : "Background",
        });
      } catch (caught) {
        failures.push(`${object.metadata.name}: ${describe(caught)}`);
      }
    }
    setBusy(false);
    void client.invalidateQueries({ queryKey: ["list", cluster, kind.resource] });
    if (failures.length) setError(failures.join("\n"));
    else onClose(true);
  }

  return (
    <Modal isOpen variant="small" onClose={() => onClose(false)} aria-labelledby="delete-title">
      <ModalHeader title={title} labelId="delete-title" titleIconVariant="warning" />
      <ModalBody>
        <p>{t("delete.body")}</p>
        {objects.length > 1 && (
          <ul>
            {objects.map((object) => (
              <li key={`${object.metadata.namespace}/${object.metadata.name}`}>{object.metadata.name}</li>
            ))}
          </ul>
        )}
        {owns && (
          <>
            <Radio id="cascade-background" name="cascade" label={t("delete.cascade")} isChecked={cascade === "Background"} onChange={() => setCascade("Background")} />
            <Radio id="cascade-orphan" name="cascade" label={t("delete.orphan")} isChecked={cascade === "Orphan"} onChange={() => setCascade("Orphan")} />
          </>
        )}
        {error && <Alert variant="danger" isInline title={error} style={{ whiteSpace: "pre-line" }} />}
      </ModalBody>
      <ModalFooter>
        <Button variant="danger" onClick={() => void remove()} isLoading={busy} isDisabled={busy} data-testid="confirm-delete">
          {t("delete")}
        </Button>
        <Button variant="link" onClick={() => onClose(false)}>
          {t("cancel")}
        </Button>
      </ModalFooter>
    </Modal>
  );
}
