/**
 * The containers of a pod or a pod template: image, ports, requests and limits, probes, and
 * for a pod each container's state, readiness and restarts.
 */
import { Label } from "@patternfly/react-core";
import { Table, Tbody, Td, Th, Thead, Tr } from "@patternfly/react-table";
import { useTranslation } from "react-i18next";
import { StatusLabel } from "@/components/StatusLabel";
import type { StatusWord } from "@/lib/k8s/status";

interface Probe {
  httpGet?: { path?: string; port?: number | string; scheme?: string };
  tcpSocket?: { port?: number | string };
  grpc?: { port?: number };
  exec?: { command?: string[] };
}

export interface Container {
  name: string;
  image?: string;
  ports?: { containerPort: number; name?: string; protocol?: string }[];
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  livenessProbe?: Probe;
  readinessProbe?: Probe;
  startupProbe?: Probe;
}

export interface ContainerStatus {
  name: string;
  ready?: boolean;
  restartCount?: number;
  state?: {
    running?: { startedAt?: string };
    waiting?: { reason?: string; message?: string };
    terminated?: { reason?: string; exitCode?: number; signal?: number; message?: string };
  };
}

/** What a probe checks, in protocol words: `HTTP GET :8080/healthz`, `TCP :5432`, `exec cat /ready`. */
export function probeText(probe: Probe): string {
  if (probe.httpGet) {
    const scheme = probe.httpGet.scheme === "HTTPS" ? "HTTPS" : "HTTP";
    return `${scheme} GET :${probe.httpGet.port ?? ""}${probe.httpGet.path ?? "/"}`;
  }
  if (probe.tcpSocket) return `TCP :${probe.tcpSocket.port ?? ""}`;
  if (probe.grpc) return `gRPC :${probe.grpc.port ?? ""}`;
  if (probe.exec) return `exec ${(probe.exec.command ?? []).join(" ")}`;
  return "";
}

/** A container's state as a status word: running, or why it waits or ended. */
export function containerState(status: ContainerStatus | undefined): StatusWord {
  const state = status?.state;
  if (state?.running) return { text: "Running", health: status?.ready ? "ok" : "progress" };
  if (state?.waiting) {
    const reason = state.waiting.reason ?? "Waiting";
    return { text: reason, health: /BackOff|Err|Invalid/.test(reason) ? "error" : "progress" };
  }
  if (state?.terminated) {
    const { reason, exitCode = 0, signal } = state.terminated;
    const text = reason ?? (signal ? `Signal:${signal}` : `ExitCode:${exitCode}`);
    return { text, health: exitCode === 0 ? "ok" : "error" };
  }
  return { text: "Unknown", health: "unknown" };
}

function pairs(map: Record<string, string> | undefined): string {
  return Object.entries(map ?? {})
    .map(([key, value]) => `${key} ${value}`)
    .join(", ");
}

export function Containers({
  containers,
  init = [],
  statuses,
}: {
  containers: Container[];
  init?: Container[];
  /** A pod's container statuses (init ones included); none for a template. */
  statuses?: ContainerStatus[];
}) {
  const { t } = useTranslation();
  const all = [...init.map((container) => ({ container, init: true })), ...containers.map((container) => ({ container, init: false }))];
  const statusOf = (name: string) => statuses?.find((status) => status.name === name);
  return (
    <Table variant="compact" aria-label={t("project:containers.title")} data-testid="containers">
      <Thead>
        <Tr>
          <Th>{t("name")}</Th>
          <Th>{t("project:containers.image")}</Th>
          {statuses && <Th>{t("project:col.status")}</Th>}
          {statuses && <Th>{t("project:col.ready")}</Th>}
          {statuses && <Th>{t("project:col.restarts")}</Th>}
          <Th>{t("project:col.ports")}</Th>
          <Th>{t("project:containers.resources")}</Th>
          <Th>{t("project:containers.probes")}</Th>
        </Tr>
      </Thead>
      <Tbody>
        {all.map(({ container, init: isInit }) => {
          const status = statusOf(container.name);
          const requests = pairs(container.resources?.requests);
          const limits = pairs(container.resources?.limits);
          const probes = (
            [
              ["liveness", container.livenessProbe],
              ["readiness", container.readinessProbe],
              ["startup", container.startupProbe],
            ] as [string, Probe | undefined][]
          ).filter((entry): entry is [string, Probe] => Boolean(entry[1]));
          return (
            <Tr key={`${isInit}-${container.name}`} data-row={container.name}>
              <Td dataLabel={t("name")}>
                {container.name} {isInit && <Label isCompact>{t("project:containers.init")}</Label>}
              </Td>
              <Td dataLabel={t("project:containers.image")} style={{ wordBreak: "break-all" }}>
                {container.image}
              </Td>
              {statuses && (
                <Td dataLabel={t("project:col.status")}>
                  <StatusLabel status={containerState(status)} />
                </Td>
              )}
              {statuses && <Td dataLabel={t("project:col.ready")}>{status?.ready ? t("yes") : t("no")}</Td>}
              {statuses && <Td dataLabel={t("project:col.restarts")}>{status?.restartCount ?? 0}</Td>}
              <Td dataLabel={t("project:col.ports")}>
                {(container.ports ?? []).map((port) => (
                  <div key={`${port.containerPort}/${port.protocol ?? "TCP"}`}>
                    {port.name ? `${port.name} ` : ""}
                    {port.containerPort}/{port.protocol ?? "TCP"}
                  </div>
                ))}
              </Td>
              <Td dataLabel={t("project:containers.resources")}>
                {requests && <div>{t("project:containers.requests", { value: requests })}</div>}
                {limits && <div>{t("project:containers.limits", { value: limits })}</div>}
                {!requests && !limits && t("none")}
              </Td>
              <Td dataLabel={t("project:containers.probes")}>
                {probes.map(([which, probe]) => (
                  <div key={which}>{t(`project:containers.${which}`, { value: probeText(probe) })}</div>
                ))}
                {!probes.length && t("none")}
              </Td>
            </Tr>
          );
        })}
      </Tbody>
    </Table>
  );
}
