/**
 * The containers of a pod a user can read logs of or open a shell in, and which one to
 * start with: the one the pod names (`kubectl.kubernetes.io/default-container`, as kubectl
 * picks), else its first regular container.
 */
import { useState } from "react";
import type { K8sObject } from "@/lib/k8s/types";

export const DEFAULT_CONTAINER_ANNOTATION = "kubectl.kubernetes.io/default-container";

export type ContainerRole = "init" | "regular" | "ephemeral";

export interface ContainerChoice {
  name: string;
  role: ContainerRole;
}

function names(list: unknown): string[] {
  return Array.isArray(list) ? list.map((container: { name?: unknown }) => String(container.name ?? "")).filter(Boolean) : [];
}

/** Init containers first (they run first), then the regular ones, then ephemeral ones. */
export function containersOf(pod: K8sObject): ContainerChoice[] {
  return [
    ...names(pod.spec?.initContainers).map((name) => ({ name, role: "init" as const })),
    ...names(pod.spec?.containers).map((name) => ({ name, role: "regular" as const })),
    ...names(pod.spec?.ephemeralContainers).map((name) => ({ name, role: "ephemeral" as const })),
  ];
}

export function defaultContainer(pod: K8sObject, choices = containersOf(pod)): string {
  const named = pod.metadata.annotations?.[DEFAULT_CONTAINER_ANNOTATION];
  if (named && choices.some((choice) => choice.name === named)) return named;
  return (choices.find((choice) => choice.role === "regular") ?? choices[0])?.name ?? "";
}

/** The container a tab shows: the one the user picked while the pod still has it, else the default. */
export function useContainer(pod: K8sObject, choices: ContainerChoice[]): [string, (name: string) => void] {
  const [picked, setPicked] = useState<string | null>(null);
  return [picked && choices.some((choice) => choice.name === picked) ? picked : defaultContainer(pod, choices), setPicked];
}
