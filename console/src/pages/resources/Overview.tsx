/** The overview any object has: metadata, labels, annotations, owners and conditions. */
import {
  DescriptionList,
  DescriptionListDescription,
  DescriptionListGroup,
  DescriptionListTerm,
  Label,
  LabelGroup,
  Title,
} from "@patternfly/react-core";
import { Table, Tbody, Td, Th, Thead, Tr } from "@patternfly/react-table";
import type { ReactNode } from "react";
import { Link } from "react-router-dom";
import { useTranslation } from "react-i18next";
import type { DetailTabProps } from "@/lib/extensions/types";
import { known } from "@/lib/k8s/kinds";
import type { Condition, K8sObject } from "@/lib/k8s/types";
import { age } from "@/lib/format";
import { detailPath } from "./views";

/** One fact of an overview: a term and what it is. */
export function Fact({ term, children }: { term: ReactNode; children: ReactNode }) {
  return (
    <DescriptionListGroup>
      <DescriptionListTerm>{term}</DescriptionListTerm>
      <DescriptionListDescription>{children}</DescriptionListDescription>
    </DescriptionListGroup>
  );
}

export function Labels({ labels }: { labels?: Record<string, string> }) {
  const { t } = useTranslation();
  const entries = Object.entries(labels ?? {});
  if (!entries.length) return <>{t("none")}</>;
  return (
    <LabelGroup numLabels={10}>
      {entries.map(([key, value]) => (
        <Label key={key} isCompact>
          {value ? `${key}=${value}` : key}
        </Label>
      ))}
    </LabelGroup>
  );
}

export function Conditions({ conditions }: { conditions?: Condition[] }) {
  const { t } = useTranslation();
  if (!conditions?.length) return null;
  return (
    <>
      <Title headingLevel="h2" size="lg" style={{ margin: "24px 0 8px" }}>
        {t("detail.conditions")}
      </Title>
      <Table variant="compact" aria-label={t("detail.conditions")}>
        <Thead>
          <Tr>
            <Th>{t("events.type")}</Th>
            <Th>{t("status")}</Th>
            <Th>{t("events.reason")}</Th>
            <Th>{t("events.message")}</Th>
            <Th>{t("events.last")}</Th>
          </Tr>
        </Thead>
        <Tbody>
          {conditions.map((condition) => (
            <Tr key={condition.type}>
              <Td>{condition.type}</Td>
              <Td>{condition.status}</Td>
              <Td>{condition.reason}</Td>
              <Td>{condition.message}</Td>
              <Td>{age(condition.lastTransitionTime)}</Td>
            </Tr>
          ))}
        </Tbody>
      </Table>
    </>
  );
}

export function Metadata({ object, cluster }: { object: K8sObject; cluster: string }) {
  const { t } = useTranslation();
  const meta = object.metadata;
  return (
    <DescriptionList isHorizontal isCompact>
      {meta.namespace && (
        <Fact term={t("namespace")}>
          <Link to={`/clusters/${cluster}/projects/${meta.namespace}/overview`}>{meta.namespace}</Link>
        </Fact>
      )}
      <DescriptionListGroup>
        <DescriptionListTerm>{t("created")}</DescriptionListTerm>
        <DescriptionListDescription title={meta.creationTimestamp}>
          {meta.creationTimestamp} ({t("time.ago", { value: age(meta.creationTimestamp) })})
        </DescriptionListDescription>
      </DescriptionListGroup>
      <Fact term={t("labels")}>
        <Labels labels={meta.labels} />
      </Fact>
      <Fact term={t("annotations")}>
        <Labels labels={Object.fromEntries(Object.entries(meta.annotations ?? {}).filter(([key]) => key !== "kubectl.kubernetes.io/last-applied-configuration"))} />
      </Fact>
      {meta.ownerReferences?.length ? (
        <Fact term={t("detail.owners", "Owned by")}>
          {meta.ownerReferences.map((owner) => {
            const [group] = owner.apiVersion.includes("/") ? owner.apiVersion.split("/") : [""];
            const kind = [...new Set([group])].map((g) => known(g, `${owner.kind.toLowerCase()}s`))[0];
            return kind ? (
              <div key={owner.uid}>
                {owner.kind}{" "}
                <Link to={detailPath(cluster, kind.resource, owner.name, kind.namespaced ? meta.namespace : undefined)}>{owner.name}</Link>
              </div>
            ) : (
              <div key={owner.uid}>
                {owner.kind} {owner.name}
              </div>
            );
          })}
        </Fact>
      ) : null}
    </DescriptionList>
  );
}

export default function Overview({ object, cluster }: DetailTabProps) {
  return (
    <>
      <Metadata object={object} cluster={cluster} />
      <Conditions conditions={object.status?.conditions} />
    </>
  );
}
