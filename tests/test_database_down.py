"""With the database unreachable (a restart, a failover) readers get a 503 and
Retry-After, not a server error: a real gunicorn whose database address answers nothing."""

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module")
def server_without_database() -> Iterator[str]:
    port, nowhere = free_port(), free_port()
    env = {
        **os.environ,
        "DEBUG": "false",
        "SECRET_KEY": "test-only-" + "x" * 50,
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_SSL_REDIRECT": "false",
        "DATABASE_URL": f"postgres://postgres@127.0.0.1:{nowhere}/claimtrail",
    }
    server = subprocess.Popen(  # noqa: S603 - our own command line
        [sys.executable, "-m", "gunicorn", "config.wsgi", "--bind", f"127.0.0.1:{port}"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with socket.socket() as probe:
                if probe.connect_ex(("127.0.0.1", port)) == 0:
                    break
            time.sleep(0.1)
        yield base
    finally:
        server.terminate()
        server.wait(10)


def get(url: str) -> tuple[int, dict[str, str], bytes]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310 - loopback
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


@pytest.mark.parametrize("path", ["/api/v1/claims/", "/api/v1/claims/1/", "/api/v1/sources/"])
def test_the_api_answers_503_with_retry_after_in_its_error_shape(
    server_without_database: str, path: str
) -> None:
    status, headers, body = get(server_without_database + path)

    assert status == 503, body[:300]
    assert headers["Retry-After"] == "5"
    assert b'"code":"service_unavailable"' in body
    assert b"postgres" not in body.lower()


@pytest.mark.parametrize("path", ["/", "/claims/1/", "/people/1/"])
def test_the_reading_pages_answer_503_with_retry_after(
    server_without_database: str, path: str
) -> None:
    status, headers, body = get(server_without_database + path)

    assert status == 503, body[:300]
    assert headers["Retry-After"] == "5"
    assert b"Briefly unavailable" in body


def test_readyz_is_503_naming_the_database_and_healthz_still_200(
    server_without_database: str,
) -> None:
    status, _, body = get(server_without_database + "/readyz")

    assert status == 503
    assert b'"database": {"ok": false, "error": "OperationalError"' in body
    assert b"postgres" not in body.lower()
    assert get(server_without_database + "/healthz")[0] == 200
