/**
 * Asking before something that cannot be undone (removing a cluster, a member, a project),
 * then doing it: the server's refusal stays in the dialog, in its words. When `typed` is
 * given the user must type that name first, for removals that take everything inside along.
 */
import { useState, type ReactNode } from "react";
import { Alert, Button, Form, FormGroup, Modal, ModalBody, ModalFooter, ModalHeader, TextInput } from "@patternfly/react-core";
import { useTranslation } from "react-i18next";
import { describe } from "@/lib/api/errors";

export interface ConfirmDialogProps {
  title: string;
  body: ReactNode;
  /** The button's words; `delete` when left out. */
  confirm?: string;
  /** A name the user must type to confirm. */
  typed?: string;
  /** `primary` for what undoes easily (uncordon, enable); `danger` otherwise. */
  variant?: "danger" | "primary";
  run(): Promise<unknown>;
  onClose(done: boolean): void;
}

export function ConfirmDialog({ title, body, confirm, typed, variant = "danger", run, onClose }: ConfirmDialogProps) {
  const { t } = useTranslation();
  const [text, setText] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const ready = typed === undefined || text === typed;

  async function go() {
    setBusy(true);
    setError(null);
    try {
      await run();
      onClose(true);
    } catch (caught) {
      setError(describe(caught));
      setBusy(false);
    }
  }

  return (
    <Modal isOpen variant="small" onClose={() => onClose(false)} aria-labelledby="confirm-title">
      <ModalHeader title={title} labelId="confirm-title" titleIconVariant={variant === "danger" ? "warning" : undefined} />
      <ModalBody>
        <div>{body}</div>
        {typed !== undefined && (
          <Form onSubmit={(event) => event.preventDefault()} style={{ marginTop: 16 }}>
            <FormGroup label={t("platform:confirm.type", { name: typed })} fieldId="confirm-name">
              <TextInput id="confirm-name" value={text} onChange={(_event, value) => setText(value)} autoComplete="off" />
            </FormGroup>
          </Form>
        )}
        {error && <Alert variant="danger" isInline title={error} style={{ marginTop: 16 }} />}
      </ModalBody>
      <ModalFooter>
        <Button variant={variant} onClick={() => void go()} isLoading={busy} isDisabled={busy || !ready} data-testid="confirm-delete">
          {confirm ?? t("delete")}
        </Button>
        <Button variant="link" onClick={() => onClose(false)}>
          {t("cancel")}
        </Button>
      </ModalFooter>
    </Modal>
  );
}
