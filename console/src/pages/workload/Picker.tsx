/** A compact single choice for toolbars: which container, which pod. */
import { useState } from "react";
import { MenuToggle, Select, SelectList, SelectOption } from "@patternfly/react-core";
import { useTranslation } from "react-i18next";
import type { ContainerChoice } from "./containers";

export interface PickerOption {
  value: string;
  description?: string;
}

export interface PickerProps {
  /** Read by screen readers on the toggle, with the current value. */
  label: string;
  value: string;
  options: PickerOption[];
  onChange(value: string): void;
  isDisabled?: boolean;
  testId: string;
}

export function Picker({ label, value, options, onChange, isDisabled, testId }: PickerProps) {
  const { t } = useTranslation();
  const [open, setOpen] = useState(false);
  return (
    <Select
      isOpen={open}
      selected={value}
      onOpenChange={setOpen}
      onSelect={(_event, picked) => {
        setOpen(false);
        if (picked !== undefined) onChange(String(picked));
      }}
      toggle={(ref) => (
        <MenuToggle
          ref={ref}
          onClick={() => setOpen(!open)}
          isExpanded={open}
          isDisabled={isDisabled}
          aria-label={t("workload:picker.current", { label, value })}
          data-testid={testId}
        >
          {value || label}
        </MenuToggle>
      )}
    >
      <SelectList aria-label={label}>
        {options.map((option) => (
          <SelectOption key={option.value} value={option.value} description={option.description} data-testid={`${testId}-${option.value}`}>
            {option.value}
          </SelectOption>
        ))}
      </SelectList>
    </Select>
  );
}

/** Which container: each but the regular ones says its role (init, ephemeral). */
export function ContainerPicker({ choices, value, onChange, testId }: { choices: ContainerChoice[]; value: string; onChange(name: string): void; testId: string }) {
  const { t } = useTranslation();
  return (
    <Picker
      label={t("workload:container")}
      value={value}
      options={choices.map((choice) => ({
        value: choice.name,
        description: choice.role === "regular" ? undefined : t(`workload:containerRole.${choice.role}`),
      }))}
      onChange={onChange}
      testId={testId}
    />
  );
}
