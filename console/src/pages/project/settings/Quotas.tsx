/**
 * The project's quotas and limit ranges: each ResourceQuota's use as progress bars, each
 * LimitRange's defaults and bounds as a table. Those allowed may create or edit them in a
 * small form, or open an object's YAML for anything the forms do not cover.
 */
import { useState, type ReactNode } from "react";
import { Button, Card, CardBody, CardHeader, CardTitle, Flex, FlexItem, PageSection, Stack, StackItem, Title } from "@patternfly/react-core";
import { Table, Tbody, Td, Th, Thead, Tr } from "@patternfly/react-table";
import { Link, useParams } from "react-router-dom";
import { useTranslation } from "react-i18next";
import { ErrorState, Loading } from "@/components/States";
import { useCan } from "@/lib/api/access";
import { useAll } from "@/lib/api/hooks";
import { LimitRange, ResourceQuota, type Kind } from "@/lib/k8s/kinds";
import type { K8sObject } from "@/lib/k8s/types";
import { detailPath } from "@/pages/resources/views";
import { ObjectLink } from "../parts/Links";
import { QuotaBars, useResourceName } from "../parts/QuotaBars";
import { limitRows } from "../quota";
import { LimitsForm } from "./LimitsForm";
import { QuotaForm } from "./QuotaForm";

interface Where {
  cluster: string;
  namespace: string;
}

/** Edit and YAML for one object, offered to those who may update it. */
function ObjectActions({ kind, object, where, onEdit }: { kind: Kind; object: K8sObject; where: Where; onEdit(): void }) {
  const { t } = useTranslation();
  const name = object.metadata.name;
  const mayUpdate = useCan({ cluster: where.cluster, verb: "update", resource: kind.plural, namespace: where.namespace, name });
  if (!mayUpdate) return null;
  return (
    <Flex spaceItems={{ default: "spaceItemsSm" }}>
      <FlexItem>
        <Button variant="secondary" size="sm" onClick={onEdit} data-testid={`edit-${kind.plural}-${name}`}>
          {t("edit")}
        </Button>
      </FlexItem>
      <FlexItem>
        <Link to={`${detailPath(where.cluster, kind.resource, name, where.namespace)}?tab=resources.yaml`} data-testid={`yaml-${kind.plural}-${name}`}>
          {t("project:quotas.editYaml")}
        </Link>
      </FlexItem>
    </Flex>
  );
}

function LimitTable({ limitRange }: { limitRange: K8sObject }) {
  const { t } = useTranslation();
  const nameOf = useResourceName();
  const rows = limitRows(limitRange);
  if (!rows.length) return <p>{t("none")}</p>;
  return (
    <Table variant="compact" aria-label={limitRange.metadata.name} data-testid={`limitrange-${limitRange.metadata.name}`}>
      <Thead>
        <Tr>
          <Th>{t("project:limits.type")}</Th>
          <Th>{t("project:limits.resource")}</Th>
          <Th>{t("project:limits.defaultRequest")}</Th>
          <Th>{t("project:limits.defaultLimit")}</Th>
          <Th>{t("project:limits.min")}</Th>
          <Th>{t("project:limits.max")}</Th>
          <Th>{t("project:limits.ratio")}</Th>
        </Tr>
      </Thead>
      <Tbody>
        {rows.map((row) => (
          <Tr key={`${row.type}-${row.resource}`}>
            <Td>{row.type}</Td>
            <Td>{nameOf(row.resource)}</Td>
            <Td>{row.defaultRequest}</Td>
            <Td>{row.defaultLimit}</Td>
            <Td>{row.min}</Td>
            <Td>{row.max}</Td>
            <Td>{row.maxRatio}</Td>
          </Tr>
        ))}
      </Tbody>
    </Table>
  );
}

type Editing = { kind: "quota"; object?: K8sObject } | { kind: "limits"; object?: K8sObject } | null;

export default function Quotas() {
  const { t } = useTranslation();
  const { cluster = "", namespace = "" } = useParams();
  const where = { cluster, namespace };
  const quotas = useAll(ResourceQuota, where);
  const limits = useAll(LimitRange, where);
  const mayCreateQuota = useCan({ cluster, verb: "create", resource: ResourceQuota.plural, namespace });
  const mayCreateLimits = useCan({ cluster, verb: "create", resource: LimitRange.plural, namespace });
  const [editing, setEditing] = useState<Editing>(null);

  const card = (kind: Kind, object: K8sObject, body: ReactNode, edit: Editing) => (
    <Card key={object.metadata.name} data-testid={`card-${kind.plural}-${object.metadata.name}`}>
      <CardHeader actions={{ actions: <ObjectActions kind={kind} object={object} where={where} onEdit={() => setEditing(edit)} />, hasNoOffset: true }}>
        <CardTitle>
          <ObjectLink kind={kind} name={object.metadata.name} namespace={namespace} cluster={cluster} />
        </CardTitle>
      </CardHeader>
      <CardBody>{body}</CardBody>
    </Card>
  );

  return (
    <>
      <PageSection>
        <Title headingLevel="h1">{t("project:nav.quotas")}</Title>
      </PageSection>
      <PageSection>
        <Flex justifyContent={{ default: "justifyContentSpaceBetween" }} style={{ marginBottom: 8 }}>
          <Title headingLevel="h2">{t("project:quotas.quotas")}</Title>
          {mayCreateQuota && (
            <Button variant="secondary" onClick={() => setEditing({ kind: "quota" })} data-testid="create-quota">
              {t("project:quotas.createQuota")}
            </Button>
          )}
        </Flex>
        {quotas.isPending ? (
          <Loading />
        ) : quotas.error ? (
          <ErrorState error={quotas.error} retry={() => void quotas.refetch()} />
        ) : quotas.data.items.length ? (
          <Stack hasGutter>
            {quotas.data.items.map((quota) => (
              <StackItem key={quota.metadata.name}>{card(ResourceQuota, quota, <QuotaBars quota={quota} />, { kind: "quota", object: quota })}</StackItem>
            ))}
          </Stack>
        ) : (
          <p>{t("project:quotas.noQuota")}</p>
        )}
      </PageSection>
      <PageSection>
        <Flex justifyContent={{ default: "justifyContentSpaceBetween" }} style={{ marginBottom: 8 }}>
          <Title headingLevel="h2">{t("project:quotas.limitRanges")}</Title>
          {mayCreateLimits && !limits.data?.items.length && (
            <Button variant="secondary" onClick={() => setEditing({ kind: "limits" })} data-testid="create-limits">
              {t("project:quotas.createLimits")}
            </Button>
          )}
        </Flex>
        {limits.isPending ? (
          <Loading />
        ) : limits.error ? (
          <ErrorState error={limits.error} retry={() => void limits.refetch()} />
        ) : limits.data.items.length ? (
          <Stack hasGutter>
            {limits.data.items.map((range) => (
              <StackItem key={range.metadata.name}>{card(LimitRange, range, <LimitTable limitRange={range} />, { kind: "limits", object: range })}</StackItem>
            ))}
          </Stack>
        ) : (
          <p>{t("project:quotas.noLimits")}</p>
        )}
      </PageSection>
      {editing?.kind === "quota" && <QuotaForm cluster={cluster} namespace={namespace} quota={editing.object} onClose={() => setEditing(null)} />}
      {editing?.kind === "limits" && <LimitsForm cluster={cluster} namespace={namespace} limitRange={editing.object} onClose={() => setEditing(null)} />}
    </>
  );
}
