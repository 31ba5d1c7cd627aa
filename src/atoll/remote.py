"""Talking to a running Atoll from the command line: log in, then call its API.

The password is asked for on the terminal when neither it nor a token is given, and never
printed. Errors come back as ``RemoteError`` with the server's own words (problem+json
``detail``, or a Kubernetes Status ``message``).
"""

from __future__ import annotations

import getpass
from typing import Any

import aiohttp

__all__ = ["AtollRemote", "RemoteError"]


class RemoteError(Exception):
    """The request failed; the message says why, in the server's words when it gave any."""


def _why(status: int, body: Any, fallback: str) -> str:
    if isinstance(body, dict):
        text = body.get("detail") or body.get("message") or body.get("error_description")
        if text:
            return f"{status}: {text}"
    return f"{status}: {fallback}"


class AtollRemote:
    def __init__(
        self,
        server: str,
        *,
        username: str = "admin",
        password: str | None = None,
        token: str | None = None,
    ) -> None:
        self.server = server.rstrip("/")
        self.username = username
        self._password = password
        self._token = token

    async def _bearer(self, session: aiohttp.ClientSession) -> str:
        if self._token:
            return self._token
        password = self._password or getpass.getpass(f"Password for {self.username}: ")
        form = {"grant_type": "password", "username": self.username, "password": password}
        async with session.post(f"{self.server}/oauth/token", data=form) as answer:
            body = await answer.json(content_type=None)
            if answer.status != 200:
                raise RemoteError(
                    f"logging in failed: {_why(answer.status, body, answer.reason or '')}"
                )
        self._token = str(body["access_token"])
        return self._token

    async def _call(self, method: str, path: str, body: Any = None) -> Any:
        timeout = aiohttp.ClientTimeout(total=60)
        try:
            async with aiohttp.ClientSession(timeout=timeout) as session:
                headers = {"Authorization": f"Bearer {await self._bearer(session)}"}
                async with session.request(
                    method, f"{self.server}{path}", json=body, headers=headers
                ) as answer:
                    found = await answer.json(content_type=None)
                    if answer.status >= 400:
                        raise RemoteError(_why(answer.status, found, answer.reason or ""))
                    return found
        except aiohttp.ClientError as error:
            raise RemoteError(f"cannot reach Atoll at {self.server}: {error}") from None

    async def post(self, path: str, body: Any) -> Any:
        return await self._call("POST", path, body)

    async def delete(self, path: str) -> Any:
        return await self._call("DELETE", path)
