/**
 * Cluster › Members: who has a role in this cluster (a ClusterRoleBinding Atoll made for a
 * member), added with any of the cluster's roles except Kubernetes' own `system:` ones.
 */
import { useParams } from "react-router-dom";
import { useTranslation } from "react-i18next";
import { useAll } from "@/lib/api/hooks";
import { ClusterRole } from "@/lib/k8s/kinds";
import { ScopeMembers } from "@/pages/platform/access/ScopeMembers";

export default function MembersPage() {
  const { t } = useTranslation();
  const { cluster = "" } = useParams();
  const roles = useAll(ClusterRole, { cluster, sortBy: "name", ascending: true }, { live: false });
  const names = roles.data?.items.map((role) => role.metadata.name).filter((name) => !name.startsWith("system:"));
  return <ScopeMembers title={t("cluster:members.title")} scope={{ cluster }} roles={names} />;
}
