/** Cluster › Storage classes: the generic list of StorageClass under its own nav entry. */
import { useParams } from "react-router-dom";
import { useTranslation } from "react-i18next";
import { StorageClass } from "@/lib/k8s/kinds";
import { ResourceList } from "@/pages/resources/ListPage";

export default function StorageClassesPage() {
  const { t } = useTranslation();
  const { cluster = "" } = useParams();
  return <ResourceList kind={StorageClass} cluster={cluster} title={t("cluster:storage.classes")} />;
}
