/**
 * The members page of a workspace or a cluster: the console's members table over Atoll's
 * `workspacemembers` or `clustermembers`, in the platform's words. The page says which
 * collection, which roles may be given, and what access reviews ask about.
 */
import { PageSection, Title } from "@patternfly/react-core";
import { Members, type MembersWords } from "@/components/Members";
import { useCan } from "@/lib/api/access";
import { atollCheck } from "./checks";

const WORDS: MembersWords = {
  title: "platform:members.title",
  user: "platform:members.username",
  role: "platform:members.role",
  roleOf: "platform:members.changeTitle",
  add: "platform:members.add",
  addTitle: "platform:members.addTitle",
  addButton: "platform:members.add",
  suggestions: "platform:users.title",
  none: "platform:members.none",
  remove: "platform:members.remove",
  removeTitle: "platform:members.removeTitle",
  removeBody: "platform:members.removeBody",
};

export function ScopeMembers({
  title,
  scope,
  roles,
}: {
  title: string;
  /** Whose members: a workspace's or a cluster's. */
  scope: { workspace: string } | { cluster: string };
  /** The roles that may be given; undefined while they load. */
  roles: string[] | undefined;
}) {
  const [path, resource] =
    "workspace" in scope
      ? [`/kapis/iam.atoll.io/v1alpha1/workspaces/${encodeURIComponent(scope.workspace)}/workspacemembers`, "workspacemembers"]
      : [`/kapis/iam.atoll.io/v1alpha1/clusters/${encodeURIComponent(scope.cluster)}/clustermembers`, "clustermembers"];
  const check = { ...scope, group: "iam.atoll.io", resource };
  const mayEdit = useCan(atollCheck({ ...check, verb: "create" }));
  const mayRemove = useCan(atollCheck({ ...check, verb: "delete" }));
  return (
    <>
      <PageSection>
        <Title headingLevel="h1">{title}</Title>
      </PageSection>
      <PageSection>
        <Members path={path} roles={roles} mayEdit={Boolean(mayEdit)} mayRemove={Boolean(mayRemove)} words={WORDS} />
      </PageSection>
    </>
  );
}
