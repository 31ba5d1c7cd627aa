/**
 * Cluster › Resources: every kind the cluster serves, CRDs and aggregated APIs included, by
 * API group and searchable; each opens the generic list of its objects (across namespaces
 * for namespaced kinds).
 */
import { useState } from "react";
import { Card, CardBody, CardTitle, Gallery, Label, PageSection, SearchInput, Title } from "@patternfly/react-core";
import { Link, useParams } from "react-router-dom";
import { useTranslation } from "react-i18next";
import { ErrorState, Loading } from "@/components/States";
import { useDiscovery } from "@/lib/k8s/discovery";
import { listPath } from "@/pages/resources/views";
import { groupServed } from "./served";

export default function ResourcesPage() {
  const { t } = useTranslation();
  const { cluster = "" } = useParams();
  const [search, setSearch] = useState("");
  const discovery = useDiscovery(cluster);
  const groups = discovery.data ? groupServed(discovery.data, search) : [];
  return (
    <>
      <PageSection>
        <Title headingLevel="h1">{t("cluster:resources.title")}</Title>
      </PageSection>
      <PageSection>
        <SearchInput
          aria-label={t("cluster:resources.search")}
          placeholder={t("cluster:resources.search")}
          value={search}
          onChange={(_event, value) => setSearch(value)}
          onClear={() => setSearch("")}
          style={{ maxWidth: 400, marginBottom: 16 }}
          data-testid="resources-search"
        />
        {discovery.isPending ? (
          <Loading />
        ) : discovery.error ? (
          <ErrorState error={discovery.error} retry={() => void discovery.refetch()} />
        ) : groups.length === 0 ? (
          <p>{t("cluster:resources.none")}</p>
        ) : (
          <Gallery hasGutter minWidths={{ default: "280px" }}>
            {groups.map(({ group, kinds }) => (
              <Card key={group || "core"} isCompact data-testid={`group-${group || "core"}`}>
                <CardTitle>{group || t("cluster:resources.core")}</CardTitle>
                <CardBody>
                  <ul style={{ listStyle: "none", padding: 0, margin: 0 }}>
                    {kinds.map(({ kind }) => (
                      <li key={kind.resource} style={{ padding: "2px 0" }}>
                        <Link to={listPath(cluster, kind.resource)} data-testid={`kind-${kind.resource}`}>
                          {kind.kind}
                        </Link>{" "}
                        <small style={{ opacity: 0.7 }}>{kind.plural}</small>{" "}
                        {!kind.namespaced && <Label isCompact>{t("cluster:resources.clusterScoped")}</Label>}
                      </li>
                    ))}
                  </ul>
                </CardBody>
              </Card>
            ))}
          </Gallery>
        )}
      </PageSection>
    </>
  );
}
