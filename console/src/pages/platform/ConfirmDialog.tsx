/**
 * Asking before something that cannot be undone (removing a cluster, a member, a project),
 * then doing it: the server's refusal stays in the dialog, in its words. When `typed` is
 * given the user must type that name first, for removals that take everything inside along.
 */
import { useState, type ReactNode } from "react";
import { FormGroup, TextInput } from "@patternfly/react-core";
import { useTranslation } from "react-i18next";
import { FormDialog } from "@/components/FormDialog";

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
  return (
    <FormDialog
      title={title}
      warning={variant === "danger"}
      onClose={() => onClose(false)}
      onSubmit={async () => {
        await run();
        onClose(true);
      }}
      submitLabel={confirm ?? t("delete")}
      submitVariant={variant}
      submitTestId="confirm-delete"
      isSubmitDisabled={typed !== undefined && text !== typed}
    >
      <div>{body}</div>
      {typed !== undefined && (
        <FormGroup label={t("platform:confirm.type", { name: typed })} fieldId="confirm-name">
          <TextInput id="confirm-name" value={text} onChange={(_event, value) => setText(value)} autoComplete="off" />
        </FormGroup>
      )}
    </FormDialog>
  );
}
