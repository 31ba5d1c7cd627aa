/**
 * What the create page starts from: a new object of the kind with a small, valid-looking
 * body for the kinds people most often write by hand, so the YAML shows the shape to fill in
 * (the schema's completion does the rest). Other kinds start from their metadata alone.
 */
import type { Kind } from "@/lib/k8s/kinds";
import type { K8sObject } from "@/lib/k8s/types";

type Body = Omit<K8sObject, "apiVersion" | "kind" | "metadata">;

const RBAC = "rbac.authorization.k8s.io";

const podTemplate = () => ({
  spec: {
    restartPolicy: "Never",
    containers: [{ name: "main", image: "busybox:1.36", command: ["sh", "-c", "echo hello"] }],
  },
});

const rules = () => ({ rules: [{ apiGroups: [""], resources: ["pods"], verbs: ["get", "list", "watch"] }] });

const binding = (roleKind: string, namespace?: string) => ({
  roleRef: { apiGroup: RBAC, kind: roleKind, name: "" },
  subjects: [{ kind: "ServiceAccount", name: "default", namespace: namespace ?? "default" }],
});

/** Bodies by `<apiVersion>/<kind>`; a namespace is passed to those that name one inside. */
const BODIES: Record<string, (namespace?: string) => Body> = {
  "v1/ConfigMap": () => ({ data: { key: "value" } }),
  "v1/Secret": () => ({ type: "Opaque", stringData: { key: "value" } }),
  "v1/Service": () => ({
    spec: {
      type: "ClusterIP",
      selector: { app: "web" },
      ports: [{ name: "http", protocol: "TCP", port: 80, targetPort: 8080 }],
    },
  }),
  "networking.k8s.io/v1/Ingress": () => ({
    spec: {
      rules: [
        {
          host: "example.com",
          http: { paths: [{ path: "/", pathType: "Prefix", backend: { service: { name: "web", port: { number: 80 } } } }] },
        },
      ],
    },
  }),
  "v1/PersistentVolumeClaim": () => ({
    spec: { accessModes: ["ReadWriteOnce"], resources: { requests: { storage: "1Gi" } } },
  }),
  "batch/v1/Job": () => ({ spec: { backoffLimit: 4, template: podTemplate() } }),
  "batch/v1/CronJob": () => ({ spec: { schedule: "*/5 * * * *", jobTemplate: { spec: { template: podTemplate() } } } }),
  [`${RBAC}/v1/Role`]: rules,
  [`${RBAC}/v1/ClusterRole`]: rules,
  [`${RBAC}/v1/RoleBinding`]: (namespace) => binding("Role", namespace),
  [`${RBAC}/v1/ClusterRoleBinding`]: (namespace) => binding("ClusterRole", namespace),
  "v1/ResourceQuota": () => ({
    spec: { hard: { "requests.cpu": "2", "requests.memory": "4Gi", "limits.cpu": "4", "limits.memory": "8Gi", pods: "20" } },
  }),
  "v1/LimitRange": () => ({
    spec: {
      limits: [
        { type: "Container", default: { cpu: "500m", memory: "512Mi" }, defaultRequest: { cpu: "100m", memory: "128Mi" } },
      ],
    },
  }),
};

/**
 * A new object of `kind`. A namespaced kind is put in `namespace` (the project's); outside a
 * project it names `default`, as kubectl would, for the user to change.
 */
export function template(kind: Kind, namespace?: string): K8sObject {
  const where = kind.namespaced ? (namespace ?? "default") : undefined;
  const body = BODIES[`${kind.apiVersion}/${kind.kind}`]?.(where) ?? {};
  return { ...kind.blank(where), ...body };
}
