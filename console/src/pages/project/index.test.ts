import en from "@/lib/i18n/locales/en/project.json";
import vi from "@/lib/i18n/locales/vi/project.json";
import zh from "@/lib/i18n/locales/zh/project.json";
import type { PageExtension, ResourceViewExtension } from "@/lib/extensions/types";
import { project } from "./index";

type Tree = { [key: string]: string | Tree };

function keys(tree: Tree, prefix = ""): string[] {
  return Object.entries(tree).flatMap(([key, value]) => (typeof value === "string" ? [prefix + key] : keys(value, `${prefix}${key}.`)));
}

function has(tree: Tree, key: string): boolean {
  const found = key.split(".").reduce<string | Tree | undefined>((at, part) => (typeof at === "object" ? at[part] : undefined), tree);
  return typeof found === "string";
}

const pages = project.filter((extension): extension is PageExtension => extension.type === "page");
const views = project.filter((extension): extension is ResourceViewExtension => extension.type === "resource-view");

describe("the project area's extensions", () => {
  it("have unique ids, all in the project area", () => {
    const ids = project.map((extension) => extension.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(pages.every((page) => page.area === "project")).toBe(true);
  });

  it("put each kind's list under its resource name, so detail pages line up", () => {
    const paths = Object.fromEntries(pages.map((page) => [page.id, page.path]));
    expect(paths).toMatchObject({
      "project.overview": "overview",
      "project.deployments": "deployments.apps",
      "project.pods": "pods",
      "project.services": "services",
      "project.ingresses": "ingresses.networking.k8s.io",
      "project.persistentvolumeclaims": "persistentvolumeclaims",
      "project.events": "events",
      "project.members": "members",
      "project.roles": "roles.rbac.authorization.k8s.io",
      "project.quotas": "quotas",
    });
  });

  it("name every navigation entry and section in all three languages", () => {
    const labels = pages.flatMap((page) => (page.nav ? [page.nav.label, page.nav.section ?? ""] : [])).filter(Boolean);
    for (const label of labels) {
      const key = label.replace(/^project:/, "");
      for (const strings of [en, zh, vi]) expect(has(strings, key), label).toBe(true);
    }
  });

  it("send workloads to the wizard to be created", () => {
    const created = Object.fromEntries(views.filter((view) => view.createPath).map((view) => [view.resource, view.createPath]));
    expect(created).toEqual({
      "deployments.apps": "workloads/new?kind=Deployment",
      "statefulsets.apps": "workloads/new?kind=StatefulSet",
      "daemonsets.apps": "workloads/new?kind=DaemonSet",
      "jobs.batch": "workloads/new?kind=Job",
      "cronjobs.batch": "workloads/new?kind=CronJob",
    });
  });

  it("give each kind they show columns and an overview that loads", async () => {
    expect(views.map((view) => view.resource).sort()).toEqual(
      [
        "configmaps", "cronjobs.batch", "daemonsets.apps", "deployments.apps", "events", "ingresses.networking.k8s.io",
        "jobs.batch", "persistentvolumeclaims", "pods", "replicasets.apps", "resourcequotas",
        "roles.rbac.authorization.k8s.io", "secrets", "serviceaccounts", "services", "statefulsets.apps",
      ].sort(),
    );
    for (const view of views) {
      expect(view.columns?.((key) => key).length, view.resource).toBeGreaterThan(0);
      const loaded = await view.overview!();
      expect(loaded.default, view.resource).toBeTypeOf("function");
    }
  });

  it("have the same words in every language", () => {
    expect(keys(zh).sort()).toEqual(keys(en).sort());
    expect(keys(vi).sort()).toEqual(keys(en).sort());
  });
});
