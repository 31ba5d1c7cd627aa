/**
 * A Secret's overview: its type and keys, values hidden. A value is shown only when asked
 * (per key, or all), only to those who may `get` the Secret, and read afresh through the
 * Kubernetes API then (never from the list cache), so a refusal comes back as the server's
 * own 403, shown in words. Values are forgotten when hidden or when the Secret changes.
 */
import { useState } from "react";
import { Alert, Button, CodeBlock, CodeBlockCode, Flex, FlexItem } from "@patternfly/react-core";
import { Table, Tbody, Td, Th, Thead, Tr } from "@patternfly/react-table";
import { EyeIcon, EyeSlashIcon } from "@patternfly/react-icons";
import { useTranslation } from "react-i18next";
import { useCan } from "@/lib/api/access";
import { ApiError, describe } from "@/lib/api/errors";
import type { DetailTabProps } from "@/lib/extensions/types";
import type { K8sObject } from "@/lib/k8s/types";
import { bytes } from "@/lib/format";
import { Metadata } from "@/pages/resources/Overview";
import { Facts, Section } from "../parts/Details";
import { decodedSize, revealSecret, type SecretValue } from "../secrets";

const MASK = "••••••••";

function Value({ value }: { value: SecretValue }) {
  const { t } = useTranslation();
  if (value.text === null) return <>{t("project:secret.binary", { size: bytes(value.size) })}</>;
  return (
    <CodeBlock>
      <CodeBlockCode style={{ whiteSpace: "pre-wrap", wordBreak: "break-all" }}>{value.text}</CodeBlockCode>
    </CodeBlock>
  );
}

export function SecretData({ secret, cluster }: { secret: K8sObject; cluster: string }) {
  const { t } = useTranslation();
  const namespace = secret.metadata.namespace ?? "";
  const name = secret.metadata.name;
  const mayGet = useCan({ cluster, verb: "get", resource: "secrets", namespace, name });
  const [values, setValues] = useState<Record<string, SecretValue> | null>(null);
  const [shown, setShown] = useState<Set<string>>(new Set());
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const data = (secret.data ?? {}) as Record<string, string>;
  const keys = Object.keys(data).sort();

  const reveal = async (which: string[]) => {
    setError(null);
    if (!values) {
      setBusy(true);
      try {
        setValues(await revealSecret(cluster, namespace, name));
      } catch (failure) {
        setError(failure);
        return;
      } finally {
        setBusy(false);
      }
    }
    setShown((before) => new Set([...before, ...which]));
  };
  const hide = (key: string) =>
    setShown((before) => {
      const next = new Set(before);
      next.delete(key);
      return next;
    });
  const hideAll = () => {
    setShown(new Set());
    setValues(null);
  };

  if (!keys.length) return <p>{t("project:secret.noData")}</p>;
  return (
    <>
      {mayGet && (
        <Flex style={{ marginBottom: 8 }}>
          <FlexItem>
            {shown.size > 0 ? (
              <Button variant="secondary" icon={<EyeSlashIcon />} onClick={hideAll} data-testid="secret-hide-all">
                {t("project:secret.hideAll")}
              </Button>
            ) : (
              <Button variant="secondary" icon={<EyeIcon />} onClick={() => void reveal(keys)} isLoading={busy} isDisabled={busy} data-testid="secret-reveal-all">
                {t("project:secret.revealAll")}
              </Button>
            )}
          </FlexItem>
        </Flex>
      )}
      {error !== null && (
        <Alert
          variant="danger"
          isInline
          title={error instanceof ApiError && error.forbidden ? t("project:secret.forbidden") : t("project:secret.revealFailed")}
          data-testid="secret-error"
          style={{ marginBottom: 8 }}
        >
          {describe(error)}
        </Alert>
      )}
      <Table variant="compact" aria-label={t("project:secret.data")} data-testid="secret-data">
        <Thead>
          <Tr>
            <Th width={20}>{t("project:secret.key")}</Th>
            <Th width={10}>{t("project:secret.size")}</Th>
            <Th>{t("project:secret.value")}</Th>
            {mayGet && <Th screenReaderText={t("actions")} />}
          </Tr>
        </Thead>
        <Tbody>
          {keys.map((key) => {
            const value = shown.has(key) ? values?.[key] : undefined;
            return (
              <Tr key={key} data-row={key}>
                <Td>
                  <code>{key}</code>
                </Td>
                <Td>{bytes(decodedSize(data[key]))}</Td>
                <Td data-testid={`secret-value-${key}`}>{value ? <Value value={value} /> : <span aria-label={t("project:secret.hidden")}>{MASK}</span>}</Td>
                {mayGet && (
                  <Td isActionCell>
                    {value ? (
                      <Button variant="plain" icon={<EyeSlashIcon />} aria-label={t("project:secret.hideKey", { key })} onClick={() => hide(key)} data-testid={`secret-hide-${key}`} />
                    ) : (
                      <Button
                        variant="plain"
                        icon={<EyeIcon />}
                        aria-label={t("project:secret.revealKey", { key })}
                        onClick={() => void reveal([key])}
                        isDisabled={busy}
                        data-testid={`secret-reveal-${key}`}
                      />
                    )}
                  </Td>
                )}
              </Tr>
            );
          })}
        </Tbody>
      </Table>
    </>
  );
}

export default function SecretOverview({ object: secret, cluster }: DetailTabProps) {
  const { t } = useTranslation();
  return (
    <>
      <Metadata object={secret} cluster={cluster} />
      <Section title={t("project:secret.details")}>
        <Facts items={[[t("project:col.type"), secret.type ?? "Opaque"], [t("project:secret.immutable"), secret.immutable ? t("yes") : undefined]]} />
      </Section>
      <Section title={t("project:secret.data")}>
        {/* A new version of the Secret forgets what was revealed of the old one. */}
        <SecretData key={secret.metadata.resourceVersion} secret={secret} cluster={cluster} />
      </Section>
    </>
  );
}
