/**
 * A controller's pods: a square each, their table, and a note when the list was cut short.
 */
import { useTranslation } from "react-i18next";
import type { Column } from "@/components/ResourceTable";
import { Pod } from "@/lib/k8s/kinds";
import type { K8sObject } from "@/lib/k8s/types";
import { Truncated } from "./Fetched";
import { ObjectTable } from "./ObjectTable";
import { PodSquares } from "./PodSquares";

export function Pods({ pods, total, cluster, columns }: { pods: K8sObject[]; total: number; cluster: string; columns: Column[] }) {
  const { t } = useTranslation();
  return (
    <>
      <PodSquares pods={pods} cluster={cluster} />
      <div style={{ marginTop: 16 }}>
        <ObjectTable kind={Pod} objects={pods} columns={columns} cluster={cluster} label={t("project:col.pods")} empty={t("project:pods.none")} />
      </div>
      <Truncated shown={pods.length} total={total} />
    </>
  );
}
