"""The one authorizer: roles at four levels, granted downward.

A request is allowed when a rule of some role bound to the caller (as a User, or through one
of its Groups) allows it, looked for level by level:

1. **platform** — GlobalRoleBindings → GlobalRoles: anything, anywhere (``platform-admin``);
2. **cluster** — ClusterRoleBindings → ClusterRoles: anything in the cluster — its
   Kubernetes API and what Atoll serves of it — but not a workspace's own resources nor the
   platform's (Atoll's users, configuration and audit trail);
3. **workspace** — WorkspaceRoleBindings → WorkspaceRoles, for a request in the workspace:
   on the workspace itself (``/kapis/…/workspaces/<ws>/…``) or in any of its projects (a
   namespace labelled ``atoll.io/workspace=<ws>``);
4. **project** — RoleBindings in the namespace → Roles there, or ClusterRoles.

A user may also always read its own User, change its own password and get its own
kubeconfig, as in KubeSphere; read the API's discovery documents, as Kubernetes'
``system:discovery`` allows; and ask whether and what it may do (SelfSubjectAccessReviews,
their batches, SelfSubjectRulesReviews: Atoll answers them itself, ``rules_for`` listing the
rules of every level) and who it is, as Kubernetes' ``system:basic-user`` allows.
Everything is answered from informers' caches, so a check costs microseconds and a change of
roles is in force as soon as the watch brings it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import orjson

from atoll.kube.client import Object, ResourceType
from atoll.kube.informers import Informer, InformerFactory
from atoll.server.access import HOST_CLUSTER, Decision, Principal, RequestInfo, in_cluster

from .crds import GROUP, VERSION
from .rbac import any_rule_allows, subject_keys, subjects_of

__all__ = [
    "BASIC_RULES",
    "CLUSTER_ROLES",
    "CLUSTER_ROLE_BINDINGS",
    "GLOBAL_ROLES",
    "GLOBAL_ROLE_BINDINGS",
    "NAMESPACES",
    "ROLES",
    "ROLE_BINDINGS",
    "WORKSPACE_LABEL",
    "WORKSPACE_ROLES",
    "WORKSPACE_ROLE_BINDINGS",
    "RoleAuthorizer",
    "Rules",
    "about_oneself",
]

GLOBAL_ROLES = ResourceType(GROUP, VERSION, "globalroles", "GlobalRole", False)
GLOBAL_ROLE_BINDINGS = ResourceType(
    GROUP, VERSION, "globalrolebindings", "GlobalRoleBinding", False
)
WORKSPACE_ROLES = ResourceType(GROUP, VERSION, "workspaceroles", "WorkspaceRole", False)
WORKSPACE_ROLE_BINDINGS = ResourceType(
    GROUP, VERSION, "workspacerolebindings", "WorkspaceRoleBinding", False
)
_RBAC = "rbac.authorization.k8s.io"
CLUSTER_ROLES = ResourceType(_RBAC, "v1", "clusterroles", "ClusterRole", False)
CLUSTER_ROLE_BINDINGS = ResourceType(
    _RBAC, "v1", "clusterrolebindings", "ClusterRoleBinding", False
)
ROLES = ResourceType(_RBAC, "v1", "roles", "Role", True)
ROLE_BINDINGS = ResourceType(_RBAC, "v1", "rolebindings", "RoleBinding", True)
NAMESPACES = ResourceType("", "v1", "namespaces", "Namespace", False)

WORKSPACE_LABEL = "atoll.io/workspace"  # on namespaces: the project's workspace
WORKSPACE_OF_ROLE = "tenant.atoll.io/workspace"  # on WorkspaceRoles and their bindings
_SUBJECT = "subject"
_WORKSPACE = "workspace"


def _label(obj: Object, name: str) -> str:
    return str(((obj.get("metadata") or {}).get("labels") or {}).get(name, ""))


def _by_workspace_label(label: str) -> Callable[[Object], list[str]]:
    def index(obj: Object) -> list[str]:
        value = _label(obj, label)
        return [value] if value else []

    return index


def _bindings(informer: Informer, who: Principal) -> list[Object]:
    found: dict[str, Object] = {}
    for key in subject_keys(who):
        for binding in informer.by_index(_SUBJECT, key):
            meta = binding.get("metadata") or {}
            found[f"{meta.get('namespace', '')}/{meta.get('name', '')}"] = binding
    return list(found.values())


class ClusterRbac:
    """One cluster's own roles and bindings, and its namespaces (which say their workspace):
    where that cluster's cluster and project grants come from."""

    def __init__(self, factory: InformerFactory) -> None:
        self.cluster_roles = factory.informer(CLUSTER_ROLES)
        self.cluster_bindings = factory.informer(CLUSTER_ROLE_BINDINGS)
        self.roles = factory.informer(ROLES)
        self.role_bindings = factory.informer(ROLE_BINDINGS)
        self.namespaces = factory.informer(NAMESPACES)
        for informer in (self.cluster_bindings, self.role_bindings):
            informer.add_indexer(_SUBJECT, subjects_of)
        self.namespaces.add_indexer(_WORKSPACE, _by_workspace_label(WORKSPACE_LABEL))
        self.informers = [
            self.cluster_roles,
            self.cluster_bindings,
            self.roles,
            self.role_bindings,
            self.namespaces,
        ]

    @property
    def synced(self) -> bool:
        return all(i.has_synced for i in self.informers)

    def role_of(self, binding: Object, namespace: str = "") -> Object | None:
        ref = binding.get("roleRef") or {}
        kind, name = ref.get("kind", ""), ref.get("name", "")
        if kind == "ClusterRole":
            return self.cluster_roles.get(name)
        if kind == "Role" and namespace:
            return self.roles.get(f"{namespace}/{name}")
        return None

    def workspace_of(self, namespace: str) -> str:
        found = self.namespaces.get(namespace)
        return _label(found, WORKSPACE_LABEL) if found is not None else ""

    def namespaces_of(self, workspace: str) -> list[str]:
        return sorted(
            str(ns["metadata"]["name"]) for ns in self.namespaces.by_index(_WORKSPACE, workspace)
        )


class RoleAuthorizer:
    """Decides from informers: the platform's and workspaces' roles (in the host cluster),
    registered on ``factory`` with the host's own RBAC; each member cluster's RBAC is added
    with ``add_cluster`` as the cluster arrives."""

    def __init__(self, factory: InformerFactory) -> None:
        self._global_roles = factory.informer(GLOBAL_ROLES)
        self._global_bindings = factory.informer(GLOBAL_ROLE_BINDINGS)
        self._workspace_roles = factory.informer(WORKSPACE_ROLES)
        self._workspace_bindings = factory.informer(WORKSPACE_ROLE_BINDINGS)
        for informer in (self._global_bindings, self._workspace_bindings):
            informer.add_indexer(_SUBJECT, subjects_of)
        self._workspace_bindings.add_indexer(_WORKSPACE, _by_workspace_label(WORKSPACE_OF_ROLE))
        self._informers = [
            self._global_roles,
            self._global_bindings,
            self._workspace_roles,
            self._workspace_bindings,
        ]
        self._clusters: dict[str, ClusterRbac] = {HOST_CLUSTER: ClusterRbac(factory)}

    @property
    def synced(self) -> bool:
        return all(i.has_synced for i in self._informers) and self._clusters[HOST_CLUSTER].synced

    def add_cluster(self, name: str, factory: InformerFactory) -> ClusterRbac:
        """Follow a member cluster's RBAC through ``factory`` (the caller runs it)."""
        rbac = ClusterRbac(factory)
        self._clusters[name] = rbac
        return rbac

    def remove_cluster(self, name: str) -> None:
        if name != HOST_CLUSTER:
            self._clusters.pop(name, None)

    def _rbac(self, cluster: str) -> ClusterRbac | None:
        found = self._clusters.get(cluster)
        return found if found is not None and found.synced else None

    # -- bindings ------------------------------------------------------------------------

    def _global_role_of(self, binding: Object) -> Object | None:
        ref = binding.get("roleRef") or {}
        if ref.get("kind") == "GlobalRole":
            return self._global_roles.get(ref.get("name", ""))
        if ref.get("kind") == "WorkspaceRole":
            return self._workspace_roles.get(ref.get("name", ""))
        return None

    def workspace_of(self, namespace: str, cluster: str = HOST_CLUSTER) -> str:
        rbac = self._rbac(cluster)
        return rbac.workspace_of(namespace) if rbac is not None else ""

    def namespaces_of(self, workspace: str, cluster: str = HOST_CLUSTER) -> list[str]:
        rbac = self._rbac(cluster)
        return rbac.namespaces_of(workspace) if rbac is not None else []

    # -- deciding ------------------------------------------------------------------------

    async def __call__(self, who: Principal, info: RequestInfo) -> Decision:
        return self.decide(who, info)

    def decide(self, who: Principal, info: RequestInfo) -> Decision:
        if who.anonymous:
            return Decision(False, "log in first")
        if _own(who, info):
            return Decision(True, "own user")
        if _discovery(info):
            return Decision(True, "discovery is open to every user")
        if about_oneself(info):
            return Decision(True, "every user may ask what it may do and who it is")
        for binding in _bindings(self._global_bindings, who):
            if any_rule_allows(self._global_role_of(binding), info):
                return Decision(True, f"platform role {binding['roleRef']['name']}")
        rbac = self._rbac(info.cluster)
        if rbac is not None and _cluster_scoped(info):
            for binding in _bindings(rbac.cluster_bindings, who):
                if any_rule_allows(rbac.role_of(binding), info):
                    return Decision(True, f"cluster role {binding['roleRef']['name']}")
        workspace = info.workspace
        if not workspace and info.namespace and rbac is not None:
            workspace = rbac.workspace_of(info.namespace)
        if workspace:
            for binding in _bindings(self._workspace_bindings, who):
                if _label(binding, WORKSPACE_OF_ROLE) != workspace:
                    continue
                if any_rule_allows(self._global_role_of(binding), info):
                    return Decision(True, f"workspace role {binding['roleRef']['name']}")
        if info.namespace and rbac is not None:
            for binding in _bindings(rbac.role_bindings, who):
                if (binding.get("metadata") or {}).get("namespace") != info.namespace:
                    continue
                if any_rule_allows(rbac.role_of(binding, info.namespace), info):
                    return Decision(True, f"project role {binding['roleRef']['name']}")
        what = info.resource or info.path
        where = f" in namespace {info.namespace}" if info.namespace else ""
        where = where or (f" in workspace {info.workspace}" if info.workspace else "")
        if info.cluster != HOST_CLUSTER:
            where += f" of cluster {info.cluster}"
        return Decision(False, f'user "{who.name}" cannot {info.verb} {what}{where}')

    def rules_for(self, who: Principal, namespace: str, cluster: str = HOST_CLUSTER) -> Rules:
        """Every rule that grants ``who`` something in ``namespace`` of ``cluster``, level by
        level as ``decide`` looks (platform, cluster, the namespace's workspace, the project),
        after what every user may (``BASIC_RULES``): what a SelfSubjectRulesReview lists.
        ``incomplete`` when the cluster's RBAC is not known (yet), as Kubernetes says when it
        could not read every binding."""
        roles = [self._global_role_of(b) for b in _bindings(self._global_bindings, who)]
        rbac = self._rbac(cluster)
        if rbac is not None:
            roles += [rbac.role_of(b) for b in _bindings(rbac.cluster_bindings, who)]
            workspace = rbac.workspace_of(namespace)
            roles += [
                self._global_role_of(b)
                for b in _bindings(self._workspace_bindings, who)
                if workspace and _label(b, WORKSPACE_OF_ROLE) == workspace
            ]
            roles += [
                rbac.role_of(b, namespace)
                for b in _bindings(rbac.role_bindings, who)
                if (b.get("metadata") or {}).get("namespace") == namespace
            ]
        granted = [*BASIC_RULES, *(r for role in roles if role for r in role.get("rules") or ())]
        return Rules(granted, incomplete=rbac is None)

    def visible_namespaces(self, who: Principal, info: RequestInfo) -> set[str] | None:
        """Where ``who`` may do ``info`` (a list, say) in ``info.cluster``, namespace by
        namespace: None when everywhere (a platform or cluster grant), else the namespaces
        it may."""
        if self.decide(who, info.scoped(namespace="", workspace="")).allowed:
            return None
        rbac = self._rbac(info.cluster)
        if rbac is None:
            return set()
        candidates: set[str] = set()
        for binding in _bindings(rbac.role_bindings, who):
            candidates.add(str((binding.get("metadata") or {}).get("namespace", "")))
        for binding in _bindings(self._workspace_bindings, who):
            candidates.update(rbac.namespaces_of(_label(binding, WORKSPACE_OF_ROLE)))
        return {
            ns
            for ns in candidates
            if ns and self.decide(who, info.scoped(namespace=ns, workspace="")).allowed
        }

    def visible_workspaces(self, who: Principal, info: RequestInfo) -> set[str] | None:
        """The workspaces where ``who`` may do ``info``; None when all of them. A project
        role in any cluster makes its workspace visible."""
        if self.decide(who, info.scoped(namespace="", workspace="")).allowed:
            return None
        candidates = {
            _label(b, WORKSPACE_OF_ROLE) for b in _bindings(self._workspace_bindings, who)
        }
        for rbac in list(self._clusters.values()):
            if rbac.synced:
                candidates |= {
                    rbac.workspace_of(str((b.get("metadata") or {}).get("namespace", "")))
                    for b in _bindings(rbac.role_bindings, who)
                }
        return {
            ws
            for ws in candidates
            if ws and self.decide(who, info.scoped(workspace=ws, namespace="")).allowed
        }


_DISCOVERY = ("/api", "/apis", "/version", "/openapi", "/kapis")
# Atoll's own API groups whose requests are the cluster's (so cluster roles reach them); the
# others (users, configuration, the audit trail, workspaces) are the platform's.
_CLUSTER_KAPIS = frozenset({"resources.atoll.io"})


def _cluster_scoped(info: RequestInfo) -> bool:
    """Whether cluster roles reach this request: the cluster's own API (as Kubernetes'
    ClusterRoles do), and Atoll's API for what is in the cluster, but never a workspace's
    own resources nor the platform's."""
    if info.workspace and not info.namespace:
        return False
    if info.prefix != "kapis" or info.namespace:
        return True
    if info.resource == "users" and info.subresource:  # a user's kubeconfig or password
        return False
    if info.resource == "clustermembers":  # who has a role in the cluster: its admins' call
        return True
    return info.api_group in _CLUSTER_KAPIS


def _discovery(info: RequestInfo) -> bool:
    """What Kubernetes' ``system:discovery`` grants every authenticated user: the API's
    groups, versions and schemas (never an object)."""
    if info.resource_request or info.verb != "get":
        return False
    _, path = in_cluster(info.path)  # any cluster's discovery
    return any(path == p or path.startswith(p + "/") for p in _DISCOVERY)


# What every user may ask about itself, by (prefix, API group, resource) → verbs: whether it
# may do something and what it may do, in any cluster, and who it is. Atoll answers all of
# them (``reviews``, ``whoami``): a cluster would answer for Atoll's own identity.
_ABOUT_ONESELF = {
    ("apis", "authorization.k8s.io", "selfsubjectaccessreviews"): frozenset({"create"}),
    ("apis", "authorization.k8s.io", "selfsubjectrulesreviews"): frozenset({"create"}),
    ("apis", "authentication.k8s.io", "selfsubjectreviews"): frozenset({"create"}),
    ("kapis", "iam.atoll.io", "accessreviews"): frozenset({"create"}),
    ("kapis", "iam.atoll.io", "me"): frozenset({"get", "list"}),
}


# The same, and discovery, as RBAC rules: what a rules review lists for every user (as
# Kubernetes lists system:basic-user's and system:discovery's rules).
BASIC_RULES: tuple[Object, ...] = (
    {
        "verbs": ["create"],
        "apiGroups": ["authorization.k8s.io"],
        "resources": ["selfsubjectaccessreviews", "selfsubjectrulesreviews"],
    },
    {
        "verbs": ["create"],
        "apiGroups": ["authentication.k8s.io"],
        "resources": ["selfsubjectreviews"],
    },
    {"verbs": ["get"], "nonResourceURLs": [u for p in _DISCOVERY for u in (p, f"{p}/*")]},
)


@dataclass(frozen=True)
class Rules:
    """The RBAC rules granting a user something in one namespace (``rules_for``)."""

    rules: list[Object]
    incomplete: bool = False

    def resource_rules(self) -> list[Object]:
        """The rules about resources, as a SelfSubjectRulesReview's ``resourceRules``."""
        fields = ("verbs", "apiGroups", "resources", "resourceNames")
        found: dict[bytes, Object] = {}  # each once: roles of several levels often repeat
        for rule in self.rules:
            if rule.get("resources"):
                kept = {k: rule[k] for k in fields if rule.get(k)}
                found.setdefault(orjson.dumps(kept, option=orjson.OPT_SORT_KEYS), kept)
        return list(found.values())

    def non_resource_rules(self) -> list[Object]:
        """The rules about paths, as a SelfSubjectRulesReview's ``nonResourceRules``: one
        per set of verbs, each path once (kubectl lists a row per path)."""
        urls: dict[tuple[str, ...], dict[str, None]] = {}
        for rule in self.rules:
            if rule.get("nonResourceURLs"):
                verbs = tuple(rule.get("verbs") or ())
                urls.setdefault(verbs, {}).update(dict.fromkeys(rule["nonResourceURLs"]))
        return [{"verbs": list(v), "nonResourceURLs": list(u)} for v, u in urls.items()]


def about_oneself(info: RequestInfo) -> bool:
    """Whether ``info`` asks about the caller itself (what it may do, who it is): allowed
    to every user, and changing nothing."""
    verbs = _ABOUT_ONESELF.get((info.prefix, info.api_group, info.resource), frozenset())
    unscoped = not (info.name or info.subresource or info.namespace or info.workspace)
    return info.verb in verbs and unscoped


def _own(who: Principal, info: RequestInfo) -> bool:
    """A user's own User (read), password (change) and kubeconfig."""
    if info.resource != "users" or info.name != who.name:
        return False
    if info.subresource == "password":
        return info.verb in ("update", "patch", "create")
    if info.subresource == "kubeconfig":
        return info.verb == "get"
    return not info.subresource and info.verb == "get"
