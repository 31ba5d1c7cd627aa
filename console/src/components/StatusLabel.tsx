import { Label } from "@patternfly/react-core";
import type { Health, StatusWord } from "@/lib/k8s/status";

const COLORS: Record<Health, "green" | "blue" | "orange" | "red" | "grey"> = {
  ok: "green",
  progress: "blue",
  warning: "orange",
  error: "red",
  unknown: "grey",
};

/** A status word in its colour; the text alone carries the meaning (not the colour). */
export function StatusLabel({ status }: { status: StatusWord }) {
  return (
    <Label color={COLORS[status.health]} isCompact data-status={status.text}>
      {status.text}
    </Label>
  );
}
