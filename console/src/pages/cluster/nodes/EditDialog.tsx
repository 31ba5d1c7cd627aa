/**
 * The frame of the node editors (labels, taints): rows added and removed, a save that is
 * offered only while every row is valid, and the server's refusal shown in the dialog.
 */
import { useState, type ReactNode } from "react";
import { Alert, Button, Form, Modal, ModalBody, ModalFooter, ModalHeader } from "@patternfly/react-core";
import { PlusCircleIcon } from "@patternfly/react-icons";
import { useTranslation } from "react-i18next";
import { describe } from "@/lib/api/errors";

export function EditDialog({ title, valid, onAdd, save, onClose, children }: {
  title: string;
  valid: boolean;
  onAdd(): void;
  save(): Promise<unknown>;
  onClose(): void;
  children: ReactNode;
}) {
  const { t } = useTranslation();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  async function submit() {
    setBusy(true);
    setError(null);
    try {
      await save();
      onClose();
    } catch (caught) {
      setError(describe(caught));
      setBusy(false);
    }
  }

  return (
    <Modal isOpen variant="medium" onClose={onClose} aria-labelledby="edit-dialog-title">
      <ModalHeader title={title} labelId="edit-dialog-title" />
      <ModalBody>
        <Form
          id="edit-dialog-form"
          onSubmit={(event) => {
            event.preventDefault();
            void submit();
          }}
        >
          {children}
          <div>
            <Button variant="link" icon={<PlusCircleIcon />} onClick={onAdd} data-testid="row-add">
              {t("cluster:keys.add")}
            </Button>
          </div>
          {error && <Alert variant="danger" isInline title={error} />}
        </Form>
      </ModalBody>
      <ModalFooter>
        <Button type="submit" form="edit-dialog-form" isLoading={busy} isDisabled={busy || !valid} data-testid="edit-save">
          {t("save")}
        </Button>
        <Button variant="link" onClick={onClose}>
          {t("cancel")}
        </Button>
      </ModalFooter>
    </Modal>
  );
}
