/**
 * A workload's revisions, live: the ReplicaSets (Deployment) or ControllerRevisions
 * (StatefulSet, DaemonSet) its selector matches, kept if it owns them.
 */
import { useMemo } from "react";
import { useAll } from "@/lib/api/hooks";
import { ControllerRevision, ReplicaSet, type Kind } from "@/lib/k8s/kinds";
import type { K8sObject } from "@/lib/k8s/types";
import { selectorString } from "../selectors";
import { revisionsOf } from "./revisions";

export function useRevisions(kind: Kind, object: K8sObject, cluster: string) {
  const source = kind.kind === "Deployment" ? ReplicaSet : ControllerRevision;
  const found = useAll(source, {
    cluster,
    namespace: object.metadata.namespace,
    labelSelector: selectorString(object.spec?.selector) || undefined,
  });
  const items = found.data?.items;
  const revisions = useMemo(() => (items ? revisionsOf(kind.kind, object, items) : []), [items, kind.kind, object]);
  return { revisions, pending: found.isPending, error: found.error, retry: () => void found.refetch() };
}
