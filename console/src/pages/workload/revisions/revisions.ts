/**
 * A workload's revisions, read as `kubectl rollout history` reads them, and the patch that
 * rolls back to one as `kubectl rollout undo` does.
 *
 * - A Deployment's revisions are the ReplicaSets it owns (owner uid): the number is the
 *   annotation `deployment.kubernetes.io/revision`, the template is the ReplicaSet's minus
 *   the `pod-template-hash` label the Deployment controller adds.
 * - A StatefulSet's or DaemonSet's are the ControllerRevisions it owns: `revision`, and the
 *   template in `data.spec.template` (stored as a strategic-merge patch: `$patch: replace`).
 *
 * The current revision is the highest number (both controllers renumber an old revision to
 * the top when it is rolled back to), or a StatefulSet's `status.updateRevision`.
 * Rolling back replaces `spec.template` whole with a JSON patch: a merge patch would merge
 * maps, keeping labels, annotations and env of the newer template.
 */
import type { K8sObject } from "@/lib/k8s/types";

export const REVISION_ANNOTATION = "deployment.kubernetes.io/revision";
export const CHANGE_CAUSE_ANNOTATION = "kubernetes.io/change-cause";
export const HASH_LABEL = "pod-template-hash";

export interface Container {
  name: string;
  image?: string;
  [key: string]: unknown;
}

export interface PodTemplate {
  metadata?: {
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    [key: string]: unknown;
  };
  spec?: {
    containers?: Container[];
    initContainers?: Container[];
    [key: string]: unknown;
  };
  [key: string]: unknown;
}

export interface Revision {
  /** The ReplicaSet's or ControllerRevision's name. */
  name: string;
  number: number;
  created?: string;
  changeCause?: string;
  images: string[];
  /** The pod template, cleaned as a rollback would apply it. */
  template: PodTemplate;
  current: boolean;
}

export type JsonPatch = { op: "replace"; path: string; value: unknown }[];

function ownedBy(owner: K8sObject, object: K8sObject): boolean {
  return (object.metadata.ownerReferences ?? []).some((reference) => reference.uid === owner.metadata.uid);
}

function imagesOf(template: PodTemplate): string[] {
  return (template.spec?.containers ?? []).map((container) => container.image ?? "").filter(Boolean);
}

/**
 * The template as it would be applied: without the hash label, the `$patch` directive and
 * the `creationTimestamp: null` Kubernetes serializes into stored templates.
 */
export function cleanTemplate(template: PodTemplate | undefined): PodTemplate {
  const copy = structuredClone(template ?? {}) as PodTemplate;
  delete copy.$patch;
  const metadata = copy.metadata;
  if (metadata) {
    if (metadata.creationTimestamp === null) delete metadata.creationTimestamp;
    if (metadata.labels) {
      delete metadata.labels[HASH_LABEL];
      if (Object.keys(metadata.labels).length === 0) delete metadata.labels;
    }
    if (Object.keys(metadata).length === 0) delete copy.metadata;
  }
  return copy;
}

/** Newest first; the highest number is current unless the owner names its own. */
function ordered(revisions: Omit<Revision, "current">[], currentName?: string): Revision[] {
  const sorted = [...revisions].sort((a, b) => b.number - a.number || a.name.localeCompare(b.name));
  const current = currentName && sorted.some((revision) => revision.name === currentName) ? currentName : sorted[0]?.name;
  return sorted.map((revision) => ({ ...revision, current: revision.name === current }));
}

/** A Deployment's revisions from the ReplicaSets of its namespace. */
export function deploymentRevisions(deployment: K8sObject, replicaSets: K8sObject[]): Revision[] {
  return ordered(
    replicaSets
      .filter((replicaSet) => ownedBy(deployment, replicaSet))
      .map((replicaSet) => {
        const annotations = replicaSet.metadata.annotations ?? {};
        const template = cleanTemplate(replicaSet.spec?.template as PodTemplate | undefined);
        return {
          name: replicaSet.metadata.name,
          number: Number.parseInt(annotations[REVISION_ANNOTATION] ?? "", 10) || 0,
          created: replicaSet.metadata.creationTimestamp,
          changeCause: annotations[CHANGE_CAUSE_ANNOTATION],
          images: imagesOf(template),
          template,
        };
      }),
  );
}

/** A StatefulSet's or DaemonSet's revisions from the ControllerRevisions of its namespace. */
export function controllerRevisions(owner: K8sObject, revisions: K8sObject[]): Revision[] {
  const updateRevision = typeof owner.status?.updateRevision === "string" ? (owner.status.updateRevision as string) : undefined;
  return ordered(
    revisions
      .filter((revision) => ownedBy(owner, revision))
      .map((revision) => {
        const template = cleanTemplate(revision.data?.spec?.template as PodTemplate | undefined);
        return {
          name: revision.metadata.name,
          number: Number(revision.revision) || 0,
          created: revision.metadata.creationTimestamp,
          changeCause: revision.metadata.annotations?.[CHANGE_CAUSE_ANNOTATION],
          images: imagesOf(template),
          template,
        };
      }),
    updateRevision,
  );
}

/** The revisions of a workload of this kind; `Deployment` reads ReplicaSets, the rest ControllerRevisions. */
export function revisionsOf(kind: string, owner: K8sObject, candidates: K8sObject[]): Revision[] {
  return kind === "Deployment" ? deploymentRevisions(owner, candidates) : controllerRevisions(owner, candidates);
}

/** Replaces the workload's pod template with the revision's (content type json-patch). */
export function rollbackPatch(revision: Pick<Revision, "template">): JsonPatch {
  return [{ op: "replace", path: "/spec/template", value: revision.template }];
}
