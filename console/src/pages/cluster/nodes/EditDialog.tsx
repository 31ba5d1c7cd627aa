/**
 * The frame of the node editors (labels, taints): rows added and removed, a save that is
 * offered only while every row is valid, and the server's refusal shown in the dialog.
 */
import type { ReactNode } from "react";
import { Button } from "@patternfly/react-core";
import { PlusCircleIcon } from "@patternfly/react-icons";
import { useTranslation } from "react-i18next";
import { FormDialog } from "@/components/FormDialog";

export function EditDialog({ title, valid, onAdd, save, onClose, children }: {
  title: string;
  valid: boolean;
  onAdd(): void;
  save(): Promise<unknown>;
  onClose(): void;
  children: ReactNode;
}) {
  const { t } = useTranslation();
  return (
    <FormDialog
      title={title}
      variant="medium"
      onClose={onClose}
      onSubmit={async () => {
        await save();
        onClose();
      }}
      submitLabel={t("save")}
      submitTestId="edit-save"
      isSubmitDisabled={!valid}
    >
      {children}
      <div>
        <Button variant="link" icon={<PlusCircleIcon />} onClick={onAdd} data-testid="row-add">
          {t("cluster:keys.add")}
        </Button>
      </div>
    </FormDialog>
  );
}
