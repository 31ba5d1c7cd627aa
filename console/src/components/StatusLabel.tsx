import { css } from "@patternfly/react-styles";
import label from "@patternfly/react-styles/css/components/Label/label";
import type { Health, StatusWord } from "@/lib/k8s/status";

// PatternFly's colours for a label; grey is its default (no modifier).
const COLORS: Record<Health, string> = {
  ok: label.modifiers.green,
  progress: label.modifiers.blue,
  warning: label.modifiers.orange,
  error: label.modifiers.red,
  unknown: "",
};

/**
 * A status word in its colour; the text alone carries the meaning (not the colour).
 *
 * PatternFly's label markup and classes, not its `Label`: that one measures its text in a
 * layout effect (to offer a tooltip when cut short), which makes the browser lay out the
 * whole page as each one mounts; a status word is short, and a long list scrolling mounts
 * many. The look is the same.
 */
export function StatusLabel({ status }: { status: StatusWord }) {
  return (
    <span className={css(label.label, label.modifiers.filled, label.modifiers.compact, COLORS[status.health])} data-status={status.text}>
      <span className={label.labelContent}>
        <span className={label.labelText}>{status.text}</span>
      </span>
    </span>
  );
}
