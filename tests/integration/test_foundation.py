"""The skeleton's promises: health, errors, settings that refuse to start, a real worker."""

import os
import subprocess
import sys

import pytest
from django.urls import reverse

from tests.support.processes import ROOT
from tests.support.production import PROD_ENV
from tests.support.waiting import wait_for


def run_manage(*args, env_overrides, drop=()):
    skip = set(PROD_ENV) | set(drop) | {"DJANGO_ALLOW_ASYNC_UNSAFE"}
    env = {k: v for k, v in os.environ.items() if k not in skip}
    env.update(env_overrides)
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True
    )


def test_check_deploy_is_clean_with_production_settings():
    result = run_manage("check", "--deploy", "--fail-level", "WARNING", env_overrides=PROD_ENV)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


@pytest.mark.parametrize(
    "missing", ["SECRET_KEY", "ALLOWED_HOSTS", "TOKEN_ENCRYPTION_KEYS", "MS_CLIENT_SECRET"]
)
def test_production_refuses_to_start_without_a_secret_and_names_it(missing):
    env = {k: v for k, v in PROD_ENV.items() if k != missing}
    result = run_manage("check", env_overrides=env)
    assert result.returncode != 0
    assert missing in result.stderr


def test_a_malformed_setting_is_named_at_start_up():
    result = run_manage("check", env_overrides={"DEBUG": "true", "SYNC_BATCHES_IN_FLIGHT": "many"})
    assert result.returncode != 0
    assert "SYNC_BATCHES_IN_FLIGHT" in result.stderr


@pytest.mark.django_db
def test_unknown_url_gets_the_styled_404(client):
    resp = client.get("/no/such/page")
    assert resp.status_code == 404
    assert b"Page not found" in resp.content
    assert b"bootstrap" in resp.content


@pytest.mark.django_db
def test_healthz_reports_each_dependency_to_an_admin(client, graph_settings, make_user):
    from django.core.cache import cache

    cache.clear()
    client.force_login(make_user("admin"))
    resp = client.get(reverse("portal:healthz"))
    body = resp.json()
    assert set(body["checks"]) == {"database", "broker", "graph"}
    assert body["checks"]["database"]["ok"] is True
    assert body["checks"]["graph"]["ok"] is True
    assert resp.status_code == 200 and body["ok"] is True


@pytest.mark.django_db
def test_healthz_answers_503_when_graph_is_unreachable(client, settings, make_user):
    from django.core.cache import cache

    cache.clear()
    client.force_login(make_user("admin"))
    settings.GRAPH_BASE_URL = "https://127.0.0.1:9"  # nothing listens on the discard port
    settings.MS_AUTHORITY = "https://127.0.0.1:9/tenant"
    resp = client.get(reverse("portal:healthz"))
    assert resp.status_code == 503
    assert resp.json()["checks"]["graph"]["ok"] is False
    cache.clear()


def test_a_real_worker_consumes_a_task(celery_worker_process):
    from portal.models import WorkerHeartbeat
    from portal.tasks import worker_heartbeat

    worker_heartbeat.delay()
    beat = wait_for(lambda: WorkerHeartbeat.objects.first(), timeout=60)
    assert beat.hostname


def test_server_error_page_is_styled_and_leaks_nothing(rf):
    from portal.views.errors import server_error

    try:
        raise RuntimeError("secret detail from the database layer")
    except RuntimeError:
        resp = server_error(rf.get("/boom"))
    assert resp.status_code == 500
    assert b"Something went wrong" in resp.content
    assert b"secret detail" not in resp.content
    assert b"Traceback" not in resp.content


@pytest.mark.django_db
def test_base_layout_links_vendored_assets_and_no_cdn(client):
    html = client.get("/no/such/page").content.decode()
    for asset in ("vendor/bootstrap-5.3.9/", "vendor/htmx-2.0.11/htmx.min.js", "js/portal.js"):
        assert asset in html
    assert "://cdn" not in html and "unpkg" not in html and "jsdelivr" not in html
