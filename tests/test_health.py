"""/healthz and /readyz, as a load balancer's probe asks them: by plain HTTP, any Host."""

import socket
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client

from config.settings import cache_settings
from tests.test_throttling import closed_port

pytestmark = pytest.mark.django_db


def test_healthz_answers_a_probe_at_the_containers_address_without_reading_anything(
    client: Client, django_assert_num_queries: Any, settings: Any
) -> None:
    settings.ALLOWED_HOSTS = ["claims.example.org"]
    settings.SECURE_SSL_REDIRECT = True

    with django_assert_num_queries(0):
        response = client.get("/healthz", HTTP_HOST="10.1.2.3:8000")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert response["Cache-Control"] == "no-store"
    # Anything else from that address is still refused.
    assert client.get("/", HTTP_HOST="10.1.2.3:8000").status_code == 400


def test_readyz_reports_the_database_answering(client: Client) -> None:
    response = client.get("/readyz", HTTP_HOST="10.1.2.3")

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["checks"]["database"]["ok"] is True
    assert "redis" not in body["checks"]  # no REDIS_URL: nothing to ask


def test_readyz_is_503_naming_redis_when_it_is_down(client: Client, settings: Any) -> None:
    settings.CACHES = cache_settings(f"redis://127.0.0.1:{closed_port()}/0")

    response = client.get("/readyz")

    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "failing"
    assert body["checks"]["database"]["ok"] is True
    assert body["checks"]["redis"] == {
        "ok": False,
        "error": "ConnectionError",
        "ms": body["checks"]["redis"]["ms"],
    }
    assert "127.0.0.1" not in response.content.decode()


def test_readyz_is_200_with_redis_up(client: Client, settings: Any) -> None:
    with socket.socket() as probe:
        if probe.connect_ex(("127.0.0.1", 6379)) != 0:
            pytest.skip("no Redis on 127.0.0.1:6379")
    settings.CACHES = cache_settings("redis://127.0.0.1:6379/15")

    response = client.get("/readyz")

    assert response.status_code == 200
    assert response.json()["checks"]["redis"]["ok"] is True


def test_readyz_fails_without_a_worker_when_one_is_required(client: Client, settings: Any) -> None:
    from django.utils import timezone

    from jobs import engine
    from jobs.models import WorkerHeartbeat

    settings.TASKS_REQUIRE_WORKER = True
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"]["worker"] == {
        "ok": False,
        "error": "NoWorker",
        "heartbeat_age_s": None,
        "ms": response.json()["checks"]["worker"]["ms"],
    }
    engine.beat("w1", started_at=timezone.now())
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json()["checks"]["worker"]["heartbeat_age_s"] < 60
    WorkerHeartbeat.objects.update(seen_at=timezone.now() - timedelta(hours=1))
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"]["worker"]["heartbeat_age_s"] >= 3600
