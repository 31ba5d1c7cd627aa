"""Access reviews decoded into the request they ask about: the ``RequestInfo`` the pipeline
reads from that request itself, so the authorizer decides a review as it would the request."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from atoll.components.iam.authorizing import BASIC_RULES, RoleAuthorizer, Rules
from atoll.components.iam.reviews import AccessReview, AccessReviews, review_info
from atoll.errors import BadRequest
from atoll.kube.informers import InformerFactory
from atoll.server.access import ANONYMOUS, Principal, RequestInfo, request_info


def _review(**attributes: str) -> dict[str, Any]:
    return {
        "kind": "SelfSubjectAccessReview",
        "apiVersion": "authorization.k8s.io/v1",
        "spec": {"resourceAttributes": attributes},
    }


def _scope(info: RequestInfo) -> tuple[str, ...]:
    """What the authorizer decides by (the path is for messages)."""
    return (
        info.verb,
        str(info.resource_request),
        info.prefix,
        info.api_group,
        info.resource,
        info.subresource,
        info.name,
        info.namespace,
        info.workspace,
        info.cluster,
    )


@pytest.mark.parametrize(
    ("attributes", "cluster", "method", "path", "query"),
    [
        ({"verb": "create", "group": "apps", "resource": "deployments", "namespace": "web"},
         "host", "POST", "/apis/apps/v1/namespaces/web/deployments", {}),
        ({"verb": "list", "resource": "pods", "namespace": "web"},
         "host", "GET", "/api/v1/namespaces/web/pods", {}),
        ({"verb": "watch", "resource": "configmaps", "namespace": "web"},
         "prod", "GET", "/clusters/prod/api/v1/namespaces/web/configmaps", {"watch": "1"}),
        ({"verb": "delete", "resource": "namespaces", "name": "web"},
         "host", "DELETE", "/api/v1/namespaces/web", {}),
        ({"verb": "get", "resource": "pods", "subresource": "exec", "name": "x",
          "namespace": "web"}, "host", "GET", "/api/v1/namespaces/web/pods/x/exec", {}),
        ({"verb": "get", "group": "tenant.atoll.io", "resource": "workspaces", "name": "shop"},
         "host", "GET", "/apis/tenant.atoll.io/v1alpha1/workspaces/shop", {}),
        ({"verb": "list", "resource": "nodes"}, "host", "GET", "/api/v1/nodes", {}),
    ],
)  # fmt: skip
def test_a_review_is_the_request_it_describes(
    attributes: dict[str, str], cluster: str, method: str, path: str, query: dict[str, str]
) -> None:
    info, spec = review_info(_review(**attributes), cluster)
    assert _scope(info) == _scope(request_info(method, path, query))
    assert spec == {"resourceAttributes": attributes}


def test_a_subresource_without_a_name_is_asked_as_kubectl_asks_it() -> None:
    """``kubectl auth can-i create pods/exec`` names no pod: no path could say that."""
    info, _ = review_info(_review(verb="create", resource="pods", subresource="exec"))
    assert (info.resource, info.subresource, info.name, info.verb) == ("pods", "exec", "", "create")


def test_non_resource_paths_are_asked_in_their_cluster() -> None:
    info, spec = review_info(
        {"spec": {"nonResourceAttributes": {"path": "/version", "verb": "get"}}}
    )
    assert _scope(info) == _scope(request_info("GET", "/version"))
    assert spec == {"nonResourceAttributes": {"path": "/version", "verb": "get"}}
    member, _ = review_info(
        {"spec": {"nonResourceAttributes": {"path": "/version", "verb": "get"}}}, "prod"
    )
    assert (member.path, member.cluster) == ("/clusters/prod/version", "prod")
    assert _scope(member) == _scope(request_info("GET", "/clusters/prod/version"))


@pytest.mark.parametrize(
    "body",
    [
        [],
        "review",
        {"spec": "x"},
        {"kind": "SubjectAccessReview", "spec": {"resourceAttributes": {"verb": "get"}}},
        {"apiVersion": "authorization.k8s.io/v1beta1", "spec": {"resourceAttributes": {}}},
        {"spec": {}},
        {"spec": {"resourceAttributes": {}, "nonResourceAttributes": {}}},
        {"spec": {"resourceAttributes": {"verb": 7}}},
        {"spec": {"resourceAttributes": []}},
        {"spec": {"nonResourceAttributes": {"path": "version", "verb": "get"}}},
    ],
)
def test_what_is_not_a_review_is_a_bad_request(body: object) -> None:
    with pytest.raises(BadRequest):
        review_info(body)


def test_batch_entries_ask_about_the_clusters_api_or_atolls() -> None:
    kubernetes = AccessReview(verb="create", group="apps", resource="deployments", namespace="web")
    assert kubernetes.cluster == "host"
    assert _scope(kubernetes.info()) == _scope(
        request_info("POST", "/apis/apps/v1/namespaces/web/deployments")
    )
    members = AccessReview(
        api="atoll",
        verb="create",
        group="iam.atoll.io",
        resource="workspacemembers",
        workspace="shop",
    )
    assert _scope(members.info()) == _scope(
        request_info("POST", "/kapis/iam.atoll.io/v1alpha1/workspaces/shop/workspacemembers")
    )
    projects = AccessReview(
        api="atoll",
        verb="create",
        group="tenant.atoll.io",
        resource="namespaces",
        workspace="shop",
        cluster="prod",
    )
    assert _scope(projects.info()) == _scope(
        request_info(
            "POST", "/kapis/tenant.atoll.io/v1alpha1/workspaces/shop/clusters/prod/namespaces"
        )
    )
    events = AccessReview(api="atoll", verb="list", group="auditing.atoll.io", resource="events")
    assert _scope(events.info()) == _scope(
        request_info("GET", "/kapis/auditing.atoll.io/v1alpha1/events")
    )


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"reviews": [{"verb": "get"}]},  # no resource
        {"reviews": [{"resource": "pods"}]},  # no verb
        {"reviews": [{"verb": "get", "resource": "pods", "namespcae": "web"}]},  # a typo
        {"reviews": [{"verb": "get", "resource": "pods", "workspace": "shop"}]},  # not Atoll's
        {"reviews": [{"verb": "get", "resource": "pods", "cluster": "a/b"}]},
        {"reviews": [{"verb": "get", "resource": "pods"}] * 201},
    ],
)
def test_what_is_not_a_batch_is_refused(body: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        AccessReviews.model_validate(body)


def test_every_user_may_ask_about_itself_whatever_its_roles() -> None:
    """Not only where a cluster's own RBAC grants it (``system:basic-user``): a user with no
    role anywhere (and an authorizer that has read no role yet) may ask."""
    authorizer = RoleAuthorizer(InformerFactory(None))  # type: ignore[arg-type]  # never run
    nobody = Principal("nobody", ("system:authenticated",))
    for method, path in (
        ("POST", "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews"),
        ("POST", "/clusters/prod/apis/authorization.k8s.io/v1/selfsubjectaccessreviews"),
        ("POST", "/kapis/iam.atoll.io/v1alpha1/accessreviews"),
        ("GET", "/kapis/iam.atoll.io/v1alpha1/me"),
        ("POST", "/apis/authorization.k8s.io/v1/selfsubjectrulesreviews"),
        ("POST", "/clusters/prod/apis/authentication.k8s.io/v1/selfsubjectreviews"),
    ):
        info = request_info(method, path)
        assert authorizer.decide(nobody, info).allowed, path
        assert not authorizer.decide(ANONYMOUS, info).allowed, path
    for method, path in (
        ("POST", "/apis/authorization.k8s.io/v1/subjectaccessreviews"),  # about anyone
        ("DELETE", "/kapis/iam.atoll.io/v1alpha1/accessreviews"),
        ("GET", "/kapis/iam.atoll.io/v1alpha1/me/password"),
    ):
        assert not authorizer.decide(nobody, request_info(method, path)).allowed, path


def test_a_listing_of_rules_says_each_once() -> None:
    """Roles of several levels grant the same often; a rules review lists it once, and
    kubectl's row per path shows no path twice."""
    pods = {"verbs": ["get"], "apiGroups": [""], "resources": ["pods"]}
    rules = Rules(
        [
            *BASIC_RULES,
            pods,
            {**pods, "resourceNames": []},  # the same rule, spelt with an empty list
            {"verbs": ["get"], "nonResourceURLs": ["/api", "/healthz"]},
            {"verbs": ["get", "post"], "nonResourceURLs": ["/api"]},
        ]
    )
    assert rules.resource_rules().count(pods) == 1
    paths = rules.non_resource_rules()
    assert [p["verbs"] for p in paths] == [["get"], ["get", "post"]]
    assert (
        paths[0]["nonResourceURLs"].count("/api") == 1 and "/healthz" in paths[0]["nonResourceURLs"]
    )
    assert not Rules([]).incomplete
