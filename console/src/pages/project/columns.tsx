/**
 * The list columns of the project's kinds (after the name, before the age): what a person
 * scans a list for — a workload's health and replicas, a pod's status and restarts, a
 * Service's addresses. Loaded with the registry (lists need them at once), so they stay small;
 * each kind's overview is loaded lazily instead.
 */
import { Label } from "@patternfly/react-core";
import type { Column } from "@/components/ResourceTable";
import { StatusLabel } from "@/components/StatusLabel";
import { age } from "@/lib/format";
import { PersistentVolume, StorageClass } from "@/lib/k8s/kinds";
import { podStatus, readyCount, replicasText, restarts, workloadStatus, type StatusWord } from "@/lib/k8s/status";
import type { K8sObject } from "@/lib/k8s/types";
import { ObjectLink } from "./parts/Links";
import { completions, jobDuration } from "./jobs";
import { display, fullest } from "./quota";
import { kindOf, revisionOf } from "./related";

type Translate = (key: string) => string;

const NONE = "—";

/** The images of a pod template (or a pod), each once. */
export function images(object: K8sObject): string[] {
  const spec = object.kind === "Pod" ? object.spec : object.kind === "CronJob" ? object.spec?.jobTemplate?.spec?.template?.spec : object.spec?.template?.spec;
  const containers = (spec?.containers ?? []) as { image?: string }[];
  return [...new Set(containers.map((container) => container.image ?? "").filter(Boolean))];
}

function Images({ object }: { object: K8sObject }) {
  const list = images(object);
  return <span title={list.join("\n")}>{list.join(", ") || NONE}</span>;
}

/** `80/TCP`, `80:30080/TCP` (with a node port), as kubectl's PORT(S). */
export function servicePorts(service: K8sObject): string {
  const ports = (service.spec?.ports ?? []) as { port: number; nodePort?: number; protocol?: string }[];
  return ports.map((port) => `${port.port}${port.nodePort ? `:${port.nodePort}` : ""}/${port.protocol ?? "TCP"}`).join(", ");
}

/** Where a Service is reached from outside: load balancer, external IPs, or external name. */
export function externalAddress(service: K8sObject): string {
  if (service.spec?.type === "ExternalName") return service.spec.externalName ?? "";
  const balanced = ((service.status?.loadBalancer?.ingress ?? []) as { ip?: string; hostname?: string }[]).map(
    (entry) => entry.ip ?? entry.hostname ?? "",
  );
  return [...balanced, ...((service.spec?.externalIPs ?? []) as string[])].filter(Boolean).join(", ");
}

export function ingressHosts(ingress: K8sObject): string {
  const hosts = ((ingress.spec?.rules ?? []) as { host?: string }[]).map((rule) => rule.host ?? "*");
  return [...new Set(hosts)].join(", ");
}

export function ingressAddress(ingress: K8sObject): string {
  return ((ingress.status?.loadBalancer?.ingress ?? []) as { ip?: string; hostname?: string }[])
    .map((entry) => entry.ip ?? entry.hostname ?? "")
    .filter(Boolean)
    .join(", ");
}

const MODES: Record<string, string> = {
  ReadWriteOnce: "RWO",
  ReadOnlyMany: "ROX",
  ReadWriteMany: "RWX",
  ReadWriteOncePod: "RWOP",
};

export function accessModes(claim: K8sObject): string {
  const modes = (claim.status?.accessModes ?? claim.spec?.accessModes ?? []) as string[];
  return modes.map((mode) => MODES[mode] ?? mode).join(", ");
}

export function claimStatus(claim: K8sObject): StatusWord {
  if (claim.metadata.deletionTimestamp) return { text: "Terminating", health: "progress" };
  const phase = (claim.status?.phase as string | undefined) ?? "Pending";
  if (phase === "Bound") return { text: phase, health: "ok" };
  if (phase === "Pending") return { text: phase, health: "progress" };
  return { text: phase, health: "error" };
}

export function claimCapacity(claim: K8sObject): string {
  return claim.status?.capacity?.storage ?? claim.spec?.resources?.requests?.storage ?? "";
}

function cell(value: string | number | undefined) {
  return value === undefined || value === "" ? NONE : value;
}

const status = (t: Translate, word: (object: K8sObject) => StatusWord): Column => ({
  id: "status",
  title: t("project:col.status"),
  sort: "status",
  width: 15,
  render: (object) => <StatusLabel status={word(object)} />,
});

const imagesColumn = (t: Translate): Column => ({ id: "images", title: t("project:col.images"), render: (object) => <Images object={object} /> });

export function workloadColumns(t: Translate): Column[] {
  return [
    { ...status(t, workloadStatus), sort: undefined },
    { id: "replicas", title: t("project:col.replicas"), width: 10, render: (object) => replicasText(object) },
    imagesColumn(t),
  ];
}

export function replicaSetColumns(t: Translate): Column[] {
  return [
    { id: "replicas", title: t("project:col.replicas"), width: 10, render: (object) => `${object.status?.readyReplicas ?? 0}/${object.spec?.replicas ?? 0}` },
    { id: "revision", title: t("project:col.revision"), width: 10, render: (object) => cell(revisionOf(object) || undefined) },
    imagesColumn(t),
  ];
}

export function podColumns(t: Translate): Column[] {
  return [
    status(t, podStatus),
    { id: "ready", title: t("project:col.ready"), width: 10, render: (pod) => readyCount(pod) },
    { id: "restarts", title: t("project:col.restarts"), width: 10, render: (pod) => restarts(pod) },
    { id: "node", title: t("project:col.node"), render: (pod) => cell(pod.spec?.nodeName) },
    { id: "ip", title: t("project:col.podIP"), render: (pod) => cell(pod.status?.podIP) },
  ];
}

export function jobColumns(t: Translate): Column[] {
  return [
    { ...status(t, workloadStatus), sort: undefined },
    { id: "completions", title: t("project:col.completions"), width: 10, render: (job) => completions(job) },
    { id: "duration", title: t("project:col.duration"), width: 10, render: (job) => cell(jobDuration(job)) },
  ];
}

export function cronJobColumns(t: Translate): Column[] {
  return [
    { id: "schedule", title: t("project:col.schedule"), render: (cron) => <code>{cron.spec?.schedule}</code> },
    {
      id: "suspend",
      title: t("project:col.suspend"),
      width: 10,
      render: (cron) => (cron.spec?.suspend ? <Label isCompact color="orange">{t("yes")}</Label> : t("no")),
    },
    { id: "active", title: t("project:col.active"), width: 10, render: (cron) => (cron.status?.active ?? []).length },
    {
      id: "lastSchedule",
      title: t("project:col.lastSchedule"),
      render: (cron) => <span title={cron.status?.lastScheduleTime}>{cell(age(cron.status?.lastScheduleTime))}</span>,
    },
  ];
}

export function serviceColumns(t: Translate): Column[] {
  return [
    { id: "type", title: t("project:col.type"), width: 10, render: (service) => service.spec?.type ?? "ClusterIP" },
    { id: "clusterIP", title: t("project:col.clusterIP"), render: (service) => cell(service.spec?.clusterIP) },
    { id: "ports", title: t("project:col.ports"), render: (service) => cell(servicePorts(service)) },
    { id: "external", title: t("project:col.external"), render: (service) => cell(externalAddress(service)) },
  ];
}

export function ingressColumns(t: Translate): Column[] {
  return [
    { id: "class", title: t("project:col.class"), width: 10, render: (ingress) => cell(ingress.spec?.ingressClassName) },
    { id: "hosts", title: t("project:col.hosts"), render: (ingress) => cell(ingressHosts(ingress)) },
    { id: "address", title: t("project:col.address"), render: (ingress) => cell(ingressAddress(ingress)) },
  ];
}

export function claimColumns(t: Translate): Column[] {
  return [
    status(t, claimStatus),
    { id: "capacity", title: t("project:col.capacity"), width: 10, render: (claim) => cell(claimCapacity(claim)) },
    {
      id: "volume",
      title: t("project:col.volume"),
      render: (claim) => (claim.spec?.volumeName ? <ObjectLink kind={PersistentVolume} name={claim.spec.volumeName} /> : NONE),
    },
    {
      id: "storageClass",
      title: t("project:col.storageClass"),
      render: (claim) => (claim.spec?.storageClassName ? <ObjectLink kind={StorageClass} name={claim.spec.storageClassName} /> : NONE),
    },
    { id: "accessModes", title: t("project:col.accessModes"), width: 10, render: (claim) => cell(accessModes(claim)) },
  ];
}

export function configMapColumns(t: Translate): Column[] {
  return [
    {
      id: "data",
      title: t("project:col.keys"),
      width: 10,
      render: (map) => Object.keys(map.data ?? {}).length + Object.keys(map.binaryData ?? {}).length,
    },
  ];
}

export function secretColumns(t: Translate): Column[] {
  return [
    { id: "type", title: t("project:col.type"), render: (secret) => secret.type ?? "Opaque" },
    { id: "data", title: t("project:col.keys"), width: 10, render: (secret) => Object.keys(secret.data ?? {}).length },
  ];
}

export function serviceAccountColumns(t: Translate): Column[] {
  return [
    { id: "secrets", title: t("project:col.secrets"), width: 10, render: (account) => (account.secrets ?? []).length },
    { id: "pullSecrets", title: t("project:col.pullSecrets"), width: 15, render: (account) => (account.imagePullSecrets ?? []).length },
  ];
}

/** When an event last happened (series and new-style events keep it elsewhere). */
export function lastSeen(event: K8sObject): string {
  return event.lastTimestamp || event.series?.lastObservedTime || event.eventTime || event.metadata.creationTimestamp || "";
}

function InvolvedObject({ event }: { event: K8sObject }) {
  const involved = event.involvedObject ?? event.regarding ?? {};
  const kind = kindOf(involved.apiVersion, involved.kind);
  if (!kind || !involved.name) return <>{involved.kind ? `${involved.kind}/${involved.name ?? ""}` : NONE}</>;
  return (
    <>
      <span style={{ opacity: 0.7 }}>{kind.kind} </span>
      <ObjectLink kind={kind} name={involved.name} namespace={involved.namespace ?? event.metadata.namespace} />
    </>
  );
}

export function eventColumns(t: Translate): Column[] {
  return [
    {
      id: "type",
      title: t("project:col.type"),
      width: 10,
      render: (event) => (
        <Label isCompact color={event.type === "Warning" ? "orange" : "grey"} data-status={event.type}>
          {event.type}
        </Label>
      ),
    },
    { id: "reason", title: t("project:col.reason"), width: 10, render: (event) => event.reason },
    { id: "object", title: t("project:col.object"), width: 20, render: (event) => <InvolvedObject event={event} /> },
    { id: "message", title: t("project:col.message"), render: (event) => event.message ?? event.note },
    { id: "count", title: t("project:col.count"), width: 10, render: (event) => event.count ?? event.series?.count ?? 1 },
    {
      id: "lastSeen",
      title: t("project:col.lastSeen"),
      width: 10,
      render: (event) => <span title={lastSeen(event)}>{age(lastSeen(event))}</span>,
    },
  ];
}

export function quotaColumns(t: Translate): Column[] {
  return [
    {
      id: "fullest",
      title: t("project:col.fullest"),
      render: (quota) => {
        const line = fullest(quota);
        if (!line) return NONE;
        const color = line.level === "full" ? "red" : line.level === "warning" ? "orange" : "grey";
        return (
          <Label isCompact color={color} data-status={line.level}>
            {line.resource} {display(line.resource, line.used)} / {display(line.resource, line.hard)} ({line.percent}%)
          </Label>
        );
      },
    },
  ];
}

const BUILT_IN = "iam.atoll.io/built-in";

export function roleColumns(t: Translate): Column[] {
  return [
    { id: "rules", title: t("project:col.rules"), width: 10, render: (role) => (role.rules ?? []).length },
    {
      id: "builtIn",
      title: t("project:col.builtIn"),
      width: 10,
      render: (role) => (role.metadata.labels?.[BUILT_IN] === "true" ? <Label isCompact color="blue">{t("yes")}</Label> : t("no")),
    },
  ];
}
