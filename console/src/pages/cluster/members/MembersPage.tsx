/**
 * Cluster › Members: who has a role in this cluster (a ClusterRoleBinding Atoll made for a
 * member), added with any of the cluster's roles except Kubernetes' own `system:` ones.
 */
import { PageSection, Title } from "@patternfly/react-core";
import { useParams } from "react-router-dom";
import { useTranslation } from "react-i18next";
import { useCan } from "@/lib/api/access";
import { useAll } from "@/lib/api/hooks";
import { ClusterRole } from "@/lib/k8s/kinds";
import { atollCheck } from "@/pages/platform/access/checks";
import { Members } from "@/pages/platform/access/Members";

export default function MembersPage() {
  const { t } = useTranslation();
  const { cluster = "" } = useParams();
  const roles = useAll(ClusterRole, { cluster, sortBy: "name", ascending: true }, { live: false });
  const check = { cluster, group: "iam.atoll.io", resource: "clustermembers" };
  const mayEdit = useCan(atollCheck({ ...check, verb: "create" }));
  const mayRemove = useCan(atollCheck({ ...check, verb: "delete" }));
  const names = roles.data?.items.map((role) => role.metadata.name).filter((name) => !name.startsWith("system:"));
  return (
    <>
      <PageSection>
        <Title headingLevel="h1">{t("cluster:members.title")}</Title>
      </PageSection>
      <PageSection>
        <Members
          path={`/kapis/iam.atoll.io/v1alpha1/clusters/${encodeURIComponent(cluster)}/clustermembers`}
          roles={names}
          mayEdit={Boolean(mayEdit)}
          mayRemove={Boolean(mayRemove)}
        />
      </PageSection>
    </>
  );
}
