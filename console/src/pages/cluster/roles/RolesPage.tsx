/** Cluster › Roles: the cluster's ClusterRoles, with the role view's columns (rules readable). */
import { useParams } from "react-router-dom";
import { useTranslation } from "react-i18next";
import { ClusterRole } from "@/lib/k8s/kinds";
import { ResourceList } from "@/pages/resources/ListPage";

export default function RolesPage() {
  const { t } = useTranslation();
  const { cluster = "" } = useParams();
  return <ResourceList kind={ClusterRole} cluster={cluster} title={t("cluster:roles.title")} />;
}
