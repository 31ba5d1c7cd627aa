"""What the caller may do, and who it is, answered by Atoll itself, never by a cluster.

- ``POST /apis/authorization.k8s.io/v1/selfsubjectaccessreviews``, and the same under
  ``/clusters/{cluster}``: a Kubernetes SelfSubjectAccessReview, as ``kubectl auth can-i``
  sends. The cluster proxy would pass it on with Atoll's credentials, and the cluster would
  answer for Atoll's own identity; these routes come first (the server puts catch-all
  routes last) and answer for the caller. ``spec.resourceAttributes`` (verb, group,
  resource, subresource, name, namespace) or ``spec.nonResourceAttributes`` (path, verb)
  become the ``RequestInfo`` the pipeline would read from that request in that cluster,
  and the pipeline's authorizer decides, as it would for the request itself. The answer is
  the review with ``status: {allowed, denied, reason}``, 201 as in Kubernetes (Atoll's
  authorizer is the only one, so a refusal is final: ``denied`` is ``not allowed``). A body
  that is not a review is a 400 Status (for every review here; an empty body is ``{}``).
- ``POST /apis/authorization.k8s.io/v1/selfsubjectrulesreviews`` (and under
  ``/clusters/{cluster}``): a SelfSubjectRulesReview, as ``kubectl auth can-i --list``
  sends: every rule that grants the caller something in ``spec.namespace`` (required, as in
  Kubernetes) of that cluster, from the roles of every level (``RoleAuthorizer.rules_for``).
  ``incomplete`` (with an ``evaluationError``) while the cluster's roles are not known.
- ``POST /apis/authentication.k8s.io/{v1,v1beta1,v1alpha1}/selfsubjectreviews`` (and under
  ``/clusters/{cluster}``): a SelfSubjectReview, as ``kubectl auth whoami`` sends (v1 first,
  then older clusters' versions): ``status.userInfo`` is the caller's name and groups.
- ``POST /kapis/iam.atoll.io/v1alpha1/accessreviews`` ``{"reviews": [{"cluster", "verb",
  "group", "resource", "subresource", "name", "namespace"}, …]}``: up to 200 questions at
  once, so the console shows only what a user may do; ``{"results": [{"allowed",
  "reason"}, …]}`` in the same order. ``"api": "atoll"`` asks about Atoll's own API
  (``/kapis``) instead of the cluster's, and only there may ``workspace`` name a workspace
  (a workspace member's grants reach Atoll's workspace routes). Bad input is a 400 problem.

Every logged-in user may ask, about itself only (``authorizing.about_oneself``).
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any, Literal

import orjson
from fastapi import APIRouter, Request
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from pydantic import BaseModel, ConfigDict, Field, model_validator
from starlette.responses import Response

from atoll.errors import ApiError, BadRequest, UnsupportedMediaType
from atoll.server.access import (
    HOST_CLUSTER,
    Pipeline,
    RequestInfo,
    attributes_info,
    path_info,
    principal_of,
)
from atoll.server.problems import validation_problem

from .authorizing import RoleAuthorizer

__all__ = ["MAX_REVIEWS", "AccessReview", "review_info", "reviews_router", "rules_namespace"]

SELF_REVIEWS = "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews"
RULES_REVIEWS = "/apis/authorization.k8s.io/v1/selfsubjectrulesreviews"
ACCESS_REVIEWS = "/kapis/iam.atoll.io/v1alpha1/accessreviews"
API_VERSION = "authorization.k8s.io/v1"
KIND = "SelfSubjectAccessReview"
RULES_KIND = "SelfSubjectRulesReview"
AUTHENTICATION = "authentication.k8s.io"
WHO_KIND = "SelfSubjectReview"
_WHO_VERSIONS = ("v1", "v1beta1", "v1alpha1")  # kubectl asks v1, then older clusters' versions
MAX_REVIEWS = 200
_RESOURCE_FIELDS = ("namespace", "verb", "group", "version", "resource", "subresource", "name")
_PATH_FIELDS = ("path", "verb")
_NO_SLASH = r"^[^/]*$"


# -- SelfSubjectAccessReviews --------------------------------------------------------------


def _strings(found: object, where: str, fields: tuple[str, ...]) -> dict[str, str]:
    """The attributes ``fields`` of ``found``, each a string ("" when left out)."""
    if not isinstance(found, dict):
        raise BadRequest(f"{where} must be an object")
    values = {}
    for key in fields:
        value = found.get(key)
        if value is not None and not isinstance(value, str):
            raise BadRequest(f"{where}.{key} must be a string")
        values[key] = value or ""
    return values


def _kinded(review: object, kind: str, api_version: str = API_VERSION) -> dict[str, Any]:
    """``review`` as an object of ``kind`` (the kind and apiVersion may be left out)."""
    if not isinstance(review, dict):
        raise BadRequest(f"the body must be a {kind} object")
    if (review.get("kind") or kind, review.get("apiVersion") or api_version) != (kind, api_version):
        raise BadRequest(f"the body must be a {kind} of {api_version}")
    return review


def _spec(review: object, kind: str = KIND) -> dict[str, Any]:
    spec = _kinded(review, kind).get("spec")
    if not isinstance(spec, dict):
        raise BadRequest("spec must be an object")
    return spec


def review_info(review: object, cluster: str = HOST_CLUSTER) -> tuple[RequestInfo, dict[str, Any]]:
    """The request a SelfSubjectAccessReview asks about, in ``cluster``, and its spec as
    Kubernetes answers it (the attributes given, none empty). ``BadRequest`` when ``review``
    is not a review."""
    spec = _spec(review)
    resource, other = spec.get("resourceAttributes"), spec.get("nonResourceAttributes")
    if (resource is None) == (other is None):
        raise BadRequest(
            "exactly one of spec.resourceAttributes and spec.nonResourceAttributes must be given"
        )
    if resource is not None:
        given = _strings(resource, "spec.resourceAttributes", _RESOURCE_FIELDS)
        info = attributes_info(
            given["verb"],
            resource=given["resource"],
            group=given["group"],
            version=given["version"],
            subresource=given["subresource"],
            name=given["name"],
            namespace=given["namespace"],
            cluster=cluster,
        )
        return info, {"resourceAttributes": {k: v for k, v in given.items() if v}}
    given = _strings(other, "spec.nonResourceAttributes", _PATH_FIELDS)
    if not given["path"].startswith("/"):
        raise BadRequest("spec.nonResourceAttributes.path must start with /")
    info = path_info(given["verb"], given["path"], cluster)
    return info, {"nonResourceAttributes": {k: v for k, v in given.items() if v}}


def rules_namespace(review: object) -> str:
    """The namespace a SelfSubjectRulesReview asks about; ``BadRequest`` when it is not
    one, or names none."""
    namespace = _spec(review, RULES_KIND).get("namespace")
    if not isinstance(namespace, str):
        raise BadRequest("spec.namespace must be a string")
    if not namespace:
        raise BadRequest("spec.namespace is required: the namespace to list the rules in")
    return namespace


async def _read_review(request: Request, kind: str = KIND) -> object:
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type and not media_type.endswith("json"):
        raise UnsupportedMediaType(f"a {kind} is sent as JSON, not {media_type}")
    body = await request.body()
    try:
        return orjson.loads(body) if body.strip() else {}
    except orjson.JSONDecodeError:
        raise BadRequest("the body is not valid JSON") from None


def _status(error: ApiError) -> Response:
    body = orjson.dumps(error.to_status())
    return Response(body, status_code=error.code, media_type="application/json")


def _answer(kind: str, fields: dict[str, Any], api_version: str = API_VERSION) -> Response:
    """A review as Kubernetes answers one (its ``spec`` and ``status``): created (201),
    never stored."""
    review = {"kind": kind, "apiVersion": api_version, "metadata": {"creationTimestamp": None}}
    return Response(
        orjson.dumps({**review, **fields}), status_code=201, media_type="application/json"
    )


# -- the console's batches ------------------------------------------------------------------


class AccessReview(BaseModel):
    """One question: may the caller do ``verb`` on ``resource`` there?"""

    model_config = ConfigDict(extra="forbid")

    cluster: str = Field(HOST_CLUSTER, min_length=1, max_length=253, pattern=_NO_SLASH)
    verb: str = Field(..., min_length=1, max_length=63, examples=["create"])
    group: str = Field("", max_length=253, description='"" for the core group')
    resource: str = Field(..., min_length=1, max_length=253, examples=["deployments"])
    subresource: str = Field("", max_length=253)
    name: str = Field("", max_length=253)
    namespace: str = Field("", max_length=253)
    api: Literal["kubernetes", "atoll"] = Field(
        "kubernetes", description="The cluster's Kubernetes API, or Atoll's own (/kapis)"
    )
    workspace: str = Field("", max_length=253, description='Only with "api": "atoll"')

    @model_validator(mode="after")
    def _workspaces_are_atolls(self) -> AccessReview:
        if self.workspace and self.api != "atoll":
            raise ValueError('a workspace is asked about only with "api": "atoll"')
        return self

    def info(self) -> RequestInfo:
        return attributes_info(
            self.verb,
            resource=self.resource,
            group=self.group,
            subresource=self.subresource,
            name=self.name,
            namespace=self.namespace,
            workspace=self.workspace,
            cluster=self.cluster,
            atoll_api=self.api == "atoll",
        )


class AccessReviews(BaseModel):
    reviews: list[AccessReview] = Field(..., max_length=MAX_REVIEWS)


class AccessResult(BaseModel):
    allowed: bool
    reason: str


class AccessResults(BaseModel):
    results: list[AccessResult] = Field(..., description="One per review, in their order")


class _BadInputIsBadRequest(APIRoute):
    """Answers a body FastAPI finds invalid with 400, not its 422: a batch that is not one
    is a bad request as a whole."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handle = super().get_route_handler()

        async def handling(request: Request) -> Response:
            try:
                return await handle(request)
            except RequestValidationError as error:
                return validation_problem(error, 400)

        return handling


def reviews_router(
    pipeline: Callable[[], Pipeline], authorizer: Callable[[], RoleAuthorizer]
) -> APIRouter:
    router = APIRouter(tags=["access reviews"], route_class=_BadInputIsBadRequest)

    async def self_review(request: Request) -> Response:
        cluster = request.path_params.get("cluster", HOST_CLUSTER)
        try:
            info, spec = review_info(await _read_review(request), cluster)
        except ApiError as error:
            return _status(error)
        decision = await pipeline().authorize(principal_of(request), info)
        status = {"allowed": decision.allowed, "denied": not decision.allowed}
        return _answer(KIND, {"spec": spec, "status": {**status, "reason": decision.reason}})

    async def rules_review(request: Request) -> Response:
        cluster = request.path_params.get("cluster", HOST_CLUSTER)
        try:
            namespace = rules_namespace(await _read_review(request, RULES_KIND))
        except ApiError as error:
            return _status(error)
        rules = authorizer().rules_for(principal_of(request), namespace, cluster)
        status: dict[str, Any] = {
            "resourceRules": rules.resource_rules(),
            "nonResourceRules": rules.non_resource_rules(),
            "incomplete": rules.incomplete,
        }
        if rules.incomplete:
            status["evaluationError"] = f'the roles of cluster "{cluster}" are not known yet'
        return _answer(RULES_KIND, {"spec": {"namespace": namespace}, "status": status})

    async def who_review(request: Request) -> Response:
        api_version = f"{AUTHENTICATION}/{request.url.path.split('/')[-2]}"  # …/{v}/selfsub…
        try:
            _kinded(await _read_review(request, WHO_KIND), WHO_KIND, api_version)
        except ApiError as error:
            return _status(error)
        who = principal_of(request)
        user = {"username": who.name, "groups": list(who.groups)}
        return _answer(WHO_KIND, {"status": {"userInfo": user}}, api_version)

    routes = [(SELF_REVIEWS, self_review), (RULES_REVIEWS, rules_review)]
    routes += [
        (f"/apis/{AUTHENTICATION}/{v}/selfsubjectreviews", who_review) for v in _WHO_VERSIONS
    ]
    for base in ("", "/clusters/{cluster}"):  # the host's, and any cluster's by name
        for path, answer in routes:
            router.add_api_route(base + path, answer, methods=["POST"], include_in_schema=False)

    @router.post(
        ACCESS_REVIEWS,
        summary="Whether the caller may do each of these things",
        response_model=AccessResults,
        responses={  # a "default" keeps FastAPI from documenting a 422 never answered
            400: {"description": "The body is not a list of at most 200 reviews"},
            "default": {"description": "An error"},
        },
    )
    async def access_reviews(body: AccessReviews, request: Request) -> AccessResults:
        who, authorize = principal_of(request), pipeline().authorize
        results = []
        for review in body.reviews:
            decision = await authorize(who, review.info())
            results.append(AccessResult(allowed=decision.allowed, reason=decision.reason))
        return AccessResults(results=results)

    return router
