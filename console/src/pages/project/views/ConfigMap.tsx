/**
 * A ConfigMap's overview: each key with its value in monospace, collapsible (short values
 * open, long ones closed), and the keys of its binary data with their sizes.
 */
import { useState } from "react";
import { CodeBlock, CodeBlockCode, ExpandableSection, Stack, StackItem } from "@patternfly/react-core";
import { useTranslation } from "react-i18next";
import type { DetailTabProps } from "@/lib/extensions/types";
import { bytes } from "@/lib/format";
import { Metadata } from "@/pages/resources/Overview";
import { Facts, Section } from "../parts/Details";
import { decodedSize } from "../secrets";

/** Values this short (in lines) are shown open. */
const OPEN_LINES = 12;

function Entry({ name, value }: { name: string; value: string }) {
  const [open, setOpen] = useState(value.split("\n").length <= OPEN_LINES);
  return (
    <ExpandableSection
      toggleContent={<code>{name}</code>}
      isIndented
      isExpanded={open}
      onToggle={(_event, expanded) => setOpen(expanded)}
      data-testid={`configmap-key-${name}`}
    >
      <CodeBlock>
        <CodeBlockCode style={{ whiteSpace: "pre-wrap", wordBreak: "break-all" }}>{value}</CodeBlockCode>
      </CodeBlock>
    </ExpandableSection>
  );
}

export default function ConfigMapOverview({ object, cluster }: DetailTabProps) {
  const { t } = useTranslation();
  const data = (object.data ?? {}) as Record<string, string>;
  const binary = (object.binaryData ?? {}) as Record<string, string>;
  const keys = Object.keys(data).sort();
  return (
    <>
      <Metadata object={object} cluster={cluster} />
      <Section title={t("project:configMap.data")} testId="configmap-data">
        {!keys.length && <p>{t("project:configMap.noData")}</p>}
        <Stack hasGutter>
          {keys.map((key) => (
            <StackItem key={key} data-row={key}>
              <Entry name={key} value={data[key]} />
            </StackItem>
          ))}
        </Stack>
      </Section>
      {Object.keys(binary).length > 0 && (
        <Section title={t("project:configMap.binaryData")}>
          <Facts items={Object.keys(binary).sort().map((key) => [key, bytes(decodedSize(binary[key]))] as [string, string])} />
        </Section>
      )}
    </>
  );
}
