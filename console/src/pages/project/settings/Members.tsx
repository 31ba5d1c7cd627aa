/**
 * The project's members: who has which of the project's roles (its Roles, or the built-in
 * ones when they cannot be listed). Those allowed to bind roles in the namespace add, change
 * and remove members; everyone else sees the list only. The list stays live by watching the
 * member RoleBindings of the namespace, which is what the members API reads.
 */
import { PageSection, Title } from "@patternfly/react-core";
import { useParams } from "react-router-dom";
import { useTranslation } from "react-i18next";
import { Members, type MembersWords } from "@/components/Members";
import { useCan } from "@/lib/api/access";
import { useAll } from "@/lib/api/hooks";
import { Role, RoleBinding } from "@/lib/k8s/kinds";

/** The project roles every Atoll project has, offered when its Roles cannot be listed. */
const BUILT_IN_ROLES = ["admin", "operator", "viewer"];

/** The label the members API puts on each member's RoleBinding. */
const USER_LABEL = "iam.atoll.io/user";

const WORDS: MembersWords = {
  title: "project:nav.members",
  user: "project:members.user",
  role: "project:members.role",
  roleOf: "project:members.roleOf",
  add: "project:members.add",
  addTitle: "project:members.add",
  addButton: "project:members.addButton",
  suggestions: "project:members.suggestions",
  none: "project:members.none",
  remove: "project:members.remove",
  removeTitle: "project:members.removeTitle",
  removeBody: "project:members.removeBody",
  removeSelf: "project:members.removeSelf",
  addFailed: "project:members.addFailed",
  changeFailed: "project:members.changeFailed",
  removeFailed: "project:members.removeFailed",
};

function membersPath(cluster: string, namespace: string): string {
  return `/kapis/iam.atoll.io/v1alpha1/clusters/${encodeURIComponent(cluster)}/namespaces/${encodeURIComponent(namespace)}/members`;
}

export default function MembersPage() {
  const { t } = useTranslation();
  const { cluster = "", namespace = "" } = useParams();
  const roles = useAll(Role, { cluster, namespace });
  const names = (roles.data?.items ?? []).map((role) => role.metadata.name).sort();
  const check = { cluster, group: RoleBinding.group, resource: RoleBinding.plural, namespace };
  const mayBind = useCan({ ...check, verb: "create" });
  const mayUnbind = useCan({ ...check, verb: "delete" });
  return (
    <>
      <PageSection>
        <Title headingLevel="h1">{t("project:nav.members")}</Title>
      </PageSection>
      <PageSection>
        <Members
          path={membersPath(cluster, namespace)}
          roles={names.length ? names : BUILT_IN_ROLES}
          defaultRole="viewer"
          mayEdit={Boolean(mayBind)}
          mayRemove={Boolean(mayUnbind)}
          words={WORDS}
          context={{ project: namespace }}
          watch={{ cluster, group: RoleBinding.group, version: RoleBinding.version, resource: RoleBinding.plural, namespace, labelSelector: USER_LABEL }}
        />
      </PageSection>
    </>
  );
}
