"""The console's two journeys in a real browser (Debian's Chromium) against ``atoll up``.

An administrator logs in with the generated password (and must change it first), makes a
workspace and a project, deploys ``python3 -m http.server`` with the wizard, watches its pod
become Ready without reloading, scales it, reads its logs, runs a command in its terminal,
rolls it back, and logs out. A project viewer then sees the same project with no action that
would change it. Every main page is photographed, light and dark (``results/console/``), and
axe finds no serious or critical violation on them (on the YAML editor, in both themes).
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Browser, Page, expect
from tests.server.atoll_process import IAM, Atoll, admin_password, as_user, login

from .browser import axe_violations, log_in, new_page, screenshots, set_theme

NEW_PASSWORD = "Journey-pass-42"
WORKSPACE = "journey"
PROJECT = "journey-web"
PROJECT_URL = f"/clusters/host/projects/{PROJECT}"


def accessible(page: Page, name: str) -> None:
    """Photographed light and dark, and clean under axe."""
    page.wait_for_load_state("networkidle")
    assert axe_violations(page) == [], name
    screenshots(page, name)


def done(page: Page) -> None:
    """The action's dialog says it is done, then closes by itself."""
    expect(page.locator('[data-testid="action-done"]')).to_be_visible()
    expect(page.get_by_role("dialog")).to_have_count(0)


def choose_action(page: Page, action: str) -> None:
    page.click('[data-testid="actions"]')
    page.click(f'[data-testid="action-{action}"]')


@pytest.fixture(scope="module")
def admin_page(atoll: Atoll, browser: Browser) -> Page:
    """The administrator, logged in through the page, its generated password changed."""
    page = new_page(browser, atoll.url)
    log_in(page, "admin", admin_password(atoll))
    # A generated password must be replaced before anything else.
    page.fill("#password-current", admin_password(atoll))
    page.fill("#password-new", NEW_PASSWORD)
    page.fill("#password-again", NEW_PASSWORD)
    page.click('[data-testid="password-submit"]')
    expect(page.locator("#password-current")).to_have_count(0)
    return page


def test_administrator_deploys_scales_debugs_and_rolls_back(admin_page: Page) -> None:
    page = admin_page
    accessible(page, "home")

    # A workspace, then a project in it on the host cluster.
    page.goto("/platform/workspaces")
    page.click('[data-testid="create-workspace"]')
    page.fill('[data-testid="workspace-name"]', WORKSPACE)
    page.click('[data-testid="workspace-submit"]')
    expect(page.locator(f'[data-row="{WORKSPACE}"]')).to_be_visible()
    accessible(page, "platform-workspaces")
    page.goto("/platform/clusters")
    expect(page.locator('[data-row="host"]')).to_be_visible()
    accessible(page, "platform-clusters")

    page.goto(f"/workspaces/{WORKSPACE}/projects")
    page.click('[data-testid="create-project"]')
    page.fill('[data-testid="project-name"]', PROJECT)
    page.click('[data-testid="project-submit"]')
    expect(page.locator(f'[data-testid="link-{PROJECT}"]')).to_be_visible()
    accessible(page, "workspace-projects")

    # The wizard: python3 -m http.server, a port, a readiness probe.
    page.goto(f"{PROJECT_URL}/deployments.apps")
    page.click('[data-testid="create"]')
    page.fill('[data-testid="wizard-name"]', "web")
    page.click('[data-testid="wizard-next"]')
    page.fill('[data-testid="container-0-image"]', "python:3")
    page.fill('[data-testid="container-0-command"]', "python3 -m http.server 8000")
    page.click('[data-testid="container-0-add-port"]')
    page.fill('[data-testid="container-0-port-0"]', "8000")
    page.select_option('[data-testid="probe-0-readiness-type"]', "http")
    page.fill('[data-testid="probe-0-readiness-path"]', "/")
    page.fill('[data-testid="probe-0-readiness-port"]', "8000")
    screenshots(page, "wizard-containers")
    while page.locator('[data-testid="wizard-create"]').count() == 0:
        page.click('[data-testid="wizard-next"]')
    expect(page.locator('[data-testid="wizard-yaml"]')).to_contain_text("http.server")
    page.click('[data-testid="wizard-create"]')
    expect(page).to_have_url(re.compile(rf"{PROJECT_URL}/deployments.apps/web"))
    expect(page.locator('[data-testid="detail-name"]')).to_have_text("web")

    # Its pod becomes Ready on the open page: no reload.
    pods = page.locator('[data-testid="pod-squares"] a[data-status="Running"]')
    expect(pods).to_have_count(1, timeout=60_000)
    accessible(page, "deployment-overview")

    # Scale to two: both pods show up, Running, live.
    choose_action(page, "workload.scale")
    page.fill('[data-testid="scale-replicas"]', "2")
    page.click('[data-testid="action-confirm"]')
    done(page)
    expect(pods).to_have_count(2, timeout=60_000)

    # The pod list, then one pod: its logs (the readiness probe's requests, which
    # http.server logs on stderr) and a command in its terminal.
    page.goto(f"{PROJECT_URL}/pods")
    expect(page.locator("[data-row]")).to_have_count(2)
    accessible(page, "project-pods")
    page.locator("[data-row] a").first.click()
    page.click('[data-testid="tab-workload.logs"]')
    expect(page.locator('[data-testid="logs"]')).to_contain_text(
        '"GET / HTTP/1.1" 200', timeout=30_000
    )
    screenshots(page, "pod-logs")
    page.click('[data-testid="tab-workload.terminal"]')
    expect(page.locator('[data-testid="terminal-status"][data-status="connected"]')).to_be_visible()
    page.locator('[data-testid="terminal"] .xterm-helper-textarea').focus()
    page.keyboard.type("echo journey-$((6*7))\n")
    expect(page.locator('[data-testid="terminal"]')).to_contain_text("journey-42")
    screenshots(page, "pod-terminal")

    # A second revision (a restart), then back to the first one with the diff shown.
    page.goto(f"{PROJECT_URL}/deployments.apps/web")
    choose_action(page, "workload.restart")
    page.click('[data-testid="action-confirm"]')
    done(page)
    page.click('[data-testid="tab-workload.revisions"]')
    expect(page.locator('[data-testid="revision-2"]')).to_be_visible(timeout=30_000)
    choose_action(page, "workload.rollback")
    dialog = page.get_by_role("dialog")
    dialog.locator('[data-testid="revision-1"]').click()
    expect(dialog.locator('[data-testid="diff"]')).to_contain_text("restartedAt")
    page.click('[data-testid="action-confirm"]')
    done(page)
    expect(page.locator('[data-testid="revision-3"]')).to_be_visible(timeout=30_000)
    screenshots(page, "deployment-revisions")

    # The cluster's pages, then log out: back at the log-in page.
    for path, name in (("overview", "cluster-overview"), ("nodes", "cluster-nodes")):
        page.goto(f"/clusters/host/{path}")
        accessible(page, name)
    page.click('[data-testid="user-menu"]')
    page.click('[data-testid="logout"]')
    expect(page).to_have_url(re.compile(r"/login"))
    accessible(page, "login")


def test_a_project_viewer_is_offered_nothing_that_changes_it(
    atoll: Atoll, browser: Browser, admin_page: Page
) -> None:
    admin = as_user(login(atoll, password=NEW_PASSWORD))
    user = {
        "apiVersion": "iam.atoll.io/v1alpha1",
        "kind": "User",
        "metadata": {"name": "journey-viewer"},
        "spec": {"email": "viewer@example.com", "password": "Viewer-pass-42"},
    }
    made = admin.post(f"{atoll.url}/apis/iam.atoll.io/v1alpha1/users", json=user, timeout=10)
    assert made.status_code == 201, made.text
    members = f"{atoll.url}{IAM}/clusters/host/namespaces/{PROJECT}/members"
    viewer = [{"username": "journey-viewer", "roleRef": "viewer"}]
    added = admin.post(members, json=viewer, timeout=10)
    assert added.status_code in (200, 201), added.text

    page = new_page(browser, atoll.url)
    log_in(page, "journey-viewer", "Viewer-pass-42")
    page.goto(f"{PROJECT_URL}/deployments.apps")
    expect(page.locator('[data-row="web"]')).to_be_visible()
    expect(page.locator('[data-testid="create"]')).to_have_count(0)
    expect(page.locator('[data-testid="bulk-delete"]')).to_have_count(0)

    page.click('[data-testid="link-web"]')
    expect(page.locator('[data-testid="detail-name"]')).to_have_text("web")
    # No Actions menu at all: the viewer may do nothing to the Deployment.
    page.wait_for_load_state("networkidle")
    expect(page.locator('[data-testid="actions"]')).to_have_count(0)
    accessible(page, "viewer-deployment")
    # Its YAML can be read, not edited.
    page.click('[data-testid="tab-resources.yaml"]')
    expect(page.locator('[data-testid="yaml-editor"]')).to_be_visible()
    expect(page.locator('[data-testid="yaml-edit"]')).to_have_count(0)
    expect(page.locator(".monaco-editor .view-lines")).to_contain_text("apiVersion")
    accessible(page, "viewer-deployment-yaml")  # the editor's colours included
    set_theme(page, "dark")
    assert axe_violations(page) == [], "viewer-deployment-yaml, dark"
    set_theme(page, "light")

    # A page of the platform is refused in words.
    page.goto("/platform/users")
    expect(page.locator('[data-testid="forbidden"]')).to_be_visible()
    screenshots(page, "viewer-forbidden")

    # A session the server no longer accepts: back to the log-in page, saying why, and after
    # logging in again, back where the user was.
    page.goto(f"{PROJECT_URL}/pods")
    expect(page.locator("[data-row]").first).to_be_visible()
    page.evaluate(
        """() => {
            const session = JSON.parse(localStorage.getItem('atoll.session'));
            session.accessToken = 'not-a-token';
            session.refreshToken = 'not-a-token';
            localStorage.setItem('atoll.session', JSON.stringify(session));
        }"""
    )
    page.reload()
    expect(page).to_have_url(re.compile(r"/login\?expired=1"))
    expect(page.get_by_text("Your session has ended")).to_be_visible()
    page.fill("#username", "journey-viewer")
    page.fill("#password", "Viewer-pass-42")
    page.click('[data-testid="login-submit"]')
    expect(page).to_have_url(re.compile(rf"{PROJECT_URL}/pods$"))
    expect(page.locator("[data-row]").first).to_be_visible()
