/**
 * The project's ConfigMaps, Secrets and PersistentVolumeClaims, which several steps offer to
 * pick from (environment variables, volumes, the image pull secret). They are read once for
 * the whole wizard from the cached list API, live, and shared through a context.
 */
import { createContext, useContext, type ReactNode } from "react";
import { Alert } from "@patternfly/react-core";
import { useTranslation } from "react-i18next";
import { describe } from "@/lib/api/errors";
import { useResourcePage } from "@/lib/api/hooks";
import { ConfigMap, PersistentVolumeClaim, Secret } from "@/lib/k8s/kinds";
import type { K8sObject } from "@/lib/k8s/types";

interface Listed {
  items: K8sObject[];
  error: unknown;
}

export interface ProjectObjectsValue {
  configMaps: Listed;
  secrets: Listed;
  claims: Listed;
}

const none: Listed = { items: [], error: null };
const ProjectObjectsContext = createContext<ProjectObjectsValue>({ configMaps: none, secrets: none, claims: none });

export function ProjectObjects({ cluster, namespace, children }: { cluster: string; namespace: string; children: ReactNode }) {
  const query = { cluster, namespace, limit: 500 };
  const configMaps = useResourcePage(ConfigMap, query);
  const secrets = useResourcePage(Secret, query);
  const claims = useResourcePage(PersistentVolumeClaim, query);
  const listed = (result: typeof configMaps): Listed => ({ items: result.data?.items ?? [], error: result.error });
  return (
    <ProjectObjectsContext.Provider value={{ configMaps: listed(configMaps), secrets: listed(secrets), claims: listed(claims) }}>
      {children}
    </ProjectObjectsContext.Provider>
  );
}

export function useProjectObjects(): ProjectObjectsValue {
  return useContext(ProjectObjectsContext);
}

/** The keys of a ConfigMap (text and binary) or a Secret. */
export function keysOf(object: K8sObject | undefined): string[] {
  if (!object) return [];
  const data = (object.data ?? {}) as Record<string, unknown>;
  const binary = (object.binaryData ?? {}) as Record<string, unknown>;
  return [...Object.keys(data), ...Object.keys(binary)].sort();
}

export function names(listed: Listed): string[] {
  return listed.items.map((object) => object.metadata.name).sort();
}

/** Why a list could not be read, in the server's words. */
export function ListError({ listed }: { listed: Listed }) {
  const { t } = useTranslation();
  if (!listed.error) return null;
  return (
    <Alert variant="warning" isInline isPlain title={t("wizard:listError")}>
      {describe(listed.error)}
    </Alert>
  );
}
