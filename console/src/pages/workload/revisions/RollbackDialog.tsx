/**
 * Roll a Deployment, StatefulSet or DaemonSet back to an earlier revision, as `kubectl
 * rollout undo` does: the previous revision is picked to start with, the change is shown
 * before it is made, and the pod template is replaced by the revision's. Like kubectl, a
 * paused Deployment is not rolled back (resume it first).
 */
import { useState } from "react";
import { Alert } from "@patternfly/react-core";
import { useTranslation } from "react-i18next";
import { api } from "@/lib/api/client";
import { ErrorState, Loading } from "@/components/States";
import type { ActionProps } from "@/lib/extensions/types";
import type { Kind } from "@/lib/k8s/kinds";
import type { K8sObject } from "@/lib/k8s/types";
import { ActionDialog } from "../actions/ActionDialog";
import { RevisionHistory } from "./RevisionHistory";
import { rollbackPatch, type Revision } from "./revisions";
import { useRevisions } from "./useRevisions";

export function rollBack(kind: Kind, cluster: string, object: K8sObject, revision: Revision): Promise<unknown> {
  return api.patch(kind.path(cluster, object.metadata.namespace, object.metadata.name), rollbackPatch(revision), "json");
}

export function RollbackDialog({ kind, object, cluster, onClose, initial }: ActionProps & { initial?: string }) {
  const { t } = useTranslation();
  const { revisions, pending, error, retry } = useRevisions(kind, object, cluster);
  const [chosen, setChosen] = useState<string | null>(initial ?? null);
  const previous = revisions.find((revision) => !revision.current)?.name ?? null;
  const selected = chosen ?? previous;
  const revision = revisions.find((candidate) => candidate.name === selected && !candidate.current);
  const paused = kind.kind === "Deployment" && object.spec?.paused === true;
  const name = object.metadata.name;

  return (
    <ActionDialog
      kind={kind}
      cluster={cluster}
      variant="large"
      title={t("workload:rollback.title", { kind: kind.kind, name })}
      confirm={revision ? t("workload:rollback.confirmTo", { number: revision.number }) : t("workload:rollback.confirm")}
      disabled={!revision || paused}
      onClose={onClose}
      run={async () => {
        if (!revision) throw new Error(t("workload:rollback.pickFirst"));
        await rollBack(kind, cluster, object, revision);
        return t("workload:rollback.done", { name, number: revision.number });
      }}
    >
      {paused && <Alert variant="warning" isInline title={t("workload:rollback.paused")} style={{ marginBottom: 16 }} />}
      {pending ? (
        <Loading />
      ) : error ? (
        <ErrorState error={error} retry={retry} />
      ) : (
        <RevisionHistory object={object} revisions={revisions} selected={selected} onSelect={setChosen} />
      )}
    </ActionDialog>
  );
}

export default function RollbackAction(props: ActionProps) {
  return <RollbackDialog {...props} />;
}
