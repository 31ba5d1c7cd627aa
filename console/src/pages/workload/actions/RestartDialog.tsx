/**
 * Restart a Deployment's, StatefulSet's or DaemonSet's pods as `kubectl rollout restart`
 * does: a new pod template (stamped with the time) rolls out under the workload's own
 * update strategy, so the pods are replaced gradually rather than all at once.
 */
import { useTranslation } from "react-i18next";
import type { ActionProps } from "@/lib/extensions/types";
import { ActionDialog } from "./ActionDialog";
import { restart } from "./patches";

export default function RestartDialog({ kind, object, cluster, onClose }: ActionProps) {
  const { t } = useTranslation();
  const name = object.metadata.name;
  return (
    <ActionDialog
      kind={kind}
      cluster={cluster}
      title={t("workload:restart.title", { kind: kind.kind, name })}
      confirm={t("workload:restart.confirm")}
      onClose={onClose}
      run={async () => {
        await restart(kind, cluster, object);
        return t("workload:restart.done", { name });
      }}
    >
      <p>{t("workload:restart.body")}</p>
      {object.spec?.paused === true && <p>{t("workload:restart.paused")}</p>}
    </ActionDialog>
  );
}
