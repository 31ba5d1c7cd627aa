"""Users through Atoll: the password policy, hashing on the way in, never a password out;
changing a password; a kubeconfig per user.

- ``POST``/``PUT /apis/iam.atoll.io/v1alpha1/users[/…]`` pass the cluster proxy, whose
  hook for Users checks a new password against the policy and stores only its argon2id
  hash. A replace without a password keeps the stored one (clients read Users without it,
  so they cannot send it back). Every User answered, in any form, comes without it.
- ``PUT /kapis/iam.atoll.io/v1alpha1/users/{user}/password`` ``{"currentPassword",
  "password"}``: a user changing its own password gives the current one; an administrator
  (whoever the authorizer lets change another's) does not.
- ``GET /kapis/resources.atoll.io/v1alpha1/users/{user}/kubeconfig``: a kubeconfig whose
  server is Atoll's HTTPS listener (with its CA) and whose token is the user's own, so
  ``kubectl`` works through Atoll with exactly the user's permissions (and stops when the
  user is disabled or the token revoked).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import re
from collections.abc import Callable
from typing import Any

import yaml
from fastapi import APIRouter, Body, Request
from starlette.responses import Response

from atoll.errors import Conflict, Invalid, NotFound
from atoll.kube.client import KubeClient
from atoll.server.access import ObjectHook, RequestInfo, principal_of
from atoll.server.components import SecureEndpoint
from atoll.server.problems import problem

from .admin import CHANGE_REQUIRED_ANNOTATION, USERS
from .passwords import ENCRYPTED_ANNOTATION, hash_password, verify_password
from .tokens import TokenIssuer

__all__ = ["MIN_PASSWORD_LENGTH", "password_problem", "user_hook", "users_router"]

_USER_NAME = re.compile(r"^[a-z0-9]([-a-z0-9.]{0,61}[a-z0-9])?$")
MIN_PASSWORD_LENGTH = 8
MAX_PASSWORD_LENGTH = 128
KUBECONFIG_TTL = 30 * 24 * 3600


def password_problem(username: str, password: str) -> str | None:
    """Why ``password`` is not acceptable for ``username``; None when it is."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return f"the password must have at least {MIN_PASSWORD_LENGTH} characters"
    if len(password) > MAX_PASSWORD_LENGTH:
        return f"the password must have at most {MAX_PASSWORD_LENGTH} characters"
    if username and username.lower() in password.lower():
        return "the password must not contain the user name"
    return None


def _without_password(user: dict[str, Any]) -> dict[str, Any]:
    spec = user.get("spec")
    if isinstance(spec, dict) and "password" in spec:
        user = {**user, "spec": {k: v for k, v in spec.items() if k != "password"}}
    return user


def user_hook(client: Callable[[], KubeClient]) -> ObjectHook:
    async def write(info: RequestInfo, user: dict[str, Any]) -> dict[str, Any]:
        meta = user.setdefault("metadata", {})
        if not isinstance(meta, dict):
            raise Invalid("metadata must be an object")
        name = str(meta.get("name") or info.name or "")
        if info.verb == "create" and not _USER_NAME.match(name):
            raise Invalid(
                f"User {name!r} is invalid: metadata.name: a user name is 1 to 63 lower-case "
                "letters, digits, '-' or '.', starting and ending with a letter or digit "
                "(it is used as a label value)",
                name=name,
            )
        annotations = dict(meta.get("annotations") or {})
        annotations.pop(ENCRYPTED_ANNOTATION, None)  # only Atoll says a password is a hash
        spec = user.get("spec")
        spec = dict(spec) if isinstance(spec, dict) else {}
        password = spec.get("password")
        if password is not None and not isinstance(password, str):
            raise Invalid("spec.password must be a string", name=name)
        if password:
            why = password_problem(name, password)
            if why is not None:
                raise Invalid(f"User {name!r} is invalid: spec.password: {why}", name=name)
            spec["password"] = await asyncio.to_thread(hash_password, password)
            annotations[ENCRYPTED_ANNOTATION] = "true"
        elif info.verb == "update" and name:
            with contextlib.suppress(NotFound):  # keep the stored hash
                stored = await client().get(USERS, name)
                kept = (stored.get("spec") or {}).get("password")
                if kept:
                    spec["password"] = kept
                    annotations[ENCRYPTED_ANNOTATION] = "true"
        else:
            spec.pop("password", None)
        meta["annotations"] = annotations
        user["spec"] = spec
        return user

    return ObjectHook(write=write, read=_without_password)


def users_router(
    client: Callable[[], KubeClient],
    issuer: Callable[[], TokenIssuer],
    secure: Callable[[], SecureEndpoint | None] = lambda: None,
) -> APIRouter:
    router = APIRouter(tags=["users"])

    @router.put(
        "/kapis/iam.atoll.io/v1alpha1/users/{user}/password",
        summary="Change a user's password",
        status_code=200,
        response_class=Response,  # an empty 200
        responses={200: {"description": "The password is changed"}},
    )
    async def change_password(
        user: str,
        request: Request,
        password: str = Body(..., embed=True, description="The new password"),
        current_password: str | None = Body(
            None, alias="currentPassword", embed=True, description="Required for your own"
        ),
    ) -> Response:
        who = principal_of(request)
        try:
            found = await client().get(USERS, user)
        except NotFound:
            return problem(404, f'user "{user}" not found')
        stored = str((found.get("spec") or {}).get("password") or "")
        if who.name == user:
            if not current_password:
                return problem(400, "currentPassword is required to change your own password")
            if not await asyncio.to_thread(verify_password, stored, current_password):
                return problem(400, "currentPassword is wrong")
        why = password_problem(user, password)
        if why is not None:
            return problem(422, why)
        hashed = await asyncio.to_thread(hash_password, password)
        for attempt in range(5):  # the users controller may write the User meanwhile
            meta = dict(found["metadata"])
            annotations = dict(meta.get("annotations") or {})
            annotations[ENCRYPTED_ANNOTATION] = "true"
            annotations.pop(CHANGE_REQUIRED_ANNOTATION, None)
            meta["annotations"] = annotations
            spec = {**(found.get("spec") or {}), "password": hashed}
            try:
                await client().replace(USERS, {**found, "metadata": meta, "spec": spec})
                break
            except Conflict:
                if attempt == 4:
                    raise
                found = await client().get(USERS, user)
        return Response(status_code=200)

    @router.get(
        "/kapis/resources.atoll.io/v1alpha1/users/{user}/kubeconfig",
        summary="A kubeconfig for kubectl through Atoll, with the user's own token",
        response_class=Response,
        responses={200: {"content": {"application/yaml": {}}}},
    )
    async def kubeconfig(user: str, request: Request) -> Response:
        try:
            await client().get(USERS, user)
        except NotFound:
            return problem(404, f'user "{user}" not found')
        cluster: dict[str, str] = {"server": str(request.base_url).rstrip("/")}
        endpoint = secure()
        if endpoint is not None:  # kubectl sends tokens only over TLS
            host = request.url.hostname or "127.0.0.1"
            shown = f"[{host}]" if ":" in host else host
            cluster["server"] = f"https://{shown}:{endpoint.port}"
            if endpoint.ca_pem is not None:
                cluster["certificate-authority-data"] = base64.b64encode(endpoint.ca_pem).decode()
        token = issuer().issue(user, "access", ttl=KUBECONFIG_TTL)
        config = {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [{"name": "atoll", "cluster": cluster}],
            "users": [{"name": user, "user": {"token": token}}],
            "contexts": [{"name": f"{user}@atoll", "context": {"cluster": "atoll", "user": user}}],
            "current-context": f"{user}@atoll",
            "preferences": {},
        }
        return Response(yaml.safe_dump(config, sort_keys=False), media_type="application/yaml")

    return router
