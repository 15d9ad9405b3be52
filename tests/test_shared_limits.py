"""Rate limits across processes: a real gunicorn with two workers and a real Redis of the
test's own (so that it can be stopped) count one limit between them; with Redis stopped,
requests still answer, counted per process, and the log says so."""

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.db import connection

from tests.test_gunicorn import ROOT, free_port, server_env

pytestmark = [
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="a server process needs a shared database"
    ),
]

LIMIT = 8
PATH = "/api/v1/claims/?page_size=1"


def wait_for_port(port: int, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    while socket.socket().connect_ex(("127.0.0.1", port)) != 0:
        assert process.poll() is None, "the server exited"
        assert time.monotonic() < deadline, "the server did not start"
        time.sleep(0.1)


@pytest.fixture
def redis_server() -> Iterator[subprocess.Popen[bytes]]:
    """A Redis of this test's own, which it may stop."""
    program = shutil.which("redis-server")
    if program is None:
        if os.environ.get("CI"):
            pytest.fail("redis-server is not installed")
        pytest.skip("redis-server is not installed")
    port = free_port()
    server = subprocess.Popen(  # noqa: S603 - a fixed program and arguments
        [program, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
    )
    server.port = port  # type: ignore[attr-defined]
    wait_for_port(port, server)
    try:
        yield server
    finally:
        server.kill()
        server.wait()


def status(url: str) -> int:
    request = urllib.request.Request(url, headers={"Connection": "close"})  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            return int(response.status)
    except urllib.error.HTTPError as error:
        return int(error.code)


def hold(port: int) -> socket.socket:
    """A connection that says nothing yet: the sync worker that took it waits on it, so the
    other worker takes the next requests."""
    held = socket.create_connection(("127.0.0.1", port))
    time.sleep(1)  # until a worker has accepted it
    return held


def finish(held: socket.socket) -> int:
    """Send the request on a held connection; its status."""
    with held:
        held.sendall(
            f"GET {PATH} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".encode()
        )
        return int(held.makefile("rb").readline().split()[1])


def test_two_workers_share_one_limit_and_answer_with_redis_stopped(
    redis_server: subprocess.Popen[bytes], tmp_path: Path
) -> None:
    port = free_port()
    access_log, error_log = tmp_path / "access.log", tmp_path / "error.log"
    env = server_env(
        REDIS_URL=f"redis://127.0.0.1:{redis_server.port}/0",  # type: ignore[attr-defined]
        API_ANON_RATE=f"{LIMIT}/minute",
        GUNICORN_WORKERS="2",
        GUNICORN_BIND=f"127.0.0.1:{port}",
    )
    # Sync workers, one request at a time each; the access log names the worker's pid.
    options = ["--worker-class", "sync", "--threads", "1", "--access-logformat", "%(p)s %(s)s"]
    gunicorn = [sys.executable, "-m", "gunicorn", "config.wsgi", "-c", "python:config.gunicorn"]
    server = subprocess.Popen(  # noqa: S603 - our own server
        [*gunicorn, *options, "--access-logfile", str(access_log)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=error_log.open("wb"),  # gunicorn's log and the app's
    )
    url = f"http://127.0.0.1:{port}{PATH}"
    try:
        wait_for_port(port, server)
        # One worker waits on a held connection while the other answers, then the other way.
        first = hold(port)
        statuses = [status(url) for _ in range(LIMIT)]
        second = hold(port)
        statuses.append(finish(first))
        statuses += [status(url) for _ in range(LIMIT)]
        statuses.append(finish(second))
        served_by = [line.split()[0] for line in access_log.read_text().splitlines()]

        # Both workers answered, and together they let exactly LIMIT requests through.
        assert len(set(served_by[:LIMIT])) == 1
        assert len(set(served_by)) == 2, served_by
        assert statuses == [200] * LIMIT + [429] * (LIMIT + 2)

        redis_server.kill()
        redis_server.wait()
        after = [status(url) for _ in range(4)]
        assert set(after) <= {200, 429}
        assert 200 in after  # each process counts afresh for itself
    finally:
        server.terminate()
        server.wait(timeout=30)
    assert "Rate limits are counted per process" in error_log.read_text()
