/** A ResourceQuota's use as one progress bar per resource (warning from 80 %, danger when full). */
import { Progress, ProgressMeasureLocation, ProgressVariant, Stack, StackItem } from "@patternfly/react-core";
import { useTranslation } from "react-i18next";
import type { K8sObject } from "@/lib/k8s/types";
import { display, quotaLines, resourceKey } from "../quota";

/** The resource's name in words where it has one (`requests.cpu` → "CPU requests"). */
export function useResourceName(): (resource: string) => string {
  const { t } = useTranslation();
  return (resource) => t(`project:quota.resource.${resourceKey(resource)}`, { defaultValue: resource });
}

export function QuotaBars({ quota }: { quota: K8sObject }) {
  const { t } = useTranslation();
  const nameOf = useResourceName();
  const lines = quotaLines(quota);
  if (!lines.length) return <p>{t("project:quota.nothingLimited")}</p>;
  return (
    <Stack hasGutter data-testid={`quota-${quota.metadata.name}`}>
      {lines.map((line) => (
        <StackItem key={line.resource} data-resource={line.resource} data-level={line.level}>
          <Progress
            title={nameOf(line.resource)}
            value={line.percent}
            label={t("project:quota.usedOf", { used: display(line.resource, line.used), hard: display(line.resource, line.hard) })}
            valueText={t("project:quota.usedOf", { used: display(line.resource, line.used), hard: display(line.resource, line.hard) })}
            measureLocation={ProgressMeasureLocation.top}
            variant={line.level === "full" ? ProgressVariant.danger : line.level === "warning" ? ProgressVariant.warning : undefined}
            size="sm"
          />
        </StackItem>
      ))}
    </Stack>
  );
}
