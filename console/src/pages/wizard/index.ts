/**
 * The workload creation wizard: a page of the project area (`workloads/new?kind=…`, which the
 * workload lists' Create buttons open) and a palette command that opens it. It belongs to the
 * `resources` component because it reads the project's ConfigMaps, Secrets and claims from
 * the cached list API.
 */
import type { Extension } from "@/lib/extensions/types";

const C = "resources";

export const wizard: Extension[] = [
  { type: "page", id: "wizard.new", component: C, area: "project", path: "workloads/new", load: () => import("./WizardPage") },
  {
    type: "command",
    id: "wizard.create",
    component: C,
    area: "project",
    title: "wizard:command.create",
    keywords: ["create", "new", "deployment", "statefulset", "daemonset", "job", "cronjob", "workload"],
    run({ navigate, cluster, namespace }) {
      if (!cluster || !namespace) return;
      navigate(`/clusters/${encodeURIComponent(cluster)}/projects/${encodeURIComponent(namespace)}/workloads/new`);
    },
  },
];
