/**
 * One `Kind` per Kubernetes kind the console knows by name: where it lives in the API and
 * how the cached list API and the watch socket name it. Kinds found at run time (CRDs and
 * anything else a cluster serves) are made with `Kind.discovered`.
 */
import type { K8sObject } from "./types";

export interface KindSpec {
  kind: string;
  group: string;
  version: string;
  plural: string;
  namespaced: boolean;
}

export class Kind<T extends K8sObject = K8sObject> {
  readonly kind: string;
  readonly group: string;
  readonly version: string;
  readonly plural: string;
  readonly namespaced: boolean;
  declare readonly _object?: T;

  constructor(spec: KindSpec) {
    this.kind = spec.kind;
    this.group = spec.group;
    this.version = spec.version;
    this.plural = spec.plural;
    this.namespaced = spec.namespaced;
  }

  static discovered(spec: KindSpec): Kind {
    return known(spec.group, spec.plural) ?? new Kind(spec);
  }

  get apiVersion(): string {
    return this.group ? `${this.group}/${this.version}` : this.version;
  }

  /** `pods`, `deployments.apps`: how the cached API and the console's URLs name it. */
  get resource(): string {
    return this.group ? `${this.plural}.${this.group}` : this.plural;
  }

  /** The Kubernetes path of the collection, or of one object, in a cluster. */
  path(cluster: string, namespace?: string, name?: string, subresource?: string): string {
    const base = this.group ? `/apis/${this.group}/${this.version}` : `/api/${this.version}`;
    let path = `/clusters/${encodeURIComponent(cluster)}${base}`;
    if (this.namespaced && namespace) path += `/namespaces/${encodeURIComponent(namespace)}`;
    path += `/${this.plural}`;
    if (name) path += `/${encodeURIComponent(name)}`;
    if (subresource) path += `/${subresource}`;
    return path;
  }

  /** The cached list API's path: a page of the collection, or one object. */
  listPath(cluster: string, namespace?: string, name?: string): string {
    let path = `/kapis/resources.atoll.io/v1alpha1/clusters/${encodeURIComponent(cluster)}`;
    if (this.namespaced && namespace) path += `/namespaces/${encodeURIComponent(namespace)}`;
    path += `/${this.resource}`;
    if (name) path += `/${encodeURIComponent(name)}`;
    return path;
  }

  /** A new object of this kind, ready to be filled in. */
  blank(namespace?: string): T {
    const metadata: K8sObject["metadata"] = { name: "" };
    if (this.namespaced && namespace) metadata.namespace = namespace;
    return { apiVersion: this.apiVersion, kind: this.kind, metadata } as T;
  }
}

const k = (kind: string, group: string, version: string, plural: string, namespaced = true) =>
  new Kind({ kind, group, version, plural, namespaced });

export const Pod = k("Pod", "", "v1", "pods");
export const Service = k("Service", "", "v1", "services");
export const Endpoints = k("Endpoints", "", "v1", "endpoints");
export const ConfigMap = k("ConfigMap", "", "v1", "configmaps");
export const Secret = k("Secret", "", "v1", "secrets");
export const PersistentVolumeClaim = k("PersistentVolumeClaim", "", "v1", "persistentvolumeclaims");
export const PersistentVolume = k("PersistentVolume", "", "v1", "persistentvolumes", false);
export const Event = k("Event", "", "v1", "events");
export const ServiceAccount = k("ServiceAccount", "", "v1", "serviceaccounts");
export const ResourceQuota = k("ResourceQuota", "", "v1", "resourcequotas");
export const LimitRange = k("LimitRange", "", "v1", "limitranges");
export const Namespace = k("Namespace", "", "v1", "namespaces", false);
export const Node = k("Node", "", "v1", "nodes", false);
export const Deployment = k("Deployment", "apps", "v1", "deployments");
export const ReplicaSet = k("ReplicaSet", "apps", "v1", "replicasets");
export const StatefulSet = k("StatefulSet", "apps", "v1", "statefulsets");
export const DaemonSet = k("DaemonSet", "apps", "v1", "daemonsets");
export const ControllerRevision = k("ControllerRevision", "apps", "v1", "controllerrevisions");
export const Job = k("Job", "batch", "v1", "jobs");
export const CronJob = k("CronJob", "batch", "v1", "cronjobs");
export const Ingress = k("Ingress", "networking.k8s.io", "v1", "ingresses");
export const StorageClass = k("StorageClass", "storage.k8s.io", "v1", "storageclasses", false);
export const CustomResourceDefinition = k(
  "CustomResourceDefinition",
  "apiextensions.k8s.io",
  "v1",
  "customresourcedefinitions",
  false,
);
export const Role = k("Role", "rbac.authorization.k8s.io", "v1", "roles");
export const RoleBinding = k("RoleBinding", "rbac.authorization.k8s.io", "v1", "rolebindings");
export const ClusterRole = k("ClusterRole", "rbac.authorization.k8s.io", "v1", "clusterroles", false);
export const ClusterRoleBinding = k(
  "ClusterRoleBinding",
  "rbac.authorization.k8s.io",
  "v1",
  "clusterrolebindings",
  false,
);
// Atoll's own kinds.
export const User = k("User", "iam.atoll.io", "v1alpha1", "users", false);
export const Group = k("Group", "iam.atoll.io", "v1alpha1", "groups", false);
export const GlobalRole = k("GlobalRole", "iam.atoll.io", "v1alpha1", "globalroles", false);
export const GlobalRoleBinding = k("GlobalRoleBinding", "iam.atoll.io", "v1alpha1", "globalrolebindings", false);
export const WorkspaceRole = k("WorkspaceRole", "iam.atoll.io", "v1alpha1", "workspaceroles", false);
export const WorkspaceRoleBinding = k(
  "WorkspaceRoleBinding",
  "iam.atoll.io",
  "v1alpha1",
  "workspacerolebindings",
  false,
);
export const GroupBinding = k("GroupBinding", "iam.atoll.io", "v1alpha1", "groupbindings", false);
export const LoginRecord = k("LoginRecord", "iam.atoll.io", "v1alpha1", "loginrecords", false);
export const Workspace = k("Workspace", "tenant.atoll.io", "v1alpha1", "workspaces", false);
export const Cluster = k("Cluster", "cluster.atoll.io", "v1alpha1", "clusters", false);

export const KINDS: Kind[] = [
  Pod, Service, Endpoints, ConfigMap, Secret, PersistentVolumeClaim, PersistentVolume, Event,
  ServiceAccount, ResourceQuota, LimitRange, Namespace, Node, Deployment, ReplicaSet, StatefulSet,
  DaemonSet, ControllerRevision, Job, CronJob, Ingress, StorageClass, CustomResourceDefinition,
  Role, RoleBinding, ClusterRole, ClusterRoleBinding, User, Group, GlobalRole, GlobalRoleBinding, WorkspaceRole,
  WorkspaceRoleBinding, GroupBinding, LoginRecord, Workspace, Cluster,
];

/** A known kind by its group and plural, or by `resource` (`deployments.apps`). */
export function known(group: string, plural: string): Kind | undefined {
  return KINDS.find((kind) => kind.group === group && kind.plural === plural);
}

export function byResource(resource: string): Kind | undefined {
  const dot = resource.indexOf(".");
  return dot < 0 ? known("", resource) : known(resource.slice(dot + 1), resource.slice(0, dot));
}
