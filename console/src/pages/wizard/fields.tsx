/**
 * The wizard's form fields: a labelled input that shows its field's problem beside it, in
 * words, as the user types. Problems come from `validate` through `Problems`; a "required"
 * one waits until the field has been touched (or the user asks to see what is missing), so a
 * fresh step does not open covered in red.
 */
import { createContext, useContext, type ReactNode } from "react";
import {
  FormGroup,
  FormHelperText,
  FormSelect,
  FormSelectOption,
  HelperText,
  HelperTextItem,
  TextArea,
  TextInput,
} from "@patternfly/react-core";
import { useTranslation } from "react-i18next";
import type { Errors } from "./model";

interface ProblemsValue {
  errors: Errors;
  touched: ReadonlySet<string>;
  touch(path: string): void;
}

export const Problems = createContext<ProblemsValue>({ errors: {}, touched: new Set(), touch: () => undefined });

/** The problem of a field, in words, if it is to be shown now; and a way to mark it touched. */
export function useProblem(path: string | undefined): { problem?: string; touch(): void } {
  const { t } = useTranslation();
  const { errors, touched, touch } = useContext(Problems);
  if (!path) return { touch: () => undefined };
  const found = errors[path];
  const shown = found && (found.code !== "required" || touched.has(path));
  return {
    problem: shown ? t(`wizard:problem.${found.code}`, { limit: found.limit }) : undefined,
    touch: () => touch(path),
  };
}

/** The words under a field: its problem, or else a hint. */
export function FieldHelp({ id, problem, hint }: { id: string; problem?: string; hint?: ReactNode }) {
  if (!problem && !hint) return null;
  return (
    <FormHelperText>
      <HelperText>
        <HelperTextItem id={`${id}-helper`} variant={problem ? "error" : "default"} data-testid={problem ? `${id}-error` : undefined}>
          {problem ?? hint}
        </HelperTextItem>
      </HelperText>
    </FormHelperText>
  );
}

interface TextFieldProps {
  /** The input's id and test id. */
  id: string;
  /** The field's path in `validate`'s answer. */
  path?: string;
  label: string;
  value: string;
  onChange(value: string): void;
  isRequired?: boolean;
  placeholder?: string;
  hint?: ReactNode;
  type?: "text" | "number" | "password" | "email";
  multiline?: boolean;
}

export function TextField({ id, path, label, value, onChange, isRequired, placeholder, hint, type = "text", multiline }: TextFieldProps) {
  const { problem, touch } = useProblem(path);
  const common = {
    id,
    "data-testid": id,
    value,
    placeholder,
    isRequired,
    validated: problem ? ("error" as const) : ("default" as const),
    "aria-describedby": problem || hint ? `${id}-helper` : undefined,
    onBlur: touch,
  };
  return (
    <FormGroup label={label} fieldId={id} isRequired={isRequired}>
      {multiline ? (
        <TextArea {...common} resizeOrientation="vertical" onChange={(_event, next) => { touch(); onChange(next); }} />
      ) : (
        <TextInput {...common} type={type} onChange={(_event, next) => { touch(); onChange(next); }} />
      )}
      <FieldHelp id={id} problem={problem} hint={hint} />
    </FormGroup>
  );
}

export interface Option {
  value: string;
  label: string;
}

interface SelectFieldProps {
  id: string;
  path?: string;
  label: string;
  value: string;
  options: Option[];
  onChange(value: string): void;
  isRequired?: boolean;
  /** A first, empty choice ("Choose…"). */
  placeholder?: string;
  hint?: ReactNode;
}

export function SelectField({ id, path, label, value, options, onChange, isRequired, placeholder, hint }: SelectFieldProps) {
  const { problem, touch } = useProblem(path);
  return (
    <FormGroup label={label} fieldId={id} isRequired={isRequired}>
      <FormSelect
        id={id}
        data-testid={id}
        value={value}
        validated={problem ? "error" : "default"}
        aria-describedby={problem || hint ? `${id}-helper` : undefined}
        onBlur={touch}
        onChange={(_event, next) => {
          touch();
          onChange(next);
        }}
      >
        {placeholder !== undefined && <FormSelectOption value="" label={placeholder} />}
        {options.map((option) => (
          <FormSelectOption key={option.value} value={option.value} label={option.label} />
        ))}
      </FormSelect>
      <FieldHelp id={id} problem={problem} hint={hint} />
    </FormGroup>
  );
}

/** A copy of `list` with the item at `index` replaced. */
export function replaceAt<T>(list: readonly T[], index: number, item: T): T[] {
  return list.map((old, at) => (at === index ? item : old));
}

export function removeAt<T>(list: readonly T[], index: number): T[] {
  return list.filter((_, at) => at !== index);
}
