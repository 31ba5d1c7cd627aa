import type { K8sObject } from "@/lib/k8s/types";
import { cleanTemplate, controllerRevisions, deploymentRevisions, revisionsOf, rollbackPatch } from "./revisions";

const deployment: K8sObject = {
  kind: "Deployment",
  metadata: { name: "web", namespace: "shop", uid: "d-1" },
  spec: { template: { metadata: { labels: { app: "web" } }, spec: { containers: [{ name: "web", image: "web:3" }] } } },
};

function replicaSet(name: string, revision: string, image: string, owner = "d-1", extra: Record<string, string> = {}): K8sObject {
  return {
    kind: "ReplicaSet",
    metadata: {
      name,
      namespace: "shop",
      creationTimestamp: "2026-01-01T00:00:00Z",
      annotations: { "deployment.kubernetes.io/revision": revision, ...extra },
      ownerReferences: [{ apiVersion: "apps/v1", kind: "Deployment", name: "web", uid: owner, controller: true }],
    },
    spec: {
      template: {
        metadata: { labels: { app: "web", "pod-template-hash": `${name}-hash` }, annotations: { note: name } },
        spec: { containers: [{ name: "web", image }] },
      },
    },
  };
}

describe("deploymentRevisions", () => {
  const sets = [
    replicaSet("web-a", "9", "web:1"),
    replicaSet("web-b", "10", "web:3", "d-1", { "kubernetes.io/change-cause": "kubectl set image" }),
    replicaSet("web-c", "2", "web:0"),
    replicaSet("other", "11", "other:1", "d-2"),
  ];

  it("keeps only the ReplicaSets the Deployment owns, newest revision first (numerically)", () => {
    expect(deploymentRevisions(deployment, sets).map((revision) => revision.number)).toEqual([10, 9, 2]);
  });

  it("marks the highest revision current and reads change cause and images", () => {
    const [newest, older] = deploymentRevisions(deployment, sets);
    expect(newest).toMatchObject({ name: "web-b", current: true, changeCause: "kubectl set image", images: ["web:3"] });
    expect(older).toMatchObject({ name: "web-a", current: false, changeCause: undefined, images: ["web:1"] });
  });

  it("takes the pod-template-hash label out of the template", () => {
    const [, older] = deploymentRevisions(deployment, sets);
    expect(older.template.metadata?.labels).toEqual({ app: "web" });
  });

  it("reads a missing or bad revision annotation as 0", () => {
    const odd = replicaSet("web-x", "", "web:9");
    expect(deploymentRevisions(deployment, [odd])[0].number).toBe(0);
  });
});

describe("rollbackPatch", () => {
  it("replaces the whole template with the ReplicaSet's, without the hash label", () => {
    const [, older] = deploymentRevisions(deployment, [replicaSet("web-b", "2", "web:2"), replicaSet("web-a", "1", "web:1")]);
    expect(rollbackPatch(older)).toEqual([
      {
        op: "replace",
        path: "/spec/template",
        value: {
          metadata: { labels: { app: "web" }, annotations: { note: "web-a" } },
          spec: { containers: [{ name: "web", image: "web:1" }] },
        },
      },
    ]);
  });

  it("does not change the ReplicaSet it was read from", () => {
    const source = replicaSet("web-a", "1", "web:1");
    rollbackPatch(deploymentRevisions(deployment, [source])[0]);
    expect(source.spec.template.metadata.labels["pod-template-hash"]).toBe("web-a-hash");
  });
});

describe("cleanTemplate", () => {
  it("drops $patch, a null creationTimestamp and labels left empty", () => {
    expect(
      cleanTemplate({
        $patch: "replace",
        metadata: { creationTimestamp: null, labels: { "pod-template-hash": "x" } },
        spec: { containers: [] },
      }),
    ).toEqual({ spec: { containers: [] } });
  });
});

describe("controllerRevisions", () => {
  const statefulSet: K8sObject = {
    kind: "StatefulSet",
    metadata: { name: "db", namespace: "shop", uid: "s-1" },
    status: { updateRevision: "db-2" },
  };
  const revision = (name: string, number: number, image: string): K8sObject => ({
    kind: "ControllerRevision",
    metadata: { name, ownerReferences: [{ apiVersion: "apps/v1", kind: "StatefulSet", name: "db", uid: "s-1" }] },
    revision: number,
    data: {
      spec: {
        template: {
          $patch: "replace",
          metadata: { creationTimestamp: null, labels: { app: "db" } },
          spec: { containers: [{ name: "db", image }] },
        },
      },
    },
  });

  it("orders by revision and strips the stored patch directive", () => {
    const revisions = controllerRevisions(statefulSet, [revision("db-1", 1, "db:1"), revision("db-3", 3, "db:3"), revision("db-2", 2, "db:2")]);
    expect(revisions.map((found) => found.number)).toEqual([3, 2, 1]);
    expect(revisions[2].template).toEqual({ metadata: { labels: { app: "db" } }, spec: { containers: [{ name: "db", image: "db:1" }] } });
  });

  it("takes a StatefulSet's updateRevision as current", () => {
    const revisions = controllerRevisions(statefulSet, [revision("db-1", 1, "db:1"), revision("db-3", 3, "db:3"), revision("db-2", 2, "db:2")]);
    expect(revisions.filter((found) => found.current).map((found) => found.name)).toEqual(["db-2"]);
  });

  it("falls back to the highest revision (a DaemonSet names none)", () => {
    const daemonSet = { ...statefulSet, kind: "DaemonSet", status: {} };
    const revisions = revisionsOf("DaemonSet", daemonSet, [revision("db-1", 1, "db:1"), revision("db-3", 3, "db:3")]);
    expect(revisions.find((found) => found.current)?.name).toBe("db-3");
  });
});
