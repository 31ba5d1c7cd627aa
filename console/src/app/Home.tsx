/** The first page: the workspaces and clusters the user may open. */
import { Card, CardBody, CardTitle, Gallery, PageSection, Title } from "@patternfly/react-core";
import { Link } from "react-router-dom";
import { useTranslation } from "react-i18next";
import { ErrorState, Loading } from "@/components/States";
import { useMe } from "@/lib/api/me";
import { useClusters, useWorkspaces } from "./Switchers";

export default function Home() {
  const { t } = useTranslation();
  const me = useMe();
  const workspaces = useWorkspaces();
  const clusters = useClusters();
  return (
    <>
      <PageSection>
        <Title headingLevel="h1">{t("home.welcome", { name: me.data?.displayName || me.data?.name || "" })}</Title>
      </PageSection>
      <PageSection>
        <Title headingLevel="h2" style={{ marginBottom: 12 }}>
          {t("nav.workspaces")}
        </Title>
        {workspaces.isPending ? (
          <Loading />
        ) : workspaces.error ? (
          <ErrorState error={workspaces.error} />
        ) : workspaces.data.items.length === 0 ? (
          <p>{t("home.noWorkspaces")}</p>
        ) : (
          <Gallery hasGutter minWidths={{ default: "240px" }}>
            {workspaces.data.items.map((workspace) => (
              <Card key={workspace.metadata.name} isCompact>
                <CardTitle>
                  <Link to={`/workspaces/${workspace.metadata.name}/projects`} data-testid={`workspace-${workspace.metadata.name}`}>
                    {workspace.metadata.name}
                  </Link>
                </CardTitle>
                <CardBody>{workspace.spec?.description ?? ""}</CardBody>
              </Card>
            ))}
          </Gallery>
        )}
      </PageSection>
      {clusters.data && clusters.data.items.length > 0 && (
        <PageSection>
          <Title headingLevel="h2" style={{ marginBottom: 12 }}>
            {t("nav.clusters")}
          </Title>
          <Gallery hasGutter minWidths={{ default: "240px" }}>
            {clusters.data.items.map((cluster) => (
              <Card key={cluster.metadata.name} isCompact>
                <CardTitle>
                  <Link to={`/clusters/${cluster.metadata.name}/overview`}>{cluster.metadata.name}</Link>
                </CardTitle>
                <CardBody>{cluster.status?.kubernetesVersion ?? ""}</CardBody>
              </Card>
            ))}
          </Gallery>
        </PageSection>
      )}
    </>
  );
}
