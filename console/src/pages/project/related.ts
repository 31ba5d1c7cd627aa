/**
 * How the objects of a project point at one another, as plain functions over objects: label
 * selectors (to ask the server for a workload's pods, and to find the Services that select a
 * pod), owner references (a Deployment's ReplicaSets, a CronJob's Jobs), a Service's
 * Endpoints, an Ingress's backends and the pods that mount a claim. The overviews fetch; these
 * decide what belongs to what.
 */
import { KINDS, type Kind } from "@/lib/k8s/kinds";
import type { K8sObject } from "@/lib/k8s/types";

export interface SelectorRequirement {
  key: string;
  operator: "In" | "NotIn" | "Exists" | "DoesNotExist";
  values?: string[];
}

/** A Kubernetes LabelSelector (workloads, Jobs); a Service's selector is a plain map. */
export interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: SelectorRequirement[];
}

/**
 * The selector as the `labelSelector` query parameter says it (`app=web,tier in (a,b)`);
 * `null` when it selects nothing (no selector at all, or a Service without one).
 */
export function selectorText(selector: LabelSelector | undefined): string | null {
  if (!selector) return null;
  const terms = Object.entries(selector.matchLabels ?? {}).map(([key, value]) => `${key}=${value}`);
  for (const { key, operator, values = [] } of selector.matchExpressions ?? []) {
    if (operator === "In") terms.push(`${key} in (${values.join(",")})`);
    else if (operator === "NotIn") terms.push(`${key} notin (${values.join(",")})`);
    else if (operator === "Exists") terms.push(key);
    else terms.push(`!${key}`);
  }
  return terms.length ? terms.join(",") : null;
}

/** A Service's selector (a map) in the same words; `null` without one. */
export function mapSelectorText(selector: Record<string, string> | undefined): string | null {
  return selectorText(selector ? { matchLabels: selector } : undefined);
}

/** Whether labels satisfy a selector (an empty selector matches everything, as in Kubernetes). */
export function matches(selector: LabelSelector, labels: Record<string, string> | undefined): boolean {
  const have = labels ?? {};
  for (const [key, value] of Object.entries(selector.matchLabels ?? {})) {
    if (have[key] !== value) return false;
  }
  return (selector.matchExpressions ?? []).every(({ key, operator, values = [] }) => {
    const present = key in have;
    if (operator === "In") return present && values.includes(have[key]);
    if (operator === "NotIn") return !present || !values.includes(have[key]);
    if (operator === "Exists") return present;
    return !present;
  });
}

/** The Services of a namespace whose selector picks this pod. */
export function servicesSelecting(services: K8sObject[], pod: K8sObject): K8sObject[] {
  return services.filter((service) => {
    const selector = service.spec?.selector as Record<string, string> | undefined;
    return selector && Object.keys(selector).length > 0 && matches({ matchLabels: selector }, pod.metadata.labels);
  });
}

/** The objects an owner (by uid) owns. */
export function ownedBy<T extends K8sObject>(objects: T[], uid: string | undefined): T[] {
  if (!uid) return [];
  return objects.filter((object) => object.metadata.ownerReferences?.some((owner) => owner.uid === uid));
}

export type OwnerReference = NonNullable<K8sObject["metadata"]["ownerReferences"]>[number];

/** The owner that controls an object (a pod's ReplicaSet), else its first owner. */
export function controllerOf(object: K8sObject): OwnerReference | undefined {
  const owners = object.metadata.ownerReferences ?? [];
  return owners.find((owner) => owner.controller) ?? owners[0];
}

/** The console's kind for an `apiVersion` and `kind` (owner references, events). */
export function kindOf(apiVersion: string | undefined, kind: string | undefined): Kind | undefined {
  const group = apiVersion?.includes("/") ? apiVersion.split("/")[0] : "";
  return KINDS.find((known) => known.kind === kind && known.group === group);
}

const REVISION = "deployment.kubernetes.io/revision";

export function revisionOf(replicaSet: K8sObject): number {
  const revision = Number(replicaSet.metadata.annotations?.[REVISION]);
  return Number.isFinite(revision) ? revision : 0;
}

/** A Deployment's ReplicaSets, newest revision first. */
export function replicaSetsOf(deployment: K8sObject, replicaSets: K8sObject[]): K8sObject[] {
  return ownedBy(replicaSets, deployment.metadata.uid).sort((a, b) => revisionOf(b) - revisionOf(a));
}

/** Which of `pods` each owner (by uid) owns: a ReplicaSet's pods among a Deployment's. */
export function podsByOwner(pods: K8sObject[]): Map<string, K8sObject[]> {
  const found = new Map<string, K8sObject[]>();
  for (const pod of pods) {
    const owner = controllerOf(pod)?.uid;
    if (owner) found.set(owner, [...(found.get(owner) ?? []), pod]);
  }
  return found;
}

export interface EndpointRow {
  ip: string;
  ready: boolean;
  /** The pod behind the address, when the address names one. */
  pod?: string;
  node?: string;
  ports: string;
}

interface EndpointAddress {
  ip: string;
  nodeName?: string;
  targetRef?: { kind?: string; name?: string };
}

interface EndpointSubset {
  addresses?: EndpointAddress[];
  notReadyAddresses?: EndpointAddress[];
  ports?: { name?: string; port: number; protocol?: string }[];
}

/** The addresses of an Endpoints object, ready ones first, each with the pod it names. */
export function endpointRows(endpoints: K8sObject | undefined): EndpointRow[] {
  const rows: EndpointRow[] = [];
  for (const subset of (endpoints?.subsets ?? []) as EndpointSubset[]) {
    const ports = (subset.ports ?? []).map((port) => `${port.port}/${port.protocol ?? "TCP"}`).join(", ");
    const row = (address: EndpointAddress, ready: boolean): EndpointRow => ({
      ip: address.ip,
      ready,
      pod: address.targetRef?.kind === "Pod" ? address.targetRef.name : undefined,
      node: address.nodeName,
      ports,
    });
    rows.push(...(subset.addresses ?? []).map((address) => row(address, true)));
    rows.push(...(subset.notReadyAddresses ?? []).map((address) => row(address, false)));
  }
  return rows.sort((a, b) => Number(b.ready) - Number(a.ready) || a.ip.localeCompare(b.ip));
}

export interface IngressPath {
  host: string;
  path: string;
  pathType?: string;
  service?: string;
  port?: string;
  /** A backend that is not a Service (`resource`). */
  resource?: string;
}

interface Backend {
  service?: { name: string; port?: { number?: number; name?: string } };
  resource?: { kind: string; name: string };
}

function backend(target: Backend | undefined): Pick<IngressPath, "service" | "port" | "resource"> {
  if (target?.service) {
    const port = target.service.port;
    return { service: target.service.name, port: port?.name ?? (port?.number !== undefined ? String(port.number) : undefined) };
  }
  if (target?.resource) return { resource: `${target.resource.kind}/${target.resource.name}` };
  return {};
}

/** An Ingress's routes, one per host and path (the default backend as host `*`, path `/`). */
export function ingressPaths(ingress: K8sObject): IngressPath[] {
  const rows: IngressPath[] = [];
  if (ingress.spec?.defaultBackend) rows.push({ host: "*", path: "/", ...backend(ingress.spec.defaultBackend) });
  for (const rule of (ingress.spec?.rules ?? []) as { host?: string; http?: { paths?: { path?: string; pathType?: string; backend?: Backend }[] } }[]) {
    for (const path of rule.http?.paths ?? []) {
      rows.push({ host: rule.host ?? "*", path: path.path ?? "/", pathType: path.pathType, ...backend(path.backend) });
    }
  }
  return rows;
}

/** The pods (of those given) with a volume from this claim. */
export function podsMounting(pods: K8sObject[], claim: string): K8sObject[] {
  return pods.filter((pod) =>
    ((pod.spec?.volumes ?? []) as { persistentVolumeClaim?: { claimName?: string } }[]).some(
      (volume) => volume.persistentVolumeClaim?.claimName === claim,
    ),
  );
}
