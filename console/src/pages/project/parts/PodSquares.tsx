/**
 * A workload's pods at a glance: one coloured square per pod, linked to it, its status word
 * in its title and accessible name (the colour alone never carries the meaning), then the
 * count of each status word.
 */
import { Flex, FlexItem, Label } from "@patternfly/react-core";
import { Link } from "react-router-dom";
import { useTranslation } from "react-i18next";
import { StatusLabel } from "@/components/StatusLabel";
import { Pod } from "@/lib/k8s/kinds";
import { podStatus, type Health } from "@/lib/k8s/status";
import type { K8sObject } from "@/lib/k8s/types";
import { detailPath } from "@/pages/resources/views";
import { healthCounts } from "../health";

const COLOURS: Record<Health, string> = {
  ok: "var(--pf-t--global--color--status--success--default)",
  progress: "var(--pf-t--global--color--status--info--default)",
  warning: "var(--pf-t--global--color--status--warning--default)",
  error: "var(--pf-t--global--color--status--danger--default)",
  unknown: "var(--pf-t--global--color--nonstatus--gray--default)",
};

/** `compact`: the squares alone (in a table row), without the counts. */
export function PodSquares({ pods, cluster, compact }: { pods: K8sObject[]; cluster: string; compact?: boolean }) {
  const { t } = useTranslation();
  if (!pods.length) return compact ? <>0</> : <p>{t("project:pods.none")}</p>;
  const sorted = [...pods].sort((a, b) => a.metadata.name.localeCompare(b.metadata.name));
  return (
    <Flex direction={{ default: "column" }} spaceItems={{ default: "spaceItemsSm" }} data-testid={compact ? undefined : "pod-squares"}>
      <FlexItem>
        <Flex spaceItems={{ default: "spaceItemsXs" }} role="list" aria-label={t("project:pods.states")}>
          {sorted.map((pod) => {
            const status = podStatus(pod);
            const label = t("project:pods.square", { name: pod.metadata.name, status: status.text });
            return (
              <FlexItem key={pod.metadata.uid ?? pod.metadata.name} role="listitem">
                <Link
                  to={detailPath(cluster, Pod.resource, pod.metadata.name, pod.metadata.namespace)}
                  title={label}
                  aria-label={label}
                  data-status={status.text}
                  style={{
                    display: "block",
                    width: 16,
                    height: 16,
                    borderRadius: "var(--pf-t--global--border--radius--tiny)",
                    background: COLOURS[status.health],
                  }}
                />
              </FlexItem>
            );
          })}
        </Flex>
      </FlexItem>
      {!compact && (
      <FlexItem>
        <Flex spaceItems={{ default: "spaceItemsSm" }}>
          {healthCounts(pods, podStatus).map(({ status, count }) => (
            <FlexItem key={status.text}>
              <StatusLabel status={status} /> <Label isCompact variant="outline">{count}</Label>
            </FlexItem>
          ))}
        </Flex>
      </FlexItem>
      )}
    </Flex>
  );
}
