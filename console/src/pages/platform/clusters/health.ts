/**
 * A cluster's health as its Cluster object tells it: the `Ready` condition the health
 * controller writes every probe (reason and message say why not), and which cluster is the
 * host (the one that cannot be removed).
 */
import type { StatusWord } from "@/lib/k8s/status";
import { condition } from "@/lib/k8s/status";
import type { K8sObject } from "@/lib/k8s/types";

export interface ClusterHealth extends StatusWord {
  reason?: string;
  message?: string;
  since?: string;
}

export function clusterHealth(cluster: K8sObject): ClusterHealth {
  const ready = condition(cluster, "Ready");
  if (!ready) return { text: "Unknown", health: "unknown" };
  const detail = { reason: ready.reason, message: ready.message, since: ready.lastTransitionTime };
  if (ready.status === "True") return { text: "Ready", health: "ok", ...detail };
  if (ready.status === "False") return { text: "NotReady", health: "error", ...detail };
  return { text: "Unknown", health: "unknown", ...detail };
}

export function isHost(cluster: K8sObject): boolean {
  return cluster.metadata.name === "host" || cluster.metadata.labels?.["cluster-role.atoll.io/host"] !== undefined;
}

export const CLUSTERS_API = "/kapis/cluster.atoll.io/v1alpha1/clusters";
