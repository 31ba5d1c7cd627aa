"""Components on and off at run time, through one cluster-scoped object."""

from __future__ import annotations

import json

from tests.server.atoll_process import Atoll, as_user, login, user_session
from tests.waiting import eventually

COMPONENTS = "/kapis/config.atoll.io/v1alpha1/components"
EVENTS = "/kapis/auditing.atoll.io/v1alpha1/events"


def test_components_are_listed_and_switched_at_run_time(atoll: Atoll) -> None:
    admin = as_user(login(atoll))
    listed = admin.get(f"{atoll.url}{COMPONENTS}", timeout=10).json()
    by_name = {c["name"]: c for c in listed["items"]}
    assert {"auditing", "clusters", "iam", "tenant"} <= set(by_name)
    assert by_name["iam"]["required"] and by_name["clusters"]["required"]
    assert by_name["auditing"] == {
        "name": "auditing",
        "description": by_name["auditing"]["description"],
        "enabled": True,
        "required": False,
        "ready": True,
    }
    regular = user_session(atoll, "reader")
    assert regular.get(f"{atoll.url}{COMPONENTS}", timeout=10).status_code == 200
    off = {"enabled": False}
    assert regular.put(f"{atoll.url}{COMPONENTS}/auditing", json=off, timeout=10).status_code == 403
    assert admin.put(f"{atoll.url}{COMPONENTS}/iam", json=off, timeout=10).status_code == 409
    assert admin.put(f"{atoll.url}{COMPONENTS}/nothing", json=off, timeout=10).status_code == 404
    assert admin.put(f"{atoll.url}{COMPONENTS}/auditing", json={}, timeout=10).status_code == 422

    switched = admin.put(f"{atoll.url}{COMPONENTS}/auditing", json=off, timeout=10)
    assert switched.status_code == 200 and switched.json()["enabled"] is False
    stored = json.loads(
        atoll.kubectl("get", "platformconfigs.config.atoll.io", "atoll", "-o", "json")
    )
    assert stored["spec"]["components"]["auditing"] == {"enabled": False}
    eventually(lambda: admin.get(f"{atoll.url}{EVENTS}", timeout=10).status_code == 404)
    gone = admin.get(f"{atoll.url}{EVENTS}", timeout=10)
    assert gone.json()["detail"] == "the auditing component is turned off"
    listed = admin.get(f"{atoll.url}{COMPONENTS}", timeout=10).json()
    assert {c["name"]: c["enabled"] for c in listed["items"]}["auditing"] is False

    # Editing the object directly works the same way.
    atoll.kubectl(
        "patch",
        "platformconfigs.config.atoll.io",
        "atoll",
        "--type=merge",
        "-p",
        '{"spec": {"components": {"auditing": {"enabled": true}}}}',
    )
    eventually(lambda: admin.get(f"{atoll.url}{EVENTS}", timeout=10).status_code == 200)
