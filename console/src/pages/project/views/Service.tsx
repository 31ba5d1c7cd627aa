/**
 * A Service's overview: type, addresses, ports and selector, then where its traffic goes,
 * live — the Endpoints object of the same name, address by address, ready or not, each with
 * the pod behind it (linked, with the pod's own status).
 */
import { Label } from "@patternfly/react-core";
import { Table, Tbody, Td, Th, Thead, Tr } from "@patternfly/react-table";
import { useTranslation } from "react-i18next";
import { StatusLabel } from "@/components/StatusLabel";
import { useAll, useObject } from "@/lib/api/hooks";
import { ApiError } from "@/lib/api/errors";
import type { DetailTabProps } from "@/lib/extensions/types";
import { Endpoints, Pod } from "@/lib/k8s/kinds";
import { podStatus } from "@/lib/k8s/status";
import type { K8sObject } from "@/lib/k8s/types";
import { Conditions, Labels, Metadata } from "@/pages/resources/Overview";
import { externalAddress } from "../columns";
import { Facts, Section } from "../parts/Details";
import { Fetched } from "../parts/Fetched";
import { ObjectLink } from "../parts/Links";
import { endpointRows, mapSelectorText } from "../related";

interface ServicePort {
  name?: string;
  port: number;
  targetPort?: number | string;
  nodePort?: number;
  protocol?: string;
}

function Ports({ service }: { service: K8sObject }) {
  const { t } = useTranslation();
  const ports = (service.spec?.ports ?? []) as ServicePort[];
  if (!ports.length) return <p>{t("none")}</p>;
  return (
    <Table variant="compact" aria-label={t("project:col.ports")}>
      <Thead>
        <Tr>
          <Th>{t("name")}</Th>
          <Th>{t("project:service.port")}</Th>
          <Th>{t("project:service.targetPort")}</Th>
          <Th>{t("project:service.nodePort")}</Th>
          <Th>{t("project:service.protocol")}</Th>
        </Tr>
      </Thead>
      <Tbody>
        {ports.map((port) => (
          <Tr key={`${port.port}/${port.protocol ?? "TCP"}`}>
            <Td>{port.name}</Td>
            <Td>{port.port}</Td>
            <Td>{port.targetPort ?? port.port}</Td>
            <Td>{port.nodePort}</Td>
            <Td>{port.protocol ?? "TCP"}</Td>
          </Tr>
        ))}
      </Tbody>
    </Table>
  );
}

function Backends({ service, cluster, selector }: { service: K8sObject; cluster: string; selector: string | null }) {
  const { t } = useTranslation();
  const namespace = service.metadata.namespace ?? "";
  const endpoints = useObject(Endpoints, cluster, namespace, service.metadata.name);
  // The pods behind the addresses, for their status words (the Service's own pods).
  const pods = useAll(Pod, { cluster, namespace, labelSelector: selector ?? undefined }, { enabled: selector !== null });
  const missing = endpoints.error instanceof ApiError && endpoints.error.notFound;
  if (missing) return <p>{t("project:service.noEndpoints")}</p>;
  const podNamed = (name: string) => pods.data?.items.find((pod) => pod.metadata.name === name);
  return (
    <Fetched result={endpoints}>
      {(object) => {
        const rows = endpointRows(object);
        if (!rows.length) return <p>{t("project:service.noAddresses")}</p>;
        return (
          <Table variant="compact" aria-label={t("project:service.endpoints")} data-testid="endpoints">
            <Thead>
              <Tr>
                <Th>{t("project:service.address")}</Th>
                <Th>{t("project:col.ready")}</Th>
                <Th>{t("project:service.pod")}</Th>
                <Th>{t("project:col.node")}</Th>
                <Th>{t("project:col.ports")}</Th>
              </Tr>
            </Thead>
            <Tbody>
              {rows.map((row) => {
                const pod = row.pod ? podNamed(row.pod) : undefined;
                return (
                  <Tr key={`${row.ip}-${row.ready}`} data-row={row.pod ?? row.ip}>
                    <Td>{row.ip}</Td>
                    <Td>
                      <Label isCompact color={row.ready ? "green" : "orange"} data-status={row.ready ? "ready" : "not-ready"}>
                        {row.ready ? t("project:service.ready") : t("project:service.notReady")}
                      </Label>
                    </Td>
                    <Td>
                      {row.pod ? (
                        <>
                          <ObjectLink kind={Pod} name={row.pod} namespace={namespace} cluster={cluster} />{" "}
                          {pod && <StatusLabel status={podStatus(pod)} />}
                        </>
                      ) : (
                        "—"
                      )}
                    </Td>
                    <Td>{row.node}</Td>
                    <Td>{row.ports}</Td>
                  </Tr>
                );
              })}
            </Tbody>
          </Table>
        );
      }}
    </Fetched>
  );
}

export default function ServiceOverview({ object: service, cluster }: DetailTabProps) {
  const { t } = useTranslation();
  const spec = service.spec ?? {};
  const selector = mapSelectorText(spec.selector);
  return (
    <>
      <Metadata object={service} cluster={cluster} />
      <Section title={t("project:service.details")}>
        <Facts
          items={[
            [t("project:col.type"), spec.type ?? "ClusterIP"],
            [t("project:col.clusterIP"), ((spec.clusterIPs ?? [spec.clusterIP]) as string[]).filter(Boolean).join(", ")],
            [t("project:col.external"), externalAddress(service)],
            [t("project:workload.selector"), selector ? <Labels key="selector" labels={spec.selector} /> : t("project:service.noSelector")],
            [t("project:service.sessionAffinity"), spec.sessionAffinity],
            [t("project:service.trafficPolicy"), spec.externalTrafficPolicy],
          ]}
        />
      </Section>
      <Section title={t("project:col.ports")}>
        <Ports service={service} />
      </Section>
      {spec.type !== "ExternalName" && (
        <Section title={t("project:service.endpoints")} testId="related-endpoints">
          <Backends service={service} cluster={cluster} selector={selector} />
        </Section>
      )}
      <Conditions conditions={service.status?.conditions} />
    </>
  );
}
