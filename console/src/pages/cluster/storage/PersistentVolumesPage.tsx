/** Cluster › Persistent volumes: the generic list of PersistentVolume under its own nav entry. */
import { useParams } from "react-router-dom";
import { useTranslation } from "react-i18next";
import { PersistentVolume } from "@/lib/k8s/kinds";
import { ResourceList } from "@/pages/resources/ListPage";

export default function PersistentVolumesPage() {
  const { t } = useTranslation();
  const { cluster = "" } = useParams();
  return <ResourceList kind={PersistentVolume} cluster={cluster} title={t("cluster:storage.volumes")} />;
}
