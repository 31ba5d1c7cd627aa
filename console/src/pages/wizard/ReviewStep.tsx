/**
 * Step 8: the objects that will be created, as YAML, and — once Create is pressed — how each
 * one fares: created, refused (with the server's message beside it), or not tried. After a
 * refusal the wizard stays open; what was already created is said plainly.
 */
import { Alert, CodeBlock, CodeBlockCode, ProgressStep, ProgressStepper, Stack, StackItem, Title } from "@patternfly/react-core";
import { useTranslation } from "react-i18next";
import { stringify } from "yaml";
import type { K8sObject } from "@/lib/k8s/types";
import type { Creation, CreationStep } from "./creating";

const VARIANT: Record<CreationStep, "pending" | "info" | "success" | "danger"> = {
  waiting: "pending",
  creating: "info",
  created: "success",
  createdBefore: "success",
  failed: "danger",
  notTried: "pending",
};

/** The YAML shown: a Secret's values are left out, as the screen may be seen by others. */
export function previewYaml(objects: K8sObject[], hidden: string): string {
  return objects
    .map((object) => {
      const data = object.data as Record<string, string> | undefined;
      const shown = object.kind === "Secret" && data ? { ...object, data: Object.fromEntries(Object.keys(data).map((key) => [key, hidden])) } : object;
      return stringify(shown);
    })
    .join("---\n");
}

function Progress({ creations }: { creations: Creation[] }) {
  const { t } = useTranslation();
  const failed = creations.find((item) => item.step === "failed");
  const created = creations.filter((item) => item.step === "created" || item.step === "createdBefore");
  return (
    <Stack hasGutter>
      <ProgressStepper isVertical aria-label={t("wizard:review.progress")}>
        {creations.map((item, index) => (
          <ProgressStep
            key={`${item.kind}/${item.name}`}
            id={`creation-${index}`}
            titleId={`creation-${index}-title`}
            data-testid={`creation-${index}`}
            data-status={item.step}
            variant={VARIANT[item.step]}
            isCurrent={item.step === "creating"}
            aria-label={t(`wizard:review.steps.${item.step}`)}
            description={
              item.error ? (
                <span data-testid={`creation-${index}-error`}>
                  {t(`wizard:review.steps.${item.step}`)}: {item.error}
                </span>
              ) : (
                t(`wizard:review.steps.${item.step}`)
              )
            }
          >
            {t("wizard:review.object", { kind: item.kind, name: item.name })}
          </ProgressStep>
        ))}
      </ProgressStepper>
      {failed && (
        <Alert variant="danger" isInline title={t("wizard:review.failed", { kind: failed.kind, name: failed.name })} data-testid="creation-failed">
          <p>{failed.error}</p>
          {created.length > 0 && <p>{t("wizard:review.partly", { objects: created.map((item) => `${item.kind} ${item.name}`).join(", ") })}</p>}
        </Alert>
      )}
    </Stack>
  );
}

export default function ReviewStep({ objects, creations }: { objects: K8sObject[]; creations: Creation[] | null }) {
  const { t } = useTranslation();
  return (
    <Stack hasGutter>
      {creations && (
        <StackItem>
          <Progress creations={creations} />
        </StackItem>
      )}
      <StackItem>
        <Title headingLevel="h2" size="md">
          {t("wizard:review.yaml")}
        </Title>
      </StackItem>
      <StackItem>
        <CodeBlock>
          <CodeBlockCode data-testid="wizard-yaml">{previewYaml(objects, t("wizard:review.hidden"))}</CodeBlockCode>
        </CodeBlock>
      </StackItem>
    </Stack>
  );
}
