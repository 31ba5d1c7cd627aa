/** What every step of the wizard is given, and the order the steps come in. */
import type { StepId, WizardState } from "./model";

export interface StepProps {
  state: WizardState;
  onChange(next: WizardState): void;
}

export const STEPS: StepId[] = ["basic", "containers", "strategy", "volumes", "advanced", "service", "pullSecret", "review"];
