/**
 * The frame every workload action shares: a modal whose confirm button runs the action,
 * shows the server's message inline if it fails, and on success says what happened, then
 * closes by itself a moment later (the detail page behind is live, so the change shows
 * there too).
 */
import { useEffect, useId, useRef, useState, type ReactNode } from "react";
import { Alert, Button, Modal, ModalBody, ModalFooter, ModalHeader } from "@patternfly/react-core";
import { useQueryClient } from "@tanstack/react-query";
import { useTranslation } from "react-i18next";
import { describe } from "@/lib/api/errors";
import type { Kind } from "@/lib/k8s/kinds";

/** How long the success message stays before the dialog closes. */
export const CLOSE_AFTER_MS = 1500;

export interface ActionDialogProps {
  kind: Kind;
  cluster: string;
  title: string;
  /** The confirm button's label. */
  confirm: string;
  danger?: boolean;
  disabled?: boolean;
  variant?: "small" | "medium" | "large";
  /** Does the work; resolves to the sentence that reports success. */
  run(): Promise<string>;
  onClose(): void;
  children?: ReactNode;
}

export function ActionDialog({ kind, cluster, title, confirm, danger, disabled, variant = "small", run, onClose, children }: ActionDialogProps) {
  const { t } = useTranslation();
  const client = useQueryClient();
  const titleId = useId();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [done, setDone] = useState<string | null>(null);

  // The page behind re-renders as the object changes, handing a new `onClose` each time:
  // the timer must not restart with it.
  const close = useRef(onClose);
  useEffect(() => {
    close.current = onClose;
  });
  useEffect(() => {
    if (done === null) return;
    const timer = setTimeout(() => close.current(), CLOSE_AFTER_MS);
    return () => clearTimeout(timer);
  }, [done]);

  async function go() {
    setBusy(true);
    setError(null);
    try {
      const message = await run();
      void client.invalidateQueries({ queryKey: ["object", cluster, kind.resource] });
      void client.invalidateQueries({ queryKey: ["list", cluster, kind.resource] });
      setDone(message);
    } catch (caught) {
      setError(describe(caught));
    } finally {
      setBusy(false);
    }
  }

  return (
    <Modal isOpen variant={variant} onClose={onClose} aria-labelledby={titleId}>
      <ModalHeader title={title} labelId={titleId} />
      <ModalBody>
        {children}
        {error && (
          <Alert variant="danger" isInline title={t("workload:action.failed")} data-testid="action-error" style={{ marginTop: 16 }}>
            {error}
          </Alert>
        )}
        {done && <Alert variant="success" isInline title={done} data-testid="action-done" style={{ marginTop: 16 }} />}
      </ModalBody>
      <ModalFooter>
        {done === null ? (
          <>
            <Button
              variant={danger ? "danger" : "primary"}
              onClick={() => void go()}
              isLoading={busy}
              isDisabled={busy || disabled}
              data-testid="action-confirm"
            >
              {confirm}
            </Button>
            <Button variant="link" onClick={onClose} data-testid="action-cancel">
              {t("cancel")}
            </Button>
          </>
        ) : (
          <Button variant="primary" onClick={onClose} data-testid="action-close">
            {t("close")}
          </Button>
        )}
      </ModalFooter>
    </Modal>
  );
}
