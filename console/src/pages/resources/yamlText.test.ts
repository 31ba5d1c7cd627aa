import { ConfigMap, CronJob, Deployment, Namespace, RoleBinding } from "@/lib/k8s/kinds";
import type { K8sObject } from "@/lib/k8s/types";
import { template } from "./templates";
import { parseObject, toYaml } from "./yamlText";

describe("toYaml", () => {
  const object = {
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: { name: "settings", managedFields: [{ manager: "kubectl" }], annotations: { long: "x".repeat(200) } },
    data: { port: "8080", enabled: "true" },
  } as K8sObject;

  it("leaves out the managed fields", () => {
    expect(toYaml(object)).not.toContain("managedFields");
  });
  it("reads back as the same object, strings that look like numbers included", () => {
    const parsed = parseObject(toYaml(object));
    expect(parsed).toEqual({ ok: true, object: { ...object, metadata: { name: "settings", annotations: object.metadata.annotations } } });
  });
  it("keeps long values on one line", () => {
    expect(toYaml(object).split("\n").some((line) => line.includes("x".repeat(200)))).toBe(true);
  });
});

describe("parseObject", () => {
  it("says on which line the YAML breaks", () => {
    const parsed = parseObject("kind: ConfigMap\nmetadata:\n  name: a\n  labels: {x: 1\n");
    expect(parsed).toMatchObject({ ok: false, problem: "syntax" });
    expect(parsed.ok === false && parsed.problem === "syntax" && parsed.line).toBeGreaterThanOrEqual(4);
  });
  it("refuses duplicate keys", () => {
    expect(parseObject("kind: A\nkind: B\n")).toMatchObject({ ok: false, problem: "syntax", line: 2 });
  });
  it("takes one document, with or without separators", () => {
    expect(parseObject("---\nkind: ConfigMap\nmetadata: {name: a}\n---\n")).toMatchObject({ ok: true, object: { kind: "ConfigMap" } });
    expect(parseObject("kind: A\n---\nkind: B\n")).toEqual({ ok: false, problem: "several" });
  });
  it("wants a mapping with mapping metadata", () => {
    expect(parseObject("")).toEqual({ ok: false, problem: "notAnObject" });
    expect(parseObject("just words")).toEqual({ ok: false, problem: "notAnObject" });
    expect(parseObject("- a\n- b\n")).toEqual({ ok: false, problem: "notAnObject" });
    expect(parseObject("kind: A\nmetadata: [a]\n")).toEqual({ ok: false, problem: "notAnObject" });
    expect(parseObject("kind: A\n")).toEqual({ ok: true, object: { kind: "A", metadata: {} } });
  });
});

describe("template", () => {
  it("starts a kind in the project's namespace, with an empty name", () => {
    expect(template(ConfigMap, "web")).toEqual({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "", namespace: "web" }, data: { key: "value" } });
  });
  it("names default outside a project, and no namespace for cluster kinds", () => {
    expect(template(ConfigMap).metadata.namespace).toBe("default");
    expect(template(Namespace)).toEqual({ apiVersion: "v1", kind: "Namespace", metadata: { name: "" } });
  });
  it("fills in the shape of common kinds", () => {
    expect(template(CronJob, "web").spec.jobTemplate.spec.template.spec.containers).toHaveLength(1);
    expect(template(RoleBinding, "web").subjects).toEqual([{ kind: "ServiceAccount", name: "default", namespace: "web" }]);
  });
  it("gives other kinds their metadata alone", () => {
    expect(template(Deployment, "web")).toEqual({ apiVersion: "apps/v1", kind: "Deployment", metadata: { name: "", namespace: "web" } });
  });
  it("writes YAML that reads back", () => {
    expect(parseObject(toYaml(template(CronJob, "web")))).toEqual({ ok: true, object: template(CronJob, "web") });
  });
});
