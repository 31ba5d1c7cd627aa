/**
 * Cluster › Projects: the cluster's namespaces (live, paged) with their state and the
 * workspace each belongs to (the `atoll.io/workspace` label); each opens its project pages.
 * A namespace outside any workspace is still a project of the cluster.
 */
import { Button, PageSection, Title } from "@patternfly/react-core";
import { Link, useNavigate, useParams } from "react-router-dom";
import { useTranslation } from "react-i18next";
import { ResourceTable, ageColumn, nameColumn, type Column } from "@/components/ResourceTable";
import { StatusLabel } from "@/components/StatusLabel";
import { useCan } from "@/lib/api/access";
import { Namespace } from "@/lib/k8s/kinds";
import { listPath } from "@/pages/resources/views";
import { namespaceStatus, workspaceOf } from "./namespace";

export default function ProjectsPage() {
  const { t } = useTranslation();
  const navigate = useNavigate();
  const { cluster = "" } = useParams();
  const mayCreate = useCan({ cluster, verb: "create", resource: Namespace.plural });
  const columns: Column[] = [
    nameColumn(t("name")),
    { id: "status", title: t("status"), sort: "status", width: 15, render: (ns) => <StatusLabel status={namespaceStatus(ns)} /> },
    {
      id: "workspace",
      title: t("cluster:projects.workspace"),
      width: 20,
      render: (ns) => {
        const workspace = workspaceOf(ns);
        return workspace ? <Link to={`/workspaces/${encodeURIComponent(workspace)}/projects`}>{workspace}</Link> : <span style={{ opacity: 0.6 }}>{t("cluster:projects.noWorkspace")}</span>;
      },
    },
    ageColumn(t("age")),
  ];
  return (
    <>
      <PageSection>
        <Title headingLevel="h1">{t("cluster:projects.title")}</Title>
      </PageSection>
      <PageSection>
        <ResourceTable
          kind={Namespace}
          scope={{ cluster }}
          columns={columns}
          link={(ns) => `/clusters/${encodeURIComponent(cluster)}/projects/${encodeURIComponent(ns.metadata.name)}/overview`}
          toolbar={
            mayCreate ? (
              <Button onClick={() => navigate(`${listPath(cluster, Namespace.resource)}/~new`)} data-testid="create">
                {t("create")}
              </Button>
            ) : undefined
          }
        />
      </PageSection>
    </>
  );
}
