/**
 * Workspace › Projects: the workspace's projects in each cluster it may use (those the user
 * may see), each opening its project pages. Creating a project and deleting one (with its
 * name typed: everything in it goes) are offered to those allowed in the workspace.
 */
import { useState } from "react";
import { Button, PageSection, SearchInput, Title, Toolbar, ToolbarContent, ToolbarItem } from "@patternfly/react-core";
import { ActionsColumn, Table, Tbody, Td, Th, Thead, Tr } from "@patternfly/react-table";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { Link, useParams } from "react-router-dom";
import { useTranslation } from "react-i18next";
import { ErrorState, Loading } from "@/components/States";
import { StatusLabel } from "@/components/StatusLabel";
import { useCan } from "@/lib/api/access";
import { api } from "@/lib/api/client";
import { age } from "@/lib/format";
import type { K8sObject } from "@/lib/k8s/types";
import { namespaceStatus } from "@/pages/cluster/projects/namespace";
import { atollCheck } from "@/pages/platform/access/checks";
import { ConfirmDialog } from "@/pages/platform/ConfirmDialog";
import { CreateProjectDialog } from "./CreateProjectDialog";
import { ALIAS_ANNOTATION, CREATOR_ANNOTATION, clustersPath, projectOverview, projectsKey, projectsPath } from "./project";

interface Listing {
  items: K8sObject[];
}

function ClusterProjects({ workspace, cluster, filter, showCluster }: { workspace: string; cluster: string; filter: string; showCluster: boolean }) {
  const { t } = useTranslation();
  const client = useQueryClient();
  const [deleting, setDeleting] = useState<string | null>(null);
  const projects = useQuery({ queryKey: projectsKey(workspace, cluster), queryFn: () => api.get<Listing>(projectsPath(workspace, cluster)), refetchInterval: 15_000 });
  const mayDelete = useCan(atollCheck({ workspace, cluster, verb: "delete", group: "tenant.atoll.io", resource: "namespaces" }));
  if (projects.isPending) return <Loading />;
  if (projects.error) return <ErrorState error={projects.error} retry={() => void projects.refetch()} />;
  const shown = projects.data.items.filter((project) => project.metadata.name.includes(filter.trim()));
  return (
    <>
      {showCluster && (
        <Title headingLevel="h2" size="lg" style={{ margin: "16px 0 8px" }}>
          {t("workspace:projects.inCluster", { cluster })}
        </Title>
      )}
      <Table variant="compact" aria-label={t("workspace:projects.inCluster", { cluster })} data-testid={`projects-${cluster}`}>
        <Thead>
          <Tr>
            <Th width={25}>{t("name")}</Th>
            <Th width={20}>{t("workspace:projects.alias")}</Th>
            <Th width={15}>{t("status")}</Th>
            <Th width={15}>{t("workspace:projects.creator")}</Th>
            <Th width={10}>{t("age")}</Th>
            {mayDelete && <Th screenReaderText={t("actions")} />}
          </Tr>
        </Thead>
        <Tbody>
          {shown.length === 0 && (
            <Tr>
              <Td colSpan={6}>{t("workspace:projects.none")}</Td>
            </Tr>
          )}
          {shown.map((project) => {
            const name = project.metadata.name;
            return (
              <Tr key={name} data-row={name}>
                <Td dataLabel={t("name")}>
                  <Link to={projectOverview(cluster, name)} data-testid={`link-${name}`}>
                    {name}
                  </Link>
                </Td>
                <Td dataLabel={t("workspace:projects.alias")}>{project.metadata.annotations?.[ALIAS_ANNOTATION] ?? ""}</Td>
                <Td dataLabel={t("status")}>
                  <StatusLabel status={namespaceStatus(project)} />
                </Td>
                <Td dataLabel={t("workspace:projects.creator")}>{project.metadata.annotations?.[CREATOR_ANNOTATION] ?? ""}</Td>
                <Td dataLabel={t("age")}>{age(project.metadata.creationTimestamp)}</Td>
                {mayDelete && (
                  <Td isActionCell>
                    <ActionsColumn items={[{ title: t("delete"), isDanger: true, onClick: () => setDeleting(name) }]} />
                  </Td>
                )}
              </Tr>
            );
          })}
        </Tbody>
      </Table>
      {deleting && (
        <ConfirmDialog
          title={t("workspace:projects.deleteTitle", { name: deleting })}
          body={t("workspace:projects.deleteBody")}
          typed={deleting}
          run={() => api.delete(projectsPath(workspace, cluster, deleting))}
          onClose={(done) => {
            setDeleting(null);
            if (done) void client.invalidateQueries({ queryKey: projectsKey(workspace, cluster) });
          }}
        />
      )}
    </>
  );
}

export default function ProjectsPage() {
  const { t } = useTranslation();
  const { workspace = "" } = useParams();
  const [filter, setFilter] = useState("");
  const [creating, setCreating] = useState(false);
  const clusters = useQuery({ queryKey: ["workspace-clusters", workspace], queryFn: () => api.get<Listing>(clustersPath(workspace)) });
  const mayCreate = useCan(atollCheck({ workspace, verb: "create", group: "tenant.atoll.io", resource: "namespaces" }));
  const names = clusters.data?.items.map((cluster) => cluster.metadata.name) ?? [];
  return (
    <>
      <PageSection>
        <Title headingLevel="h1">{t("workspace:projects.title", { workspace })}</Title>
      </PageSection>
      <PageSection>
        <Toolbar>
          <ToolbarContent>
            <ToolbarItem>
              <SearchInput aria-label={t("list.filterByName")} placeholder={t("list.filterByName")} value={filter} onChange={(_event, value) => setFilter(value)} onClear={() => setFilter("")} />
            </ToolbarItem>
            {mayCreate && (
              <ToolbarItem>
                <Button onClick={() => setCreating(true)} isDisabled={!names.length} data-testid="create-project">
                  {t("workspace:projects.create")}
                </Button>
              </ToolbarItem>
            )}
          </ToolbarContent>
        </Toolbar>
        {clusters.isPending ? (
          <Loading />
        ) : clusters.error ? (
          <ErrorState error={clusters.error} retry={() => void clusters.refetch()} />
        ) : names.length === 0 ? (
          <p>{t("workspace:projects.noClusters")}</p>
        ) : (
          names.map((cluster) => <ClusterProjects key={cluster} workspace={workspace} cluster={cluster} filter={filter} showCluster={names.length > 1} />)
        )}
      </PageSection>
      {creating && <CreateProjectDialog workspace={workspace} clusters={names} onClose={() => setCreating(false)} />}
    </>
  );
}
