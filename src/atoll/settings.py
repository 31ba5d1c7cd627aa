"""Atoll's settings, read once at start-up and passed down (never read deep in the code).

Grouped by part; every default is documented where it is declared. Environment variables
use the ``ATOLL_`` prefix and ``__`` between group and field (``ATOLL_CLUSTER__PORT=6443``).
"""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = [
    "ClusterSettings",
    "IdentityProvider",
    "LdapProvider",
    "OidcProvider",
    "ServerSettings",
    "Settings",
]


class ClusterSettings(BaseModel):
    """The embedded cluster (``atoll cluster serve``)."""

    data_dir: Path = Field(
        Path("data/cluster"),
        description="Where the cluster keeps its SQLite database, keys, token and kubeconfig.",
    )
    host: str = Field("127.0.0.1", description="Listen address; loopback unless told otherwise.")
    port: int = Field(0, description="Listen port; 0 picks a free one (see the kubeconfig).")
    tls_cert: Path | None = Field(None, description="PEM certificate; plain HTTP when unset.")
    tls_key: Path | None = Field(None, description="PEM private key for ``tls_cert``.")
    history_size: int = Field(
        10_000,
        description="Watch events kept for resuming watches; older revisions get 410 Expired. "
        "Each holds the object's previous state in memory; kube's watch cache keeps far fewer, "
        "and a client that falls behind re-lists, as every informer does.",
    )
    service_cidr: str = Field(
        "127.96.0.0/12",
        description="Service ClusterIPs: inside 127.0.0.0/8, so reachable without privileges.",
    )
    pod_cidr: str = Field(
        "10.244.0.0/16",
        description="Pod addresses, as root: each pod gets one in its own network namespace, "
        "on a bridge holding the first (the gateway, also the pods' DNS server). Only used "
        "on this machine; nothing is routed further.",
    )
    bridge: str = Field(
        "atoll0",
        description="The pods' bridge; each cluster running on one machine needs its own.",
    )
    cluster_domain: str = Field("cluster.local", description="The DNS domain of Services.")
    ingress_http_port: int = Field(
        8880, description="The ingress proxy's HTTP port on ``host``; 0 picks a free one."
    )
    ingress_https_port: int = Field(
        8443, description="The ingress proxy's HTTPS port on ``host``; 0 picks a free one."
    )
    controllers: str = Field(
        "*",
        description="Controllers to run, as kube-controller-manager's --controllers: "
        "'*' all, 'name' one, '-name' all but one (comma-separated).",
    )
    kubelet: bool = Field(
        True,
        description="Run pods on this machine (as runc containers when root with runc, else "
        "as host processes). Off: the node is NotReady and tainted, so pods stay Pending.",
    )
    max_pods: int = Field(
        110,
        ge=1,
        description="Pods this node takes, as the kubelet's --max-pods; more are "
        "left Pending by the scheduler, and refused by the kubelet (OutOfpods).",
    )
    registry_mirrors: dict[str, str] = Field(
        default_factory=dict,
        description="Registry mirrors for the kubelet's image pulls, registry → mirror URL, "
        'e.g. {"docker.io": "http://127.0.0.1:5001"}; a failing mirror falls back to the '
        "registry itself.",
    )
    insecure_registries: list[str] = Field(
        default_factory=list,
        description="Registries pulled from without TLS verification, then over plain HTTP "
        "(loopback registries always are, as in Docker).",
    )
    node_name: str = Field(
        default_factory=socket.gethostname, description="Name of this machine's Node object."
    )
    event_ttl_seconds: int = Field(
        3600, description="Events expire this long after their last write, as in Kubernetes."
    )


class LdapProvider(BaseModel):
    """Log-in against an LDAP directory: the manager binds to search for the user, then the
    user's own bind checks its password; the user's groups come from a group search."""

    type: Literal["LDAP"] = "LDAP"
    name: str = Field(..., description="How users and the console name this provider.")
    mapping_method: Literal["auto", "lookup"] = Field(
        "auto",
        description="auto: a first log-in makes the Atoll user; lookup: the user must exist, "
        "labelled with this provider and its directory id (as in KubeSphere).",
    )
    url: str = Field(..., description="ldap://host:port or ldaps://host:port")
    start_tls: bool = Field(False, description="Upgrade an ldap:// connection with StartTLS.")
    ca_file: Path | None = Field(None, description="CA bundle to verify the server with.")
    manager_dn: str = Field("", description="Who searches; empty: an anonymous search.")
    manager_password: SecretStr | None = None
    user_search_base: str
    user_search_filter: str = Field(
        "(uid={username})", description="{username} is the name typed, escaped."
    )
    mail_attribute: str = "mail"
    display_name_attribute: str = "cn"
    group_search_base: str = Field("", description="Empty: groups are not read.")
    group_search_filter: str = Field(
        "(|(member={dn})(uniqueMember={dn})(memberUid={username}))",
        description="{dn} is the user's DN, {username} its name; both escaped.",
    )
    group_name_attribute: str = "cn"


class OidcProvider(BaseModel):
    """Log-in through an OpenID Connect provider (authorization code with PKCE)."""

    type: Literal["OIDC"] = "OIDC"
    name: str = Field(..., description="How users and the console name this provider.")
    mapping_method: Literal["auto", "lookup"] = "auto"
    issuer: str = Field(
        ..., description="Its discovery is <issuer>/.well-known/openid-configuration"
    )
    client_id: str
    client_secret: SecretStr | None = Field(None, description="None: a public client (PKCE only).")
    scopes: list[str] = Field(default_factory=lambda: ["openid", "email", "profile"])
    username_claim: str = "preferred_username"
    email_claim: str = "email"
    display_name_claim: str = "name"
    groups_claim: str = "groups"
    ca_file: Path | None = Field(None, description="CA bundle to verify the provider with.")


IdentityProvider = Annotated[LdapProvider | OidcProvider, Field(discriminator="type")]


def _source_console() -> Path | None:
    """``console/dist`` of the source tree Atoll runs from (installed editable from
    ``src/atoll``), whether built yet or not: the server looks for its files per request,
    so a console built while Atoll runs is served at once. None for an installed Atoll."""
    console = Path(__file__).resolve().parents[2] / "console"
    return console / "dist" if console.is_dir() else None


class ServerSettings(BaseModel):
    """Atoll's own server (``atoll up``)."""

    data_dir: Path = Field(
        Path("data"),
        description="Where ``atoll up`` keeps its state; the embedded cluster's is DIR/cluster.",
    )
    host: str = Field("127.0.0.1", description="Listen address; loopback unless told otherwise.")
    port: int = Field(8080, description="Listen port; 0 picks a free one (printed at start).")
    tls_port: int = Field(
        8443,
        description="HTTPS listen port for kubectl and API clients (client-go sends tokens "
        "only over TLS); 0 picks a free one.",
    )
    tls_cert: Path | None = Field(
        None, description="A serving certificate (PEM); unset: one from Atoll's own CA."
    )
    tls_key: Path | None = Field(None, description="The serving certificate's private key.")
    kubeconfig: Path | None = Field(
        None, description="A real host cluster's kubeconfig; unset: the embedded cluster."
    )
    identity_providers: list[IdentityProvider] = Field(
        default_factory=list,
        description="LDAP and OIDC providers users may log in with, besides Atoll's own "
        "users (``ATOLL_SERVER__IDENTITY_PROVIDERS``, a JSON list).",
    )
    console_dir: Path | None = Field(
        default_factory=_source_console,
        description="The built web console, served at / (``ATOLL_SERVER__CONSOLE_DIR``); "
        "unset: console/dist of the source tree Atoll runs from, if it runs from one. Without "
        "one, or before it is built, / says how to build it.",
    )


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ATOLL_", env_nested_delimiter="__")

    cluster: ClusterSettings = Field(default_factory=ClusterSettings)
    server: ServerSettings = Field(default_factory=ServerSettings)
    admin_password: SecretStr | None = Field(
        None,
        description="The admin user's password at its creation (``ATOLL_ADMIN_PASSWORD``); "
        "unset: generated, shown once at start, to be changed at first login.",
    )
