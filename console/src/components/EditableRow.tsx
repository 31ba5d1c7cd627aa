/**
 * One row of a list edited in place (a node's labels or taints, a workspace's quota): its
 * fields side by side, a button that takes the row out, and what is wrong with it, in words,
 * under them.
 */
import type { ReactNode } from "react";
import { Button, Flex, FlexItem, FormHelperText, HelperText, HelperTextItem } from "@patternfly/react-core";
import { MinusCircleIcon } from "@patternfly/react-icons";

export function EditableRow({
  problem,
  removeLabel,
  onRemove,
  children,
}: {
  /** What is wrong with the row; nothing while it is fine. */
  problem?: string | null;
  /** The remove button's label (it shows an icon only). */
  removeLabel: string;
  onRemove(): void;
  /** The fields, each in a `FlexItem`. */
  children: ReactNode;
}) {
  return (
    <div>
      <Flex>
        {children}
        <FlexItem>
          <Button variant="plain" aria-label={removeLabel} onClick={onRemove}>
            <MinusCircleIcon />
          </Button>
        </FlexItem>
      </Flex>
      {problem && (
        <FormHelperText>
          <HelperText>
            <HelperTextItem variant="error">{problem}</HelperTextItem>
          </HelperText>
        </FormHelperText>
      )}
    </div>
  );
}
