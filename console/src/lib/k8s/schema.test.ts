import { definitionOf, kindSchema, openApiDocument, type OpenApiDocument } from "./schema";

const ref = (name: string) => ({ $ref: `#/definitions/${name}` });

const document: OpenApiDocument = {
  definitions: {
    "io.k8s.api.core.v1.ConfigMap": {
      type: "object",
      "x-kubernetes-group-version-kind": [{ group: "", version: "v1", kind: "ConfigMap" }],
      properties: {
        apiVersion: { type: "string" },
        metadata: ref("io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"),
        data: { type: "object", additionalProperties: { type: "string" } },
      },
    },
    "io.k8s.api.core.v1.Service": {
      type: "object",
      "x-kubernetes-group-version-kind": [{ group: "", version: "v1", kind: "Service" }],
      properties: {
        metadata: ref("io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"),
        spec: ref("io.k8s.api.core.v1.ServiceSpec"),
      },
    },
    "io.k8s.api.core.v1.ServiceSpec": {
      type: "object",
      properties: {
        // A field named like a schema keyword must stay a field.
        type: { type: "string", enum: ["ClusterIP", "NodePort"] },
        ports: { type: "array", items: ref("io.k8s.api.core.v1.ServicePort") },
      },
    },
    "io.k8s.api.core.v1.ServicePort": {
      type: "object",
      properties: {
        port: { type: "integer", format: "int32" },
        targetPort: ref("io.k8s.apimachinery.pkg.util.intstr.IntOrString"),
      },
    },
    "io.k8s.apimachinery.pkg.util.intstr.IntOrString": { type: "string", format: "int-or-string" },
    "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta": {
      type: "object",
      properties: {
        name: { type: "string" },
        ownerReferences: { type: "array", items: ref("io.k8s.apimachinery.pkg.apis.meta.v1.OwnerReference") },
      },
    },
    "io.k8s.apimachinery.pkg.apis.meta.v1.OwnerReference": { type: "object", properties: { name: { type: "string" } } },
    "io.k8s.api.core.v1.ResourceRequirements": {
      type: "object",
      properties: { limits: { type: "object", additionalProperties: ref("io.k8s.apimachinery.pkg.api.resource.Quantity") } },
    },
    "io.k8s.apimachinery.pkg.api.resource.Quantity": { type: "string" },
    "io.k8s.api.apps.v1.Deployment": {
      type: "object",
      "x-kubernetes-group-version-kind": [{ group: "apps", version: "v1", kind: "Deployment" }],
    },
    "io.k8s.apimachinery.pkg.apis.meta.v1.DeleteOptions": {
      type: "object",
      "x-kubernetes-group-version-kind": [
        { group: "", version: "v1", kind: "DeleteOptions" },
        { group: "apps", version: "v1", kind: "DeleteOptions" },
      ],
    },
    "io.example.v1.Tree": {
      type: "object",
      "x-kubernetes-group-version-kind": [{ group: "example.io", version: "v1", kind: "Tree" }],
      properties: { children: { type: "array", items: ref("io.example.v1.Tree") } },
    },
  },
};

describe("definitionOf", () => {
  it("finds a kind by group, version and kind", () => {
    expect(definitionOf(document, { group: "apps", version: "v1", kind: "Deployment" })).toBe("io.k8s.api.apps.v1.Deployment");
    expect(definitionOf(document, { group: "", version: "v1", kind: "ConfigMap" })).toBe("io.k8s.api.core.v1.ConfigMap");
  });
  it("matches any of a definition's kinds", () => {
    expect(definitionOf(document, { group: "apps", version: "v1", kind: "DeleteOptions" })).toBe(
      "io.k8s.apimachinery.pkg.apis.meta.v1.DeleteOptions",
    );
  });
  it("tells a group or version apart", () => {
    expect(definitionOf(document, { group: "", version: "v1", kind: "Deployment" })).toBeUndefined();
    expect(definitionOf(document, { group: "apps", version: "v1beta1", kind: "Deployment" })).toBeUndefined();
  });
});

describe("kindSchema", () => {
  it("keeps the definitions the kind reaches, and only those", () => {
    const schema = kindSchema(document, { group: "", version: "v1", kind: "Service" })!;
    expect(Object.keys(schema.definitions as object).sort()).toEqual([
      "io.k8s.api.core.v1.ServicePort",
      "io.k8s.api.core.v1.ServiceSpec",
      "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta",
      "io.k8s.apimachinery.pkg.apis.meta.v1.OwnerReference",
      "io.k8s.apimachinery.pkg.util.intstr.IntOrString",
    ]);
    expect((schema.properties as Record<string, unknown>).spec).toEqual({ $ref: "#/definitions/io.k8s.api.core.v1.ServiceSpec" });
  });
  it("leaves the document as it was", () => {
    const before = JSON.stringify(document);
    kindSchema(document, { group: "", version: "v1", kind: "Service" });
    expect(JSON.stringify(document)).toBe(before);
  });
  it("spells out int-or-string, and allows null anywhere", () => {
    const definitions = kindSchema(document, { group: "", version: "v1", kind: "Service" })!.definitions as Record<string, Record<string, unknown>>;
    expect(definitions["io.k8s.apimachinery.pkg.util.intstr.IntOrString"]).toEqual({ type: ["integer", "string", "null"] });
    const spec = definitions["io.k8s.api.core.v1.ServiceSpec"].properties as Record<string, Record<string, unknown>>;
    expect(spec.type).toEqual({ type: ["string", "null"], enum: ["ClusterIP", "NodePort"] });
    expect(spec.ports.type).toEqual(["array", "null"]);
  });
  it("lets quantities be numbers", () => {
    const withQuota: OpenApiDocument = {
      definitions: {
        ...document.definitions,
        "io.k8s.api.core.v1.Pod": {
          type: "object",
          "x-kubernetes-group-version-kind": [{ group: "", version: "v1", kind: "Pod" }],
          properties: { resources: ref("io.k8s.api.core.v1.ResourceRequirements") },
        },
      },
    };
    const definitions = kindSchema(withQuota, { group: "", version: "v1", kind: "Pod" })!.definitions as Record<string, unknown>;
    expect(definitions["io.k8s.apimachinery.pkg.api.resource.Quantity"]).toEqual({ type: ["string", "number", "null"] });
  });
  it("keeps a self-referring kind whole", () => {
    const schema = kindSchema(document, { group: "example.io", version: "v1", kind: "Tree" })!;
    expect(Object.keys(schema.definitions as object)).toEqual(["io.example.v1.Tree"]);
  });
  it("has no definitions when the kind needs none", () => {
    const schema = kindSchema(document, { group: "apps", version: "v1", kind: "Deployment" })!;
    expect(schema.definitions).toBeUndefined();
  });
  it("says when the document lacks the kind", () => {
    expect(kindSchema(document, { group: "", version: "v1", kind: "Nothing" })).toBeUndefined();
    expect(kindSchema({}, { group: "", version: "v1", kind: "Pod" })).toBeUndefined();
  });
});

describe("openApiDocument", () => {
  afterEach(() => vi.unstubAllGlobals());

  it("reads a cluster's document once", async () => {
    const fetch = vi.fn(async () => new Response(JSON.stringify(document), { status: 200 }));
    vi.stubGlobal("fetch", fetch);
    await openApiDocument("once");
    await openApiDocument("once");
    expect(fetch).toHaveBeenCalledTimes(1);
    expect(String((fetch.mock.calls[0] as unknown[])[0])).toBe("/clusters/once/openapi/v2");
  });
  it("tries again after a failed read", async () => {
    const fetch = vi
      .fn()
      .mockResolvedValueOnce(new Response("no", { status: 503 }))
      .mockResolvedValueOnce(new Response(JSON.stringify(document), { status: 200 }));
    vi.stubGlobal("fetch", fetch);
    await expect(openApiDocument("flaky")).rejects.toThrow();
    await expect(openApiDocument("flaky")).resolves.toEqual(document);
    expect(fetch).toHaveBeenCalledTimes(2);
  });
});
