"""Rate limits fail open: with Redis down or hanging, requests go through (api.throttling)."""

import socket
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.http import HttpResponse
from django.test import Client, RequestFactory
from rest_framework.test import APIClient
from rest_framework.throttling import AnonRateThrottle

from api.models import ApiToken
from config import replicas
from config.settings import cache_settings

pytestmark = pytest.mark.django_db


@pytest.fixture
def three_a_minute() -> Iterator[None]:
    AnonRateThrottle.THROTTLE_RATES = {**AnonRateThrottle.THROTTLE_RATES, "anon": "3/minute"}
    yield
    AnonRateThrottle.THROTTLE_RATES = django_settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]


@pytest.fixture
def silent_server() -> Iterator[int]:
    """A port that accepts connections and never answers: a hanging Redis."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        server.settimeout(0.1)
        while not stop.is_set():
            try:
                accepted.append(server.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield server.getsockname()[1]
    stop.set()
    thread.join()
    for conn in accepted:
        conn.close()
    server.close()


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_with_redis_down_requests_go_through_counted_per_process_and_the_log_says_so(
    api_client: APIClient, settings: Any, three_a_minute: None, caplog: pytest.LogCaptureFixture
) -> None:
    settings.CACHES = cache_settings(f"redis://127.0.0.1:{closed_port()}/0")

    statuses = [api_client.get("/api/v1/claims/").status_code for _ in range(5)]

    assert statuses == [200, 200, 200, 429, 429]
    assert "Rate limits are counted per process" in caplog.text
    # Redis is not asked again at every request, only after a while.
    assert caplog.text.count("counted per process") <= 2


def test_with_redis_hanging_requests_go_through_after_a_short_timeout(
    api_client: APIClient, settings: Any, silent_server: int, caplog: pytest.LogCaptureFixture
) -> None:
    settings.CACHES = cache_settings(f"redis://127.0.0.1:{silent_server}/0")

    assert api_client.get("/api/v1/claims/").status_code == 200
    assert "Timeout" in caplog.text


def test_with_redis_up_the_limit_holds(
    api_client: APIClient, settings: Any, three_a_minute: None
) -> None:
    with socket.socket() as probe:
        if probe.connect_ex(("127.0.0.1", 6379)) != 0:
            pytest.skip("no Redis on 127.0.0.1:6379")
    settings.CACHES = cache_settings("redis://127.0.0.1:6379/15")
    from django.core.cache import cache

    cache.clear()
    statuses = [api_client.get("/api/v1/claims/").status_code for _ in range(4)]
    cache.clear()

    assert statuses == [200, 200, 200, 429]


def test_the_reading_pages_search_is_rate_limited_but_browsing_is_not(
    client: Any, three_a_minute: None
) -> None:
    searches = [client.get("/", {"q": f"camps {n}"}).status_code for n in range(3)]
    limited = client.get("/", {"q": "camps"})
    browsing = [client.get("/").status_code for _ in range(5)]

    assert searches == [200, 200, 200]
    assert limited.status_code == 429
    assert int(limited["Retry-After"]) > 0
    assert "Too many searches" in limited.content.decode()
    assert browsing == [200] * 5


@pytest.mark.django_db
def test_a_token_clients_read_after_write_mark_needs_no_redis(
    settings: Any, caplog: pytest.LogCaptureFixture
) -> None:
    settings.CACHES = cache_settings(f"redis://127.0.0.1:{closed_port()}/0")
    token, key = ApiToken.issue(name="Intake script", created_by=None)
    request = RequestFactory().get("/api/v1/claims/", HTTP_AUTHORIZATION=f"Bearer {key}")
    assert replicas._pinned(request) is False  # it wrote nothing: the replica serves it

    # Someone else sending the token's prefix with a made-up secret marks nothing.
    forged = RequestFactory().post("/admin/login/", HTTP_AUTHORIZATION=f"Bearer {key}x")
    replicas._pin(forged, HttpResponse())
    assert replicas._pinned(request) is False

    write = RequestFactory().post("/api/v1/claims/", HTTP_AUTHORIZATION=f"Bearer {key}")
    write.auth = token  # as the API's authentication leaves it
    replicas._pin(write, HttpResponse())

    assert replicas._pinned(request) is True  # kept on its token, in the primary
    token.refresh_from_db()
    assert token.wrote_at is not None
    assert "cache" not in caplog.text


@pytest.mark.django_db
def test_downloads_past_the_bound_are_a_429_but_static_files_and_pages_are_not_counted(
    settings: Any,
) -> None:
    settings.STREAMS_PER_PROCESS = 1
    # WhiteNoise serving from the project's static folders, as with DEBUG (make run).
    settings.WHITENOISE_USE_FINDERS = settings.WHITENOISE_AUTOREFRESH = True
    client = Client()
    first = client.get("/api/v1/claims.csv")  # open, not yet read: holds the one slot

    second = client.get("/api/v1/claims.ndjson")
    static = [client.get("/static/claimtrail.css") for _ in range(3)]
    page = client.get("/api/v1/claims/")

    assert first.status_code == 200
    assert second.status_code == 429
    assert int(second["Retry-After"]) > 0
    assert second.json()["errors"][0]["code"] == "throttled"
    assert [response.status_code for response in static] == [200, 200, 200]
    assert page.status_code == 200
    b"".join(first.streaming_content)  # read to the end: the slot is given back
    assert client.get("/api/v1/claims.ndjson").status_code == 200


def test_with_redis_down_wrong_api_tokens_are_still_counted_per_process(
    api_client: APIClient, settings: Any
) -> None:
    settings.CACHES = cache_settings(f"redis://127.0.0.1:{closed_port()}/0")
    rates = settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {**rates, "bad_token": "3/minute"},
    }
    api_client.credentials(HTTP_AUTHORIZATION="Bearer ct_deadbeef_nope")

    statuses = [api_client.get("/api/v1/claims/").status_code for _ in range(5)]

    assert statuses == [401, 401, 401, 429, 429]
