/**
 * The Logs tab of a workload (Deployment, StatefulSet, DaemonSet, Job): its pods — those
 * its selector matches — to pick from, newest first, then that pod's logs.
 */
import { useMemo, useState } from "react";
import { Toolbar, ToolbarContent, ToolbarItem } from "@patternfly/react-core";
import { useTranslation } from "react-i18next";
import { ErrorState, Loading } from "@/components/States";
import { useAll } from "@/lib/api/hooks";
import type { DetailTabProps } from "@/lib/extensions/types";
import { Pod } from "@/lib/k8s/kinds";
import { podStatus } from "@/lib/k8s/status";
import { Picker } from "../Picker";
import { selectorString } from "../selectors";
import { PodLogs } from "./PodLogs";

export default function WorkloadLogsTab({ object, cluster }: DetailTabProps) {
  const { t } = useTranslation();
  const selector = selectorString(object.spec?.selector);
  const found = useAll(Pod, { cluster, namespace: object.metadata.namespace, labelSelector: selector || undefined }, { enabled: Boolean(selector) });
  const pods = useMemo(
    () =>
      [...(found.data?.items ?? [])].sort((a, b) =>
        (b.metadata.creationTimestamp ?? "").localeCompare(a.metadata.creationTimestamp ?? ""),
      ),
    [found.data],
  );
  const [picked, setPicked] = useState<string | null>(null);
  if (!selector) return <p>{t("workload:logs.noSelector")}</p>;
  if (found.isPending) return <Loading />;
  if (found.error) return <ErrorState error={found.error} retry={() => void found.refetch()} />;
  if (pods.length === 0) return <p data-testid="logs-no-pods">{t("workload:logs.noPods")}</p>;
  const pod = pods.find((candidate) => candidate.metadata.name === picked) ?? pods[0];

  return (
    <>
      <Toolbar>
        <ToolbarContent>
          <ToolbarItem>
            <Picker
              label={t("workload:pod")}
              value={pod.metadata.name}
              options={pods.map((candidate) => ({ value: candidate.metadata.name, description: podStatus(candidate).text }))}
              onChange={setPicked}
              testId="logs-pod"
            />
          </ToolbarItem>
        </ToolbarContent>
      </Toolbar>
      <PodLogs key={pod.metadata.name} cluster={cluster} pod={pod} />
    </>
  );
}
