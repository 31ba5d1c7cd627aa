/**
 * The name field of the create dialogs (cluster, workspace, group, user, project): checked by
 * the server's own rule (`names.ts`) while the user types, with what is wrong said under it
 * once the dialog shows it, and otherwise the rule's help where the dialog gives one.
 */
import { FormGroup, FormHelperText, HelperText, HelperTextItem, TextInput } from "@patternfly/react-core";
import { useTranslation } from "react-i18next";
import type { NameProblem } from "./names";

export function NameField({
  id,
  label,
  value,
  onChange,
  onBlur,
  problem,
  help,
}: {
  /** The input's id and test id; `<id>-error` marks the problem. */
  id: string;
  label: string;
  value: string;
  onChange(value: string): void;
  onBlur?(): void;
  /** The problem to show now (a dialog may wait until the field was left). */
  problem: NameProblem | null | false;
  help?: string;
}) {
  const { t } = useTranslation();
  return (
    <FormGroup label={label} fieldId={id} isRequired>
      <TextInput
        id={id}
        data-testid={id}
        value={value}
        onChange={(_event, text) => onChange(text)}
        onBlur={onBlur}
        validated={problem ? "error" : "default"}
        isRequired
        autoComplete="off"
      />
      {(problem || help) && (
        <FormHelperText>
          <HelperText>
            {problem ? (
              <HelperTextItem variant="error" data-testid={`${id}-error`}>
                {t(`platform:${problem}`)}
              </HelperTextItem>
            ) : (
              <HelperTextItem>{help}</HelperTextItem>
            )}
          </HelperText>
        </FormHelperText>
      )}
    </FormGroup>
  );
}
