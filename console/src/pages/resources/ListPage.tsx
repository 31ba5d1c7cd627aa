/**
 * The list page of any kind, in a project (`/clusters/c/projects/p/<resource>`) or a cluster
 * (`/clusters/c/resources/<resource>`): the kind's registered columns, or name, namespace
 * and age. Create offers the kind's own form when it has one, else a YAML editor.
 */
import { Button, PageSection, Title } from "@patternfly/react-core";
import { useNavigate, useParams } from "react-router-dom";
import { useTranslation } from "react-i18next";
import { ResourceTable, ageColumn, nameColumn, type Column } from "@/components/ResourceTable";
import { ErrorState, Loading } from "@/components/States";
import { useCan } from "@/lib/api/access";
import { useKind } from "@/lib/k8s/discovery";
import type { Kind } from "@/lib/k8s/kinds";
import type { K8sObject } from "@/lib/k8s/types";
import { detailPath, useView } from "./views";

export function ResourceList({ kind, cluster, namespace, title }: { kind: Kind; cluster: string; namespace?: string; title?: string }) {
  const { t } = useTranslation();
  const navigate = useNavigate();
  const view = useView(kind.resource);
  const mayCreate = useCan({ cluster, verb: "create", group: kind.group, resource: kind.plural, namespace });
  const link = (object: K8sObject) => detailPath(cluster, kind.resource, object.metadata.name, object.metadata.namespace);
  const columns: Column[] = [nameColumn(t("name"))];
  if (kind.namespaced && !namespace) {
    columns.push({ id: "namespace", title: t("namespace"), render: (object) => object.metadata.namespace });
  }
  columns.push(...(view?.columns?.(t) ?? []), ageColumn(t("age")));
  const root = namespace
    ? `/clusters/${encodeURIComponent(cluster)}/projects/${encodeURIComponent(namespace)}`
    : `/clusters/${encodeURIComponent(cluster)}`;
  const base = namespace
    ? `/clusters/${encodeURIComponent(cluster)}/projects/${encodeURIComponent(namespace)}/${kind.resource}`
    : `/clusters/${encodeURIComponent(cluster)}/resources/${kind.resource}`;
  return (
    <>
      <PageSection>
        <Title headingLevel="h1">{title ?? kind.kind}</Title>
      </PageSection>
      <PageSection>
        <ResourceTable
          kind={kind}
          scope={{ cluster, namespace }}
          columns={columns}
          link={link}
          bulkDelete
          toolbar={
            mayCreate ? (
              <Button onClick={() => navigate(view?.createPath ? `${root}/${view.createPath}` : `${base}/~new`)} data-testid="create">
                {t("create")}
              </Button>
            ) : undefined
          }
        />
      </PageSection>
    </>
  );
}

export default function ListPage() {
  const { cluster = "", namespace, resource = "" } = useParams();
  const found = useKind(cluster, resource);
  if (found.pending) return <Loading />;
  if (!found.kind) return <ErrorState error={found.error} />;
  return <ResourceList kind={found.kind} cluster={cluster} namespace={namespace} />;
}
