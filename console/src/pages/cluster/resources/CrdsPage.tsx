/**
 * Cluster › CRDs: the CustomResourceDefinitions (live, paged) with their group, kind,
 * versions (the stored one marked) and scope; the name opens the list of the kind's objects,
 * the last column the definition itself.
 */
import { PageSection, Title } from "@patternfly/react-core";
import { Link, useParams } from "react-router-dom";
import { useTranslation } from "react-i18next";
import { ResourceTable, ageColumn, nameColumn, type Column } from "@/components/ResourceTable";
import { CustomResourceDefinition } from "@/lib/k8s/kinds";
import type { K8sObject } from "@/lib/k8s/types";
import { detailPath, listPath } from "@/pages/resources/views";

interface CrdVersion {
  name: string;
  served?: boolean;
  storage?: boolean;
}

export function crdVersions(crd: K8sObject): string {
  const versions: CrdVersion[] = crd.spec?.versions ?? [];
  return versions
    .filter((version) => version.served !== false)
    .map((version) => (version.storage ? `${version.name}*` : version.name))
    .join(", ");
}

export function crdResource(crd: K8sObject): string {
  return `${crd.spec?.names?.plural ?? ""}.${crd.spec?.group ?? ""}`;
}

export default function CrdsPage() {
  const { t } = useTranslation();
  const { cluster = "" } = useParams();
  const columns: Column[] = [
    nameColumn(t("name")),
    { id: "group", title: t("cluster:crds.group"), width: 20, render: (crd) => crd.spec?.group ?? "" },
    { id: "kind", title: t("cluster:crds.kind"), width: 15, render: (crd) => crd.spec?.names?.kind ?? "" },
    { id: "versions", title: t("cluster:crds.versions"), width: 10, render: crdVersions },
    { id: "scope", title: t("cluster:crds.scope"), width: 10, render: (crd) => crd.spec?.scope ?? "" },
    {
      id: "definition",
      title: t("cluster:crds.definition"),
      width: 10,
      render: (crd) => <Link to={detailPath(cluster, CustomResourceDefinition.resource, crd.metadata.name)}>{t("cluster:crds.view")}</Link>,
    },
    ageColumn(t("age")),
  ];
  return (
    <>
      <PageSection>
        <Title headingLevel="h1">{t("cluster:crds.title")}</Title>
      </PageSection>
      <PageSection>
        <ResourceTable kind={CustomResourceDefinition} scope={{ cluster }} columns={columns} link={(crd) => listPath(cluster, crdResource(crd))} />
      </PageSection>
    </>
  );
}
