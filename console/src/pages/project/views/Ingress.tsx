/**
 * An Ingress's overview: its class and address, each route (host and path to a Service and
 * port, the Service linked) and its TLS hosts with their certificate Secrets.
 */
import { Table, Tbody, Td, Th, Thead, Tr } from "@patternfly/react-table";
import { useTranslation } from "react-i18next";
import type { DetailTabProps } from "@/lib/extensions/types";
import { Secret, Service } from "@/lib/k8s/kinds";
import type { K8sObject } from "@/lib/k8s/types";
import { Metadata } from "@/pages/resources/Overview";
import { ingressAddress } from "../columns";
import { Facts, Section } from "../parts/Details";
import { ObjectLink } from "../parts/Links";
import { ingressPaths } from "../related";

function Rules({ ingress, cluster }: { ingress: K8sObject; cluster: string }) {
  const { t } = useTranslation();
  const namespace = ingress.metadata.namespace ?? "";
  const rows = ingressPaths(ingress);
  if (!rows.length) return <p>{t("none")}</p>;
  return (
    <Table variant="compact" aria-label={t("project:ingress.rules")} data-testid="ingress-rules">
      <Thead>
        <Tr>
          <Th>{t("project:ingress.host")}</Th>
          <Th>{t("project:ingress.path")}</Th>
          <Th>{t("project:ingress.pathType")}</Th>
          <Th>{t("project:ingress.backend")}</Th>
          <Th>{t("project:service.port")}</Th>
        </Tr>
      </Thead>
      <Tbody>
        {rows.map((row) => (
          <Tr key={`${row.host}${row.path}`}>
            <Td>{row.host}</Td>
            <Td>
              <code>{row.path}</code>
            </Td>
            <Td>{row.pathType}</Td>
            <Td>{row.service ? <ObjectLink kind={Service} name={row.service} namespace={namespace} cluster={cluster} /> : row.resource}</Td>
            <Td>{row.port}</Td>
          </Tr>
        ))}
      </Tbody>
    </Table>
  );
}

function Tls({ ingress, cluster }: { ingress: K8sObject; cluster: string }) {
  const { t } = useTranslation();
  const entries = (ingress.spec?.tls ?? []) as { hosts?: string[]; secretName?: string }[];
  if (!entries.length) return <p>{t("project:ingress.noTls")}</p>;
  return (
    <Table variant="compact" aria-label={t("project:ingress.tls")}>
      <Thead>
        <Tr>
          <Th>{t("project:col.hosts")}</Th>
          <Th>{t("project:ingress.certificate")}</Th>
        </Tr>
      </Thead>
      <Tbody>
        {entries.map((entry) => (
          <Tr key={`${entry.secretName}-${(entry.hosts ?? []).join(",")}`}>
            <Td>{(entry.hosts ?? []).join(", ")}</Td>
            <Td>{entry.secretName ? <ObjectLink kind={Secret} name={entry.secretName} namespace={ingress.metadata.namespace} cluster={cluster} /> : "—"}</Td>
          </Tr>
        ))}
      </Tbody>
    </Table>
  );
}

export default function IngressOverview({ object: ingress, cluster }: DetailTabProps) {
  const { t } = useTranslation();
  return (
    <>
      <Metadata object={ingress} cluster={cluster} />
      <Section title={t("project:ingress.details")}>
        <Facts items={[[t("project:col.class"), ingress.spec?.ingressClassName], [t("project:col.address"), ingressAddress(ingress)]]} />
      </Section>
      <Section title={t("project:ingress.rules")}>
        <Rules ingress={ingress} cluster={cluster} />
      </Section>
      <Section title={t("project:ingress.tls")}>
        <Tls ingress={ingress} cluster={cluster} />
      </Section>
    </>
  );
}
