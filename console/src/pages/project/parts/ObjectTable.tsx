/**
 * A small table of related objects (a Deployment's pods, a CronJob's Jobs) with the same
 * columns their list pages show, each row linked to its detail page. The objects are given:
 * the overview that shows them fetched them live, and decided which belong.
 */
import { Table, Tbody, Td, Th, Thead, Tr } from "@patternfly/react-table";
import { useTranslation } from "react-i18next";
import type { Column } from "@/components/ResourceTable";
import { age } from "@/lib/format";
import type { Kind } from "@/lib/k8s/kinds";
import type { K8sObject } from "@/lib/k8s/types";
import { ObjectLink } from "./Links";

export function ObjectTable({
  kind,
  objects,
  columns,
  cluster,
  label,
  empty,
}: {
  kind: Kind;
  objects: K8sObject[];
  columns: Column[];
  cluster: string;
  label: string;
  empty?: string;
}) {
  const { t } = useTranslation();
  if (!objects.length) return <p>{empty ?? t("empty.title")}</p>;
  return (
    <Table variant="compact" aria-label={label}>
      <Thead>
        <Tr>
          <Th>{t("name")}</Th>
          {columns.map((column) => (
            <Th key={column.id} width={column.width}>
              {column.title}
            </Th>
          ))}
          <Th width={10}>{t("age")}</Th>
        </Tr>
      </Thead>
      <Tbody>
        {objects.map((object) => (
          <Tr key={object.metadata.uid ?? object.metadata.name} data-row={object.metadata.name}>
            <Td dataLabel={t("name")}>
              <ObjectLink kind={kind} name={object.metadata.name} namespace={object.metadata.namespace} cluster={cluster} />
            </Td>
            {columns.map((column) => (
              <Td key={column.id} dataLabel={column.title}>
                {column.render(object)}
              </Td>
            ))}
            <Td dataLabel={t("age")}>
              <span title={object.metadata.creationTimestamp}>{age(object.metadata.creationTimestamp)}</span>
            </Td>
          </Tr>
        ))}
      </Tbody>
    </Table>
  );
}
