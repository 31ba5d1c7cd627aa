"""``/openapi/v2``: the Swagger document, its gnostic protobuf form, and what kubectl does with it.

The protobuf is decoded here with a small decoder written from gnostic's ``OpenAPIv2.proto``
(independent of the encoder's tables), turned back into Swagger JSON and compared with the
JSON form. The structural checks mirror kube-openapi's ``pkg/util/proto`` parser, which fails
the whole document (and so every ``kubectl apply``) on one schema it cannot read.
"""

from __future__ import annotations

import json
import struct
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from tests.conftest import KUBECTL, ClusterProcess

from atoll.embedded.apiserver import openapi
from atoll.embedded.apiserver.crdserving import resources_of
from atoll.embedded.apiserver.openapi.custom import custom_definition
from atoll.embedded.apiserver.resources import Catalog, Resource

GVK = "x-kubernetes-group-version-kind"

# --- a protobuf wire decoder -------------------------------------------------------------

Field = tuple[int, int, Any]  # (number, wire type, int | bytes)


def _varint(data: bytes, pos: int) -> tuple[int, int]:
    shift = result = 0
    while True:
        byte = data[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            return result, pos


def fields(data: bytes) -> Iterator[Field]:
    pos = 0
    while pos < len(data):
        key, pos = _varint(data, pos)
        number, wire = key >> 3, key & 7
        if wire == 0:
            value, pos = _varint(data, pos)
            yield number, wire, value
        elif wire == 1:
            yield number, wire, struct.unpack("<d", data[pos : pos + 8])[0]
            pos += 8
        elif wire == 2:
            size, pos = _varint(data, pos)
            yield number, wire, data[pos : pos + size]
            pos += size
        else:  # pragma: no cover - the encoder never writes other wire types
            raise AssertionError(f"unexpected wire type {wire}")
    assert pos == len(data)


def first(data: bytes, number: int) -> Any:
    return next((v for n, _, v in fields(data) if n == number), None)


def every(data: bytes, number: int) -> list[Any]:
    return [v for n, _, v in fields(data) if n == number]


def named(data: bytes) -> tuple[str, bytes]:
    return first(data, 1).decode(), first(data, 2) or b""


def any_value(data: bytes) -> Any:
    return json.loads(first(data, 2).decode())  # Any.yaml; the encoder writes JSON (= YAML)


# gnostic Schema: number -> (JSON key, how)
SCHEMA = {
    1: ("$ref", "str"),
    2: ("format", "str"),
    3: ("title", "str"),
    4: ("description", "str"),
    5: ("default", "any"),
    6: ("multipleOf", "num"),
    7: ("maximum", "num"),
    8: ("exclusiveMaximum", "bool"),
    9: ("minimum", "num"),
    10: ("exclusiveMinimum", "bool"),
    11: ("maxLength", "int"),
    12: ("minLength", "int"),
    13: ("pattern", "str"),
    14: ("maxItems", "int"),
    15: ("minItems", "int"),
    16: ("uniqueItems", "bool"),
    17: ("maxProperties", "int"),
    18: ("minProperties", "int"),
    19: ("required", "strs"),
    20: ("enum", "anys"),
}


def schema_from_pb(data: bytes) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for number, _, value in fields(data):
        if number in SCHEMA:
            key, how = SCHEMA[number]
            if how == "str":
                out[key] = value.decode()
            elif how == "any":
                out[key] = any_value(value)
            elif how in ("num", "int"):
                out[key] = value
            elif how == "bool":
                out[key] = bool(value)
            elif how == "strs":
                out.setdefault(key, []).append(value.decode())
            else:
                out.setdefault(key, []).append(any_value(value))
        elif number == 21:  # AdditionalPropertiesItem: schema = 1 | boolean = 2
            inner = next(fields(value))
            out["additionalProperties"] = (
                schema_from_pb(inner[2]) if inner[0] == 1 else bool(inner[2])
            )
        elif number == 22:  # TypeItem.value
            types = [v.decode() for v in every(value, 1)]
            out["type"] = types[0] if len(types) == 1 else types
        elif number == 23:  # ItemsItem.schema
            items = [schema_from_pb(v) for v in every(value, 1)]
            out["items"] = items[0] if len(items) == 1 else items
        elif number == 25:  # Properties.additional_properties (NamedSchema)
            out["properties"] = {
                name: schema_from_pb(sub) for name, sub in map(named, every(value, 1))
            }
        elif number == 31:  # vendor_extension (NamedAny)
            name, any_bytes = named(value)
            out[name] = any_value(any_bytes)
        else:  # pragma: no cover
            raise AssertionError(f"unexpected Schema field {number}")
    return out


def normalized(schema: Any) -> Any:
    """JSON as the protobuf can say it: numbers as floats where doubles, False omitted."""
    if isinstance(schema, list):
        return [normalized(s) for s in schema]
    if not isinstance(schema, dict):
        return schema
    out: dict[str, Any] = {}
    for key, value in schema.items():
        if value is False and key in ("exclusiveMaximum", "exclusiveMinimum", "uniqueItems"):
            continue
        if key in ("maximum", "minimum", "multipleOf"):
            value = float(value)
        elif key in ("properties",):
            value = {k: normalized(v) for k, v in value.items()}
        elif key in ("items", "additionalProperties"):
            value = normalized(value)
        out[key] = value
    return out


def document_from_pb(data: bytes) -> dict[str, Any]:
    """Document: swagger = 1, info = 2, paths = 8, definitions = 9."""
    info = first(data, 2)
    definitions = {
        name: schema_from_pb(value) for name, value in map(named, every(first(data, 9), 1))
    }
    paths = {name: value for name, value in map(named, every(first(data, 8), 2))}
    return {
        "swagger": first(data, 1).decode(),
        "info": {"title": first(info, 1).decode(), "version": first(info, 2).decode()},
        "paths": paths,
        "definitions": definitions,
    }


def patch_operation(path_item: bytes) -> tuple[list[str], dict[str, Any]]:
    """(query parameter names, GVK extension) of a PathItem's patch (= 8) operation."""
    op = first(path_item, 8)
    if op is None:
        return [], {}
    names = []
    for item in every(op, 8):  # ParametersItem.parameter -> Parameter.non_body_parameter
        parameter = first(item, 1)
        query = first(first(parameter, 2) or b"", 3)
        if query is not None:
            names.append(first(query, 4).decode())
    gvk = {}
    for extension in every(op, 13):
        name, value = named(extension)
        if name == GVK:
            gvk = any_value(value)
    return names, gvk


# --- what kube-openapi's parser accepts --------------------------------------------------


def kube_openapi_errors(
    schema: dict[str, Any], definitions: dict[str, Any], path: str
) -> list[str]:
    """Mirror ``proto.Definitions.ParseSchema`` (kube-openapi as vendored by kubectl 1.20)."""
    if "$ref" in schema:
        reference = schema["$ref"].removeprefix("#/definitions/")
        errors = [] if reference in definitions else [f"{path}: unknown model {reference}"]
        if schema.get("properties") or schema.get("type"):
            errors.append(f"{path}: reference with properties or type")
        return errors
    kind = schema.get("type")
    if isinstance(kind, list):
        return [f"{path}: multiple types"]
    errors: list[str] = []
    if kind == "array":
        items = schema.get("items")
        if not isinstance(items, dict):
            return [f"{path}: array without exactly one item schema"]
        errors += kube_openapi_errors(items, definitions, path + "[]")
    elif kind not in (None, "object", "string", "number", "integer", "boolean"):
        errors.append(f"{path}: unknown primitive {kind}")
    for name, sub in (schema.get("properties") or {}).items():
        errors += kube_openapi_errors(sub, definitions, f"{path}.{name}")
    additional = schema.get("additionalProperties")
    if isinstance(additional, dict):
        errors += kube_openapi_errors(additional, definitions, path + "{}")
    if schema.get("properties") == {}:
        errors.append(f"{path}: an object without fields rejects every field")
    return errors


# --- fixtures ------------------------------------------------------------------------------

CRONTAB_CRD: dict[str, Any] = {
    "apiVersion": "apiextensions.k8s.io/v1",
    "kind": "CustomResourceDefinition",
    "metadata": {"name": "crontabs.stable.example.com"},
    "spec": {
        "group": "stable.example.com",
        "scope": "Namespaced",
        "names": {"plural": "crontabs", "singular": "crontab", "kind": "CronTab"},
        "versions": [
            {
                "name": "v1",
                "served": True,
                "storage": True,
                "subresources": {"status": {}},
                "schema": {
                    "openAPIV3Schema": {
                        "type": "object",
                        "description": "CronTab runs things.",
                        "properties": {
                            "spec": {
                                "type": "object",
                                "required": ["cronSpec", "note"],
                                "properties": {
                                    "cronSpec": {"type": "string", "pattern": "^\\S+$"},
                                    "replicas": {
                                        "type": "integer",
                                        "minimum": 1,
                                        "default": 1,
                                        "exclusiveMaximum": False,
                                    },
                                    "mode": {"type": "string", "enum": ["a", "b"]},
                                    "port": {
                                        "x-kubernetes-int-or-string": True,
                                        "anyOf": [{"type": "integer"}, {"type": "string"}],
                                    },
                                    "note": {"type": "string", "nullable": True},
                                    "extra": {
                                        "type": "object",
                                        "x-kubernetes-preserve-unknown-fields": True,
                                        "properties": {"a": {"type": "string"}},
                                    },
                                    "tags": {
                                        "type": "array",
                                        "items": {"type": "string"},
                                        "x-kubernetes-list-type": "set",
                                    },
                                    "labels": {
                                        "type": "object",
                                        "additionalProperties": {"type": "string"},
                                    },
                                    "pod": {
                                        "type": "object",
                                        "x-kubernetes-embedded-resource": True,
                                        "properties": {"spec": {"type": "object"}},
                                    },
                                },
                            },
                        },
                    }
                },
            },
            {
                "name": "v2",
                "served": True,
                "storage": False,
                "schema": {
                    "openAPIV3Schema": {
                        "type": "object",
                        "x-kubernetes-preserve-unknown-fields": True,
                        "properties": {"spec": {"type": "object"}},
                    }
                },
            },
        ],
    },
}


def _catalog_with_crd(crd: dict[str, Any] = CRONTAB_CRD) -> Catalog:
    catalog = Catalog()
    resources, preferred = resources_of(crd)
    catalog.add_custom(crd["metadata"]["name"], resources, preferred)
    return catalog


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return _catalog_with_crd()


# --- the document --------------------------------------------------------------------------


def test_protobuf_decodes_to_the_json_document(catalog: Catalog) -> None:
    doc = openapi.openapi_json(catalog)
    decoded = document_from_pb(openapi.openapi_protobuf(catalog))
    assert decoded["swagger"] == "2.0" == doc["swagger"]
    assert decoded["info"] == {"title": "Kubernetes", "version": "v1.20.2"}
    assert list(decoded["paths"]) == list(doc["paths"])
    assert decoded["definitions"].keys() == doc["definitions"].keys()
    for name, definition in doc["definitions"].items():
        assert decoded["definitions"][name] == normalized(definition), name


def test_every_definition_parses_in_kubectl(catalog: Catalog) -> None:
    definitions = openapi.openapi_json(catalog)["definitions"]
    errors = [
        error
        for name, schema in definitions.items()
        for error in kube_openapi_errors(schema, definitions, name)
    ]
    assert errors == []


def test_kinds_are_found_by_their_gvk(catalog: Catalog) -> None:
    definitions = openapi.openapi_json(catalog)["definitions"]
    by_gvk = {
        (g["group"], g["version"], g["kind"]): name
        for name, schema in definitions.items()
        for g in schema.get(GVK, ())
    }
    for r in catalog:
        assert (r.group, r.version, r.kind) in by_gvk, r
        if "list" in r.verbs:
            assert (r.group, r.version, r.list_kind) in by_gvk, r
    assert by_gvk["apps", "v1", "Deployment"] == "io.k8s.api.apps.v1.Deployment"
    assert by_gvk["", "v1", "Pod"] == "io.k8s.api.core.v1.Pod"
    assert by_gvk["stable.example.com", "v1", "CronTab"] == "com.example.stable.v1.CronTab"
    assert by_gvk["stable.example.com", "v1", "CronTabList"] == "com.example.stable.v1.CronTabList"
    assert "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta" in definitions


def test_structs_are_shared_definitions_with_patch_metadata(catalog: Catalog) -> None:
    definitions = openapi.openapi_json(catalog)["definitions"]
    deployment = definitions["io.k8s.api.apps.v1.Deployment"]
    assert deployment["properties"]["spec"]["$ref"] == (
        "#/definitions/io.k8s.api.apps.v1.DeploymentSpec"
    )
    assert "required" not in deployment  # kube 1.20 never requires a workload's spec
    template = definitions["io.k8s.api.apps.v1.DeploymentSpec"]["properties"]["template"]
    assert template["$ref"] == "#/definitions/io.k8s.api.core.v1.PodTemplateSpec"
    strategy = definitions["io.k8s.api.apps.v1.DeploymentSpec"]["properties"]["strategy"]
    assert strategy["x-kubernetes-patch-strategy"] == "retainKeys"
    containers = definitions["io.k8s.api.core.v1.PodSpec"]["properties"]["containers"]
    assert containers["type"] == "array"
    assert containers["items"] == {"$ref": "#/definitions/io.k8s.api.core.v1.Container"}
    assert containers["x-kubernetes-patch-merge-key"] == "name"
    assert containers["x-kubernetes-patch-strategy"] == "merge"
    volumes = definitions["io.k8s.api.core.v1.PodSpec"]["properties"]["volumes"]
    assert volumes["x-kubernetes-patch-strategy"] == "merge,retainKeys"
    container = definitions["io.k8s.api.core.v1.Container"]
    assert container["required"] == ["name"]
    assert container["properties"]["args"] == {
        "description": container["properties"]["args"]["description"],
        "type": "array",
        "items": {"type": "string"},
    }
    port = definitions["io.k8s.api.core.v1.ContainerPort"]["properties"]["containerPort"]
    assert port["type"] == "integer" and port["format"] == "int32"
    # Quantities and int-or-strings are definitions of their own, referred to, as in kube.
    probe_port = definitions["io.k8s.api.core.v1.HTTPGetAction"]["properties"]["port"]
    int_or_string = "io.k8s.apimachinery.pkg.util.intstr.IntOrString"
    assert probe_port["$ref"] == f"#/definitions/{int_or_string}"
    assert definitions[int_or_string]["format"] == "int-or-string"
    limits = definitions["io.k8s.api.core.v1.ResourceRequirements"]["properties"]["limits"]
    quantity = "io.k8s.apimachinery.pkg.api.resource.Quantity"
    assert limits["additionalProperties"] == {"$ref": f"#/definitions/{quantity}"}
    assert definitions[quantity]["type"] == "string"
    finalizers = definitions["io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"]["properties"]
    assert finalizers["ownerReferences"]["x-kubernetes-patch-merge-key"] == "uid"


def test_recursive_and_free_form_types(catalog: Catalog) -> None:
    definitions = openapi.openapi_json(catalog)["definitions"]
    props = definitions["io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.JSONSchemaProps"]
    assert "required" not in props  # default and example are free-form, never required
    fields = props["properties"]
    assert fields["properties"]["additionalProperties"]["$ref"].endswith(".JSONSchemaProps")
    assert "type" not in fields["default"]  # any JSON value: no type, kubectl takes anything
    assert "type" not in fields["enum"]["items"]


def test_every_patch_operation_supports_dry_run(catalog: Catalog) -> None:
    decoded = document_from_pb(openapi.openapi_protobuf(catalog))
    found = {}
    for name, item in decoded["paths"].items():
        params, gvk = patch_operation(item)
        if gvk:
            assert "dryRun" in params, name
            found.setdefault((gvk["group"], gvk["version"], gvk["kind"]), name)
    for r in catalog:
        if "patch" in r.verbs:
            assert (r.group, r.version, r.kind) in found, r
    assert found["apps", "v1", "Deployment"] == (
        "/apis/apps/v1/namespaces/{namespace}/deployments/{name}"
    )


def test_paths_follow_kube(catalog: Catalog) -> None:
    paths = openapi.openapi_json(catalog)["paths"]
    assert set(paths["/api/v1/namespaces/{namespace}/pods"]) == {
        "get",
        "post",
        "delete",
        "parameters",
    }
    item = paths["/api/v1/namespaces/{namespace}/pods/{name}"]
    assert item["patch"]["operationId"] == "patchCoreV1NamespacedPod"
    assert item["get"]["responses"]["200"]["schema"] == {
        "$ref": "#/definitions/io.k8s.api.core.v1.Pod"
    }
    assert paths["/api/v1/pods"]["get"]["operationId"] == "listCoreV1PodForAllNamespaces"
    assert paths["/api/v1/nodes/{name}"]["put"]["operationId"] == "replaceCoreV1Node"
    scale = paths["/apis/apps/v1/namespaces/{namespace}/deployments/{name}/scale"]["patch"]
    assert scale["x-kubernetes-group-version-kind"] == {
        "group": "autoscaling",
        "kind": "Scale",
        "version": "v1",
    }
    crd = paths["/apis/stable.example.com/v1/namespaces/{namespace}/crontabs/{name}/status"]
    assert crd["put"]["tags"] == ["stableExampleCom_v1"]
    # Namespaces have no deletecollection in the catalog, so no DELETE on the collection.
    assert "delete" not in paths["/api/v1/namespaces"]


# --- custom resources ----------------------------------------------------------------------


def test_crd_schema_published_as_kube_does(catalog: Catalog) -> None:
    definition = openapi.openapi_json(catalog)["definitions"]["com.example.stable.v1.CronTab"]
    assert definition["type"] == "object"
    assert definition["description"] == "CronTab runs things."
    props = definition["properties"]
    assert props["metadata"]["$ref"].endswith("meta.v1.ObjectMeta")
    assert props["apiVersion"]["type"] == props["kind"]["type"] == "string"
    spec = props["spec"]
    assert spec["required"] == ["cronSpec"]  # nullable "note" is no longer required
    fields = spec["properties"]
    assert fields["note"] == {}  # nullable: type dropped
    assert fields["port"] == {"x-kubernetes-int-or-string": True}  # anyOf dropped, no type
    assert fields["extra"] == {"x-kubernetes-preserve-unknown-fields": True}
    assert fields["replicas"] == {"default": 1, "minimum": 1, "type": "integer"}
    assert fields["mode"]["enum"] == ["a", "b"]
    assert fields["tags"]["x-kubernetes-list-type"] == "set"
    assert fields["labels"]["additionalProperties"] == {"type": "string"}
    pod = fields["pod"]
    assert set(pod["properties"]) == {"apiVersion", "kind", "metadata", "spec"}
    assert pod["required"] == ["kind", "apiVersion"]
    assert definition[GVK] == [{"group": "stable.example.com", "kind": "CronTab", "version": "v1"}]


def test_crd_preserving_unknown_fields_at_the_root_has_no_properties(catalog: Catalog) -> None:
    definition = openapi.openapi_json(catalog)["definitions"]["com.example.stable.v2.CronTab"]
    assert definition == {
        "type": "object",
        GVK: [{"group": "stable.example.com", "kind": "CronTab", "version": "v2"}],
    }


def test_crd_without_schema() -> None:
    r = Resource("x.io", "v1", "things", "Thing", namespaced=False, custom={"name": "v1"})
    assert custom_definition(r) == {
        "type": "object",
        GVK: [{"group": "x.io", "kind": "Thing", "version": "v1"}],
    }


# --- caching -------------------------------------------------------------------------------


def test_document_is_cached_until_the_catalog_changes() -> None:
    catalog = Catalog()
    start = time.perf_counter()
    first_pb = openapi.openapi_protobuf(catalog)
    assert openapi.openapi_protobuf(catalog) is first_pb
    assert openapi.openapi_json(catalog) is openapi.openapi_json(catalog)
    assert "com.example.stable.v1.CronTab" not in openapi.openapi_json(catalog)["definitions"]
    resources, preferred = resources_of(CRONTAB_CRD)
    catalog.add_custom("crontabs.stable.example.com", resources, preferred)
    assert "com.example.stable.v1.CronTab" in openapi.openapi_json(catalog)["definitions"]
    second_pb = openapi.openapi_protobuf(catalog)
    assert second_pb is not first_pb and len(second_pb) > len(first_pb)
    catalog.remove_custom("crontabs.stable.example.com")
    assert openapi.openapi_protobuf(catalog) == first_pb
    assert time.perf_counter() - start < 30


# --- the real kubectl 1.20 ----------------------------------------------------------------

needs_kubectl = pytest.mark.skipif(not KUBECTL.exists(), reason="kubectl 1.20 not fetched")

INVALID_RC = """
apiVersion: v1
kind: ReplicationController
metadata: {name: empty-args}
spec:
  replicas: 1
  selector: {app: x}
  template:
    metadata: {labels: {app: x}}
    spec:
      containers:
      - name: c
        image: busybox
        args:
        -
"""

DEPLOYMENT = """
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - name: web
        image: nginx
        ports: [{containerPort: 80}]
        resources: {limits: {cpu: "1", memory: 64Mi}}
"""


@needs_kubectl
def test_kubectl_explain(cluster: ClusterProcess) -> None:
    out = cluster.kubectl("explain", "deployment.spec.template.spec.containers")
    assert "KIND:     Deployment" in out
    assert "RESOURCE: containers <[]Object>" in out
    assert "args\t<[]string>" in out and "name\t<string> -required-" in out
    pods = cluster.kubectl("explain", "pods")
    assert "VERSION:  v1" in pods and "spec\t<Object>" in pods


@needs_kubectl
def test_kubectl_validates_client_side(cluster: ClusterProcess, namespace: str) -> None:
    out = cluster.kubectl("create", "-n", namespace, "-f", "-", input=INVALID_RC, check=False)
    assert 'unknown object type "nil" in ReplicationController.spec.template.spec' in out
    typo = DEPLOYMENT.replace("image: nginx", "imagee: nginx")
    out = cluster.kubectl("apply", "-n", namespace, "-f", "-", input=typo, check=False)
    assert 'unknown field "imagee" in io.k8s.api.core.v1.Container' in out
    assert "deployment.apps/web created" in cluster.kubectl(
        "apply", "-n", namespace, "-f", "-", input=DEPLOYMENT
    )
    changed = DEPLOYMENT.replace("replicas: 2", "replicas: 3")
    out = cluster.kubectl("apply", "-n", namespace, "--dry-run=server", "-f", "-", input=changed)
    assert "configured (server dry run)" in out
    out = cluster.kubectl("diff", "-n", namespace, "-f", "-", input=changed, check=False)
    assert "+  replicas: 3" in out


@needs_kubectl
def test_kubectl_explains_a_custom_resource(cluster: ClusterProcess) -> None:
    suffix = uuid.uuid4().hex[:8]
    group, plural, kind = f"g{suffix}.example.com", f"tabs{suffix}", f"Tab{suffix}"
    crd = json.loads(json.dumps(CRONTAB_CRD))
    crd["metadata"]["name"] = f"{plural}.{group}"
    crd["spec"]["group"] = group
    crd["spec"]["names"] = {"plural": plural, "singular": plural, "kind": kind}
    cluster.kubectl("apply", "-f", "-", input=json.dumps(crd))
    try:
        out = cluster.kubectl("explain", f"{plural}.spec", "--api-version", f"{group}/v1")
        assert f"KIND:     {kind}" in out and "cronSpec\t<string> -required-" in out
        bad = {
            "apiVersion": f"{group}/v1",
            "kind": kind,
            "metadata": {"name": "x", "namespace": "default"},
            "spec": {"cronSpec": "x", "bogus": 1},
        }
        out = cluster.kubectl("create", "-f", "-", input=json.dumps(bad), check=False)
        assert 'unknown field "bogus"' in out
    finally:
        cluster.kubectl("delete", "crd", f"{plural}.{group}", check=False)
