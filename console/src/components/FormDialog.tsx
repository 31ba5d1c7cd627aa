/**
 * The one frame of the console's form dialogs: a title, the fields, the server's refusal in
 * its words, and a submit button beside Cancel. It owns the busy and error states, so a
 * dialog only says what submitting does: `onSubmit` does the work and closes the dialog
 * itself when done (or returns early when the form is not ready yet). While it runs the
 * button spins and cannot be pressed again; if it throws, the error stays in the dialog,
 * described (`describe`), and the user may correct the form and try again.
 */
import { useId, useState, type ReactNode } from "react";
import { Alert, Button, Form, Modal, ModalBody, ModalFooter, ModalHeader } from "@patternfly/react-core";
import { useTranslation } from "react-i18next";
import { describe } from "@/lib/api/errors";

export interface FormDialogProps {
  title: string;
  /** A line under the title. */
  description?: ReactNode;
  /** A warning sign beside the title, for what cannot be undone. */
  warning?: boolean;
  variant?: "small" | "medium" | "large";
  /** Cancel, the close button and Escape. */
  onClose(): void;
  /** Does the work and closes the dialog; a throw is shown in the dialog. */
  onSubmit(): Promise<void>;
  submitLabel: string;
  submitTestId: string;
  /** `danger` for what cannot be undone. */
  submitVariant?: "primary" | "danger";
  /** Not ready yet (a field is missing or wrong). */
  isSubmitDisabled?: boolean;
  /** A heading over the error's words; without it the words are the heading. */
  errorTitle?: string;
  errorTestId?: string;
  /** The fields (anything a `Form` may hold). */
  children: ReactNode;
}

export function FormDialog({
  title,
  description,
  warning,
  variant = "small",
  onClose,
  onSubmit,
  submitLabel,
  submitTestId,
  submitVariant = "primary",
  isSubmitDisabled = false,
  errorTitle,
  errorTestId,
  children,
}: FormDialogProps) {
  const { t } = useTranslation();
  const titleId = useId();
  const formId = useId();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);

  async function submit() {
    setBusy(true);
    setError(null);
    try {
      await onSubmit();
    } catch (caught) {
      setError(caught);
    } finally {
      setBusy(false);
    }
  }

  const words = error === null ? null : describe(error);
  return (
    <Modal isOpen variant={variant} onClose={onClose} aria-labelledby={titleId}>
      <ModalHeader title={title} labelId={titleId} description={description} titleIconVariant={warning ? "warning" : undefined} />
      <ModalBody>
        <Form
          id={formId}
          onSubmit={(event) => {
            event.preventDefault();
            if (!busy && !isSubmitDisabled) void submit();
          }}
        >
          {children}
          {words !== null && (
            <Alert variant="danger" isInline title={errorTitle ?? words} data-testid={errorTestId}>
              {errorTitle && words}
            </Alert>
          )}
        </Form>
      </ModalBody>
      <ModalFooter>
        <Button type="submit" form={formId} variant={submitVariant} isLoading={busy} isDisabled={busy || isSubmitDisabled} data-testid={submitTestId}>
          {submitLabel}
        </Button>
        <Button variant="link" onClick={onClose}>
          {t("cancel")}
        </Button>
      </ModalFooter>
    </Modal>
  );
}
