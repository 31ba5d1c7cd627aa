/** Changing one's password; `required` when a generated password must be replaced first. */
import { useState } from "react";
import { ActionGroup, Alert, Button, Form, FormGroup, Modal, ModalBody, ModalHeader, TextInput } from "@patternfly/react-core";
import { useQueryClient } from "@tanstack/react-query";
import { useTranslation } from "react-i18next";
import { api } from "@/lib/api/client";
import { describe } from "@/lib/api/errors";
import { meKey } from "@/lib/api/me";

export function PasswordDialog({ user, required, onClose }: { user: string; required?: boolean; onClose(): void }) {
  const { t } = useTranslation();
  const client = useQueryClient();
  const [current, setCurrent] = useState("");
  const [next, setNext] = useState("");
  const [again, setAgain] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const mismatch = again !== "" && next !== again;

  async function submit() {
    setBusy(true);
    setError(null);
    try {
      await api.put(`/kapis/iam.atoll.io/v1alpha1/users/${encodeURIComponent(user)}/password`, {
        currentPassword: current,
        password: next,
      });
      await client.invalidateQueries({ queryKey: meKey });
      onClose();
    } catch (caught) {
      setError(describe(caught));
    } finally {
      setBusy(false);
    }
  }

  return (
    <Modal isOpen variant="small" onClose={required ? undefined : onClose} aria-labelledby="password-title">
      <ModalHeader title={t("password.title")} labelId="password-title" />
      <ModalBody>
        {required && <Alert variant="info" isInline title={t("password.required")} style={{ marginBottom: 16 }} />}
        <Form
          onSubmit={(event) => {
            event.preventDefault();
            void submit();
          }}
        >
          <FormGroup label={t("password.current")} fieldId="password-current" isRequired>
            <TextInput id="password-current" type="password" value={current} onChange={(_e, v) => setCurrent(v)} autoComplete="current-password" />
          </FormGroup>
          <FormGroup label={t("password.new")} fieldId="password-new" isRequired>
            <TextInput id="password-new" type="password" value={next} onChange={(_e, v) => setNext(v)} autoComplete="new-password" />
          </FormGroup>
          <FormGroup label={t("password.confirm")} fieldId="password-again" isRequired>
            <TextInput
              id="password-again"
              type="password"
              value={again}
              onChange={(_e, v) => setAgain(v)}
              validated={mismatch ? "error" : "default"}
              autoComplete="new-password"
            />
            {mismatch && <div className="pf-v6-c-helper-text pf-m-error" role="alert">{t("password.mismatch")}</div>}
          </FormGroup>
          {error && <Alert variant="danger" isInline title={error} />}
          <ActionGroup>
            <Button type="submit" isDisabled={busy || !current || !next || mismatch} isLoading={busy} data-testid="password-submit">
              {t("save")}
            </Button>
            {!required && (
              <Button variant="link" onClick={onClose}>
                {t("cancel")}
              </Button>
            )}
          </ActionGroup>
        </Form>
      </ModalBody>
    </Modal>
  );
}
