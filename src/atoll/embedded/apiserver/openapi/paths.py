"""The paths of one served resource, with operations shaped like kube-apiserver 1.20's.

kubectl reads two things from them: the ``dryRun`` query parameter of the PATCH operation
whose ``x-kubernetes-group-version-kind`` is the kind it writes (``diff`` and every
``--dry-run=server`` refuse kinds without one), and nothing else. The rest (operation ids,
tags, parameters, responses) follows kube so the JSON form reads like the real document.
"""

from __future__ import annotations

from typing import Any

from ..resources import Resource
from .builtin import META, ref
from .gnostic import shared

__all__ = ["SCALE", "resource_paths"]

SCALE = "io.k8s.api.autoscaling.v1.Scale"
STATUS = f"{META}.v1.Status"
DELETE_OPTIONS = f"{META}.v1.DeleteOptions"
PATCH = f"{META}.v1.Patch"

_PRODUCES = ["application/json", "application/yaml", "application/vnd.kubernetes.protobuf"]
_PATCH_TYPES = [
    "application/json-patch+json",
    "application/merge-patch+json",
    "application/strategic-merge-patch+json",
    "application/apply-patch+yaml",
]
_SCALE_GVK = {"group": "autoscaling", "kind": "Scale", "version": "v1"}


def _query(name: str, description: str, kind: str = "string") -> dict[str, Any]:
    return shared(
        {
            "description": description,
            "in": "query",
            "name": name,
            "type": kind,
            "uniqueItems": True,
        }
    )


_DRY_RUN = _query(
    "dryRun",
    "When present, indicates that modifications should not be persisted. An invalid or "
    "unrecognized dryRun directive will result in an error response and no further "
    "processing of the request. Valid values are: - All: all dry run stages will be processed",
)
_FIELD_MANAGER = _query(
    "fieldManager",
    "fieldManager is a name associated with the actor or entity that is making these changes. "
    "The value must be less than or 128 characters long, and only contain printable "
    "characters, as defined by https://golang.org/pkg/unicode/#IsPrint.",
)
_FORCE = _query(
    "force",
    'Force is going to "force" Apply requests. It means user will re-acquire conflicting '
    "fields owned by other people. Force flag must be unset for non-apply patch requests.",
    "boolean",
)
_PRETTY = _query("pretty", "If 'true', then the output is pretty printed.")
_LIST_PARAMS = [
    _query(
        "allowWatchBookmarks",
        'allowWatchBookmarks requests watch events with type "BOOKMARK".',
        "boolean",
    ),
    _query(
        "continue",
        "The continue option should be set when retrieving more results from the server.",
    ),
    _query(
        "fieldSelector",
        "A selector to restrict the list of returned objects by their "
        "fields. Defaults to everything.",
    ),
    _query(
        "labelSelector",
        "A selector to restrict the list of returned objects by their "
        "labels. Defaults to everything.",
    ),
    _query("limit", "limit is a maximum number of responses to return for a list call.", "integer"),
    _query(
        "resourceVersion",
        "resourceVersion sets a constraint on what resource versions a request may be served from.",
    ),
    _query(
        "resourceVersionMatch",
        "resourceVersionMatch determines how resourceVersion is applied to list calls.",
    ),
    _query("timeoutSeconds", "Timeout for the list/watch call.", "integer"),
    _query(
        "watch",
        "Watch for changes to the described resources and return them as a stream "
        "of add, update, and remove notifications.",
        "boolean",
    ),
]
_DELETE_PARAMS = [
    _DRY_RUN,
    _query(
        "gracePeriodSeconds",
        "The duration in seconds before the object should be deleted.",
        "integer",
    ),
    _query("orphanDependents", "Deprecated: please use the PropagationPolicy.", "boolean"),
    _query(
        "propagationPolicy",
        "Whether and how garbage collection will be performed. "
        "Acceptable values are: 'Orphan', 'Foreground' and 'Background'.",
    ),
]


def _path_param(name: str, description: str) -> dict[str, Any]:
    return {
        "description": description,
        "in": "path",
        "name": name,
        "required": True,
        "type": "string",
        "uniqueItems": True,
    }


def _body(definition: str, *, required: bool = True) -> dict[str, Any]:
    body: dict[str, Any] = {"in": "body", "name": "body", "schema": ref(definition)}
    if required:
        body["required"] = True
    return body


def _operation_id_part(text: str, capitalize: bool) -> str:
    """kube's ``ToValidOperationID``: drop punctuation, capitalise after it."""
    out: list[str] = []
    upper = capitalize
    for i, char in enumerate(text):
        if char.isalpha() or char == "_" or (i and char.isdigit()):
            out.append(char.upper() if upper else char)
            upper = False
        else:
            upper = True
    return "".join(out)


class _Builder:
    def __init__(self, r: Resource, kind_def: str, list_def: str | None) -> None:
        self.r = r
        self.kind_def = kind_def
        self.list_def = list_def
        group = (r.group or "core").removesuffix(".k8s.io")
        self.id_group = _operation_id_part(group, True) + _operation_id_part(r.version, True)
        self.tag = _operation_id_part(group, False) + "_" + _operation_id_part(r.version, False)
        self.gvk = {"group": r.group, "kind": r.kind, "version": r.version}

    def op(
        self,
        verb: str,
        action: str,
        name: str,
        description: str,
        responses: dict[str, Any],
        params: list[dict[str, Any]],
        *,
        gvk: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        rest = _operation_id_part(name, True)
        return {
            "consumes": _PATCH_TYPES if action == "patch" else ["*/*"],
            "description": description,
            "operationId": f"{verb}{self.id_group}{rest}",
            "parameters": params,
            "produces": _PRODUCES,
            "responses": {**responses, "401": {"description": "Unauthorized"}},
            "schemes": ["https"],
            "tags": [self.tag],
            "x-kubernetes-action": action,
            "x-kubernetes-group-version-kind": gvk or self.gvk,
        }


def _ok(definition: str, *extra: tuple[str, str]) -> dict[str, Any]:
    out = {"200": {"description": "OK", "schema": ref(definition)}}
    for code, text in extra:
        out[code] = {"description": text, "schema": ref(definition)}
    return out


def resource_paths(r: Resource, kind_def: str, list_def: str | None) -> dict[str, dict[str, Any]]:
    """Collection, item, ``/status`` and ``/scale`` paths of ``r`` (only the verbs it serves)."""
    b = _Builder(r, kind_def, list_def)
    kind, verbs = r.kind, set(r.verbs)
    scoped = "Namespaced" if r.namespaced else ""
    prefix = f"/apis/{r.group}/{r.version}" if r.group else f"/api/{r.version}"
    collection = (
        f"{prefix}/namespaces/{{namespace}}/{r.plural}"
        if r.namespaced
        else (f"{prefix}/{r.plural}")
    )
    scope_params = (
        [_path_param("namespace", "object name and auth scope, such as for teams and projects")]
        if r.namespaced
        else []
    )
    name_param = _path_param("name", f"name of the {kind}")
    paths: dict[str, dict[str, Any]] = {}

    if r.namespaced and "list" in verbs and list_def:
        paths[f"{prefix}/{r.plural}"] = {
            "get": b.op(
                "list",
                "list",
                f"{kind}ForAllNamespaces",
                f"list or watch objects of kind {kind}",
                _ok(list_def),
                _LIST_PARAMS,
            ),
            "parameters": [_PRETTY],
        }
    item: dict[str, Any] = {}
    if "list" in verbs and list_def:
        item["get"] = b.op(
            "list",
            "list",
            f"{scoped}{kind}",
            f"list or watch objects of kind {kind}",
            _ok(list_def),
            _LIST_PARAMS,
        )
    if "create" in verbs:
        item["post"] = b.op(
            "create",
            "post",
            f"{scoped}{kind}",
            f"create a {kind}",
            _ok(kind_def, ("201", "Created"), ("202", "Accepted")),
            [_body(kind_def), _DRY_RUN, _FIELD_MANAGER],
        )
    if "deletecollection" in verbs:
        item["delete"] = b.op(
            "delete",
            "deletecollection",
            f"collection{scoped}{kind}",
            f"delete collection of {kind}",
            _ok(STATUS),
            [_body(DELETE_OPTIONS, required=False), *_DELETE_PARAMS, *_LIST_PARAMS[1:-1]],
        )
    if item:
        paths[collection] = {**item, "parameters": [*scope_params, _PRETTY]}

    item = {}
    if "get" in verbs:
        item["get"] = b.op(
            "read", "get", f"{scoped}{kind}", f"read the specified {kind}", _ok(kind_def), []
        )
    if "update" in verbs:
        item["put"] = b.op(
            "replace",
            "put",
            f"{scoped}{kind}",
            f"replace the specified {kind}",
            _ok(kind_def, ("201", "Created")),
            [_body(kind_def), _DRY_RUN, _FIELD_MANAGER],
        )
    if "delete" in verbs:
        item["delete"] = b.op(
            "delete",
            "delete",
            f"{scoped}{kind}",
            f"delete a {kind}",
            _ok(STATUS, ("202", "Accepted")),
            [_body(DELETE_OPTIONS, required=False), *_DELETE_PARAMS],
        )
    if "patch" in verbs:
        item["patch"] = b.op(
            "patch",
            "patch",
            f"{scoped}{kind}",
            f"partially update the specified {kind}",
            _ok(kind_def),
            [_body(PATCH), _DRY_RUN, _FIELD_MANAGER, _FORCE],
        )
    if item:
        paths[f"{collection}/{{name}}"] = {
            **item,
            "parameters": [name_param, *scope_params, _PRETTY],
        }

    for sub, definition, gvk in (("status", kind_def, None), ("scale", SCALE, _SCALE_GVK)):
        if not r.has(sub):
            continue
        title = sub.capitalize()
        paths[f"{collection}/{{name}}/{sub}"] = {
            "get": b.op(
                "read",
                "get",
                f"{scoped}{kind}{title}",
                f"read {sub} of the specified {kind}",
                _ok(definition),
                [],
                gvk=gvk,
            ),
            "patch": b.op(
                "patch",
                "patch",
                f"{scoped}{kind}{title}",
                f"partially update {sub} of the specified {kind}",
                _ok(definition),
                [_body(PATCH), _DRY_RUN, _FIELD_MANAGER, _FORCE],
                gvk=gvk,
            ),
            "put": b.op(
                "replace",
                "put",
                f"{scoped}{kind}{title}",
                f"replace {sub} of the specified {kind}",
                _ok(definition, ("201", "Created")),
                [_body(definition), _DRY_RUN, _FIELD_MANAGER],
                gvk=gvk,
            ),
            "parameters": [_path_param("name", f"name of the {title}"), *scope_params, _PRETTY],
        }
    return paths
