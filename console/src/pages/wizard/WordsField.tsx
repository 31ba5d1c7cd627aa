/**
 * A container's command or arguments: typed as one shell-like line or one item per line, and
 * shown back as the list Kubernetes will get, so a quoting mistake is seen before it runs.
 */
import { FormGroup, TextArea, TextInput, ToggleGroup, ToggleGroupItem } from "@patternfly/react-core";
import { useTranslation } from "react-i18next";
import { convertWords, wordsOf, type WordsMode } from "./words";
import type { WordsForm } from "./model";
import { FieldHelp, useProblem } from "./fields";

interface WordsFieldProps {
  id: string;
  path: string;
  label: string;
  value: WordsForm;
  onChange(value: WordsForm): void;
  placeholder: string;
}

export function WordsField({ id, path, label, value, onChange, placeholder }: WordsFieldProps) {
  const { t } = useTranslation();
  const { problem, touch } = useProblem(path);
  const { words } = wordsOf(value.mode, value.text);
  const switchTo = (mode: WordsMode) => {
    if (mode !== value.mode) onChange({ mode, text: convertWords(value.mode, value.text) });
  };
  const common = {
    id,
    "data-testid": id,
    value: value.text,
    validated: problem ? ("error" as const) : ("default" as const),
    "aria-describedby": `${id}-helper`,
    onBlur: touch,
    onChange: (_event: unknown, text: string) => {
      touch();
      onChange({ ...value, text });
    },
  };
  return (
    <FormGroup
      label={label}
      fieldId={id}
      labelInfo={
        <ToggleGroup isCompact aria-label={t("wizard:words.mode")}>
          {(["line", "lines"] as const).map((mode) => (
            <ToggleGroupItem
              key={mode}
              text={t(`wizard:words.${mode}`)}
              isSelected={value.mode === mode}
              onChange={() => switchTo(mode)}
              data-testid={`${id}-mode-${mode}`}
            />
          ))}
        </ToggleGroup>
      }
    >
      {value.mode === "line" ? (
        <TextInput {...common} placeholder={placeholder} />
      ) : (
        <TextArea {...common} placeholder={wordsOf("line", placeholder).words.join("\n")} resizeOrientation="vertical" rows={3} />
      )}
      <FieldHelp
        id={id}
        problem={problem}
        hint={words.length ? t("wizard:words.preview", { list: JSON.stringify(words) }) : t(`wizard:words.${value.mode}Hint`)}
      />
    </FormGroup>
  );
}
