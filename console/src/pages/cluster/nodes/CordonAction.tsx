/**
 * Cordon or uncordon a node, whichever applies now: a cordoned node takes no new pods (its
 * running pods stay). The same dialog serves both actions; the node's state says which.
 */
import { useTranslation } from "react-i18next";
import { api } from "@/lib/api/client";
import type { ActionProps } from "@/lib/extensions/types";
import { ConfirmDialog } from "@/pages/platform/ConfirmDialog";
import { cordonPatch, isCordoned } from "./node";

export default function CordonAction({ kind, object, cluster, onClose }: ActionProps) {
  const { t } = useTranslation();
  const cordon = !isCordoned(object);
  const name = object.metadata.name;
  return (
    <ConfirmDialog
      title={t(cordon ? "cluster:nodes.cordonTitle" : "cluster:nodes.uncordonTitle", { name })}
      body={t(cordon ? "cluster:nodes.cordonBody" : "cluster:nodes.uncordonBody")}
      confirm={t(cordon ? "cluster:nodes.cordon" : "cluster:nodes.uncordon")}
      variant={cordon ? "danger" : "primary"}
      run={() => api.patch(kind.path(cluster, undefined, name), cordonPatch(cordon))}
      onClose={onClose}
    />
  );
}
