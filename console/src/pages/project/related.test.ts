import type { K8sObject } from "@/lib/k8s/types";
import {
  controllerOf,
  endpointRows,
  ingressPaths,
  kindOf,
  mapSelectorText,
  matches,
  ownedBy,
  podsByOwner,
  podsMounting,
  replicaSetsOf,
  selectorText,
  servicesSelecting,
} from "./related";

const object = (name: string, extra: Partial<K8sObject> = {}, meta: Partial<K8sObject["metadata"]> = {}): K8sObject => ({
  ...extra,
  metadata: { name, namespace: "web", ...meta },
});

describe("selectorText", () => {
  it("says labels and expressions as the labelSelector parameter does", () => {
    expect(
      selectorText({
        matchLabels: { app: "web", tier: "front" },
        matchExpressions: [
          { key: "env", operator: "In", values: ["prod", "stage"] },
          { key: "zone", operator: "NotIn", values: ["a"] },
          { key: "canary", operator: "Exists" },
          { key: "legacy", operator: "DoesNotExist" },
        ],
      }),
    ).toBe("app=web,tier=front,env in (prod,stage),zone notin (a),canary,!legacy");
  });
  it("is null when there is nothing to select by", () => {
    expect(selectorText(undefined)).toBeNull();
    expect(selectorText({})).toBeNull();
    expect(mapSelectorText({})).toBeNull();
    expect(mapSelectorText(undefined)).toBeNull();
    expect(mapSelectorText({ app: "web" })).toBe("app=web");
  });
});

describe("matches", () => {
  const labels = { app: "web", env: "prod" };
  it("needs every label and expression", () => {
    expect(matches({ matchLabels: { app: "web" } }, labels)).toBe(true);
    expect(matches({ matchLabels: { app: "api" } }, labels)).toBe(false);
    expect(matches({ matchExpressions: [{ key: "env", operator: "In", values: ["prod"] }] }, labels)).toBe(true);
    expect(matches({ matchExpressions: [{ key: "env", operator: "NotIn", values: ["prod"] }] }, labels)).toBe(false);
    expect(matches({ matchExpressions: [{ key: "team", operator: "NotIn", values: ["x"] }] }, labels)).toBe(true);
    expect(matches({ matchExpressions: [{ key: "app", operator: "Exists" }] }, labels)).toBe(true);
    expect(matches({ matchExpressions: [{ key: "app", operator: "DoesNotExist" }] }, labels)).toBe(false);
    expect(matches({ matchExpressions: [{ key: "env", operator: "In", values: ["prod"] }] }, undefined)).toBe(false);
  });
  it("matches everything when empty, as Kubernetes does", () => {
    expect(matches({}, undefined)).toBe(true);
  });
});

describe("servicesSelecting", () => {
  it("finds the Services whose selector picks the pod, never those without a selector", () => {
    const pod = object("web-1", {}, { labels: { app: "web", version: "2" } });
    const services = [
      object("web", { spec: { selector: { app: "web" } } }),
      object("web-v1", { spec: { selector: { app: "web", version: "1" } } }),
      object("manual", { spec: {} }),
      object("empty", { spec: { selector: {} } }),
    ];
    expect(servicesSelecting(services, pod).map((service) => service.metadata.name)).toEqual(["web"]);
  });
});

describe("owners", () => {
  const owner = (uid: string, kind = "ReplicaSet", controller = true) => ({ apiVersion: "apps/v1", kind, name: `rs-${uid}`, uid, controller });
  const deployment = object("web", { kind: "Deployment" }, { uid: "d1" });
  const sets = [
    object("web-old", {}, { uid: "r1", ownerReferences: [owner("d1", "Deployment")], annotations: { "deployment.kubernetes.io/revision": "1" } }),
    object("web-new", {}, { uid: "r3", ownerReferences: [owner("d1", "Deployment")], annotations: { "deployment.kubernetes.io/revision": "3" } }),
    object("other", {}, { uid: "r9", ownerReferences: [owner("d2", "Deployment")], annotations: { "deployment.kubernetes.io/revision": "7" } }),
    object("orphan", {}, { uid: "r0" }),
  ];

  it("keeps what the owner owns, by uid", () => {
    expect(ownedBy(sets, "d1").map((set) => set.metadata.name)).toEqual(["web-old", "web-new"]);
    expect(ownedBy(sets, undefined)).toEqual([]);
  });
  it("lists a Deployment's ReplicaSets newest revision first", () => {
    expect(replicaSetsOf(deployment, sets).map((set) => set.metadata.name)).toEqual(["web-new", "web-old"]);
  });
  it("groups pods by their controller", () => {
    const pods = [
      object("a", {}, { ownerReferences: [owner("r3")] }),
      object("b", {}, { ownerReferences: [owner("r1")] }),
      object("c", {}, { ownerReferences: [owner("r3")] }),
      object("d"),
    ];
    const found = podsByOwner(pods);
    expect(found.get("r3")?.map((pod) => pod.metadata.name)).toEqual(["a", "c"]);
    expect(found.get("r1")?.map((pod) => pod.metadata.name)).toEqual(["b"]);
    expect(found.size).toBe(2);
  });
  it("prefers the controlling owner", () => {
    const pod = object("a", {}, { ownerReferences: [owner("x", "Node", false), owner("y")] });
    expect(controllerOf(pod)?.uid).toBe("y");
    expect(controllerOf(object("b", {}, { ownerReferences: [owner("z", "Job", false)] }))?.uid).toBe("z");
    expect(controllerOf(object("c"))).toBeUndefined();
  });
  it("knows an owner's kind by apiVersion and kind", () => {
    expect(kindOf("apps/v1", "ReplicaSet")?.resource).toBe("replicasets.apps");
    expect(kindOf("v1", "Pod")?.resource).toBe("pods");
    expect(kindOf("batch/v1", "Job")?.resource).toBe("jobs.batch");
    expect(kindOf("example.com/v1", "Widget")).toBeUndefined();
  });
});

describe("endpointRows", () => {
  it("lists ready addresses first, each with its pod", () => {
    const endpoints = object("web", {
      subsets: [
        {
          addresses: [{ ip: "10.0.0.2", nodeName: "n1", targetRef: { kind: "Pod", name: "web-2" } }],
          notReadyAddresses: [{ ip: "10.0.0.1", nodeName: "n1", targetRef: { kind: "Pod", name: "web-1" } }],
          ports: [{ name: "http", port: 8080, protocol: "TCP" }],
        },
        { addresses: [{ ip: "192.168.1.5" }], ports: [{ port: 53, protocol: "UDP" }] },
      ],
    });
    expect(endpointRows(endpoints)).toEqual([
      { ip: "10.0.0.2", ready: true, pod: "web-2", node: "n1", ports: "8080/TCP" },
      { ip: "192.168.1.5", ready: true, pod: undefined, node: undefined, ports: "53/UDP" },
      { ip: "10.0.0.1", ready: false, pod: "web-1", node: "n1", ports: "8080/TCP" },
    ]);
  });
  it("is empty without subsets or an object", () => {
    expect(endpointRows(object("web"))).toEqual([]);
    expect(endpointRows(undefined)).toEqual([]);
  });
});

describe("ingressPaths", () => {
  it("flattens rules into host and path to service and port", () => {
    const ingress = object("web", {
      spec: {
        defaultBackend: { service: { name: "fallback", port: { number: 80 } } },
        rules: [
          {
            host: "shop.example.com",
            http: {
              paths: [
                { path: "/", pathType: "Prefix", backend: { service: { name: "web", port: { name: "http" } } } },
                { path: "/static", pathType: "Prefix", backend: { resource: { kind: "Bucket", name: "assets" } } },
              ],
            },
          },
          { http: { paths: [{ backend: { service: { name: "any", port: { number: 8080 } } } }] } },
        ],
      },
    });
    expect(ingressPaths(ingress)).toEqual([
      { host: "*", path: "/", service: "fallback", port: "80" },
      { host: "shop.example.com", path: "/", pathType: "Prefix", service: "web", port: "http" },
      { host: "shop.example.com", path: "/static", pathType: "Prefix", resource: "Bucket/assets" },
      { host: "*", path: "/", pathType: undefined, service: "any", port: "8080" },
    ]);
  });
});

describe("podsMounting", () => {
  it("finds the pods with a volume from the claim", () => {
    const pods = [
      object("a", { spec: { volumes: [{ name: "data", persistentVolumeClaim: { claimName: "data" } }] } }),
      object("b", { spec: { volumes: [{ name: "config", configMap: { name: "data" } }] } }),
      object("c", { spec: {} }),
    ];
    expect(podsMounting(pods, "data").map((pod) => pod.metadata.name)).toEqual(["a"]);
  });
});
