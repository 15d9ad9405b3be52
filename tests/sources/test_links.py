"""check_links against real HTTP servers started here, on loopback: never the internet."""

import asyncio
import io
import itertools
import ssl
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest
import trustme
from django.core.management import call_command
from django.test import Client

from sources.links import refuse_private
from sources.models import LinkCheck, LinkKind
from tests.factories import SourceFactory

pytestmark = pytest.mark.django_db

SLOW = 30  # seconds the slow page takes: far past the timeout the tests give
# Seconds each check may take. Generous: eleven redirects on a loaded two-core CI machine
# once took more than one second, and only the slow page should ever reach it.
TIMEOUT = 5


@pytest.fixture(autouse=True)
def _loopback_allowed(settings: Any) -> None:
    """These servers are on loopback, which check_links refuses by default."""
    settings.LINK_CHECK_ALLOW_PRIVATE = True


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    seen: list[tuple[str, float, str]] = []  # (path, when, User-Agent)

    def do_GET(self) -> None:
        Handler.seen.append((self.path, time.monotonic(), self.headers.get("User-Agent", "")))
        if self.path == "/ok":
            self._answer(200, b"Still here.")
        elif self.path.startswith("/moved/"):
            left = int(self.path.rsplit("/", 1)[1])
            self._redirect("/ok" if left == 0 else f"/moved/{left - 1}")
        elif self.path == "/loop":
            self._redirect("/loop")
        elif self.path == "/gone":
            self._answer(410, b"Gone.")
        elif self.path == "/huge":
            # Ten gigabytes announced; the checker reads none of it.
            self.send_response(200)
            self.send_header("Content-Length", str(10 * 1024**3))
            self.end_headers()
            try:
                while True:
                    self.wfile.write(b"x" * 65536)
            except OSError:
                return
        elif self.path == "/slow":
            time.sleep(SLOW)
            self._answer(200, b"Too late.")
        else:
            self._answer(404, b"Not found.")

    def _answer(self, status: int, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _redirect(self, to: str) -> None:
        self.send_response(301)
        self.send_header("Location", to)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


def serve(server: ThreadingHTTPServer) -> Iterator[str]:
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    host, port = server.server_address[:2]
    try:
        yield f"{host}:{port}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def site() -> Iterator[str]:
    Handler.seen = []
    yield from (
        f"http://{address}" for address in serve(ThreadingHTTPServer(("127.0.0.1", 0), Handler))
    )


@pytest.fixture
def tls_site(tmp_path: Any) -> Iterator[str]:
    """HTTPS with a certificate from a CA nobody trusts (trustme's)."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    trustme.CA().issue_cert("127.0.0.1").configure_cert(context)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    yield from (f"https://{address}" for address in serve(server))


def run(*args: str) -> str:
    out = io.StringIO()
    call_command(
        "check_links", "--timeout", str(TIMEOUT), "--host-interval", "0", *args, stdout=out
    )
    return out.getvalue()


def test_check_links_records_every_case_and_reports_the_dead_ones_in_bounded_time(
    site: str, tls_site: str
) -> None:
    cases = {
        "ok": (f"{site}/ok", 200, False, ""),
        "chain": (f"{site}/moved/3", 200, False, ""),
        "missing": (f"{site}/missing", 404, True, ""),
        "gone": (f"{site}/gone", 410, True, ""),
        "huge": (f"{site}/huge", 200, False, ""),
        "slow": (f"{site}/slow", None, True, f"No answer within {TIMEOUT} seconds."),
        "loop": (f"{site}/loop", None, True, "More than 10 redirects."),
        "tls": (f"{tls_site}/ok", None, True, "TLS certificate not trusted"),
        "refused": ("http://127.0.0.1:9/", None, True, "The server refused the connection."),
        "idna": ("http://xn--ls8h.la/", None, True, "Not a web address we can fetch."),
    }
    sources = {name: SourceFactory(title=name, url=url) for name, (url, *_) in cases.items()}

    started = time.monotonic()
    out = run()
    elapsed = time.monotonic() - started

    assert elapsed < SLOW / 2  # the slow page alone would take SLOW seconds
    for name, (url, status, dead, error) in cases.items():
        check = LinkCheck.objects.get(source=sources[name], link=LinkKind.URL)
        assert (check.url, check.status, check.dead) == (url, status, dead), name
        assert check.error.startswith(error), (name, check.error)
        assert (f"Dead: {name} (URL) {url}" in out) == dead, name
    assert LinkCheck.objects.get(source=sources["chain"]).final_url == f"{site}/ok"
    assert "Checked 10 links of 10 sources in " in out
    assert out.rstrip().endswith(": 7 dead.")
    assert all(agent.startswith("Claimtrail-LinkCheck/1.0") for _, _, agent in Handler.seen)


def test_requests_to_one_host_are_spaced_and_a_recheck_replaces_the_result(site: str) -> None:
    source = SourceFactory(url=f"{site}/ok", archive_url=f"{site}/gone")
    SourceFactory(url=f"{site}/missing")

    out = io.StringIO()
    call_command("check_links", "--host-interval", "0.3", "--concurrency", "4", stdout=out)

    starts = sorted(when for _, when, _ in Handler.seen)
    assert len(starts) == 3
    assert all(b - a >= 0.29 for a, b in itertools.pairwise(starts))
    archive = LinkCheck.objects.get(source=source, link=LinkKind.ARCHIVE)
    assert (archive.status, archive.dead) == (410, True)
    source.archive_url = f"{site}/ok"
    source.save()
    run("--source", str(source.pk))
    assert LinkCheck.objects.filter(source=source).count() == 2
    assert LinkCheck.objects.get(source=source, link=LinkKind.ARCHIVE).dead is False


def test_the_admin_lists_dead_sources_without_an_archive_or_snapshot(
    site: str, editor_client: Client
) -> None:
    unsaved = SourceFactory(title="Lost page", url=f"{site}/gone", archive_url="")
    SourceFactory(
        title="Archived page",
        url=f"{site}/missing",
        archive_url=f"{site}/ok",
    )
    SourceFactory(title="Living page", url=f"{site}/ok")
    run()

    page = editor_client.get("/admin/sources/source/?link=unsaved").content.decode()

    assert "Lost page" in page
    assert "Archived page" not in page
    assert "Living page" not in page
    dead = editor_client.get("/admin/sources/source/?link=dead").content.decode()
    assert "Lost page" in dead
    assert "Archived page" in dead
    assert "Living page" not in dead
    # A check of a URL since changed does not count.
    unsaved.url = f"{site}/ok"
    unsaved.save()
    assert "Lost page" not in editor_client.get("/admin/sources/source/?link=dead").content.decode()


def test_links_to_this_machine_or_a_private_network_are_not_fetched_by_default(
    site: str, settings: Any
) -> None:
    settings.LINK_CHECK_ALLOW_PRIVATE = False
    local = SourceFactory(url=f"{site}/ok")
    private = SourceFactory(url="http://10.1.2.3/internal")
    named = SourceFactory(url=f"{site.replace('127.0.0.1', 'localhost')}/ok")

    out = run()

    assert Handler.seen == []  # nothing reached the server
    for source, host in ((local, "127.0.0.1"), (private, "10.1.2.3"), (named, "localhost")):
        check = LinkCheck.objects.get(source=source)
        assert check.dead
        assert check.error == f"Not checked: {host} is a private or local address."
    assert ": 3 dead." in out


@pytest.mark.parametrize(
    "host",
    [
        "[64:ff9b::7f00:1]",  # NAT64 of 127.0.0.1
        "[64:ff9b::a01:203]",  # NAT64 of 10.1.2.3
        "[64:ff9b:1::7f00:1]",  # NAT64 for one network's own use
        "[2002:7f00:1::]",  # 6to4 of 127.0.0.1
        "[2002:c0a8:101::1]",  # 6to4 of 192.168.1.1
        "[::127.0.0.1]",  # IPv4-compatible
        "[::ffff:127.0.0.1]",  # IPv4-mapped
        "[::ffff:0:a9fe:a9fe]",  # IPv4-translated 169.254.169.254 (cloud metadata)
    ],
)
def test_a_private_ipv4_address_inside_an_ipv6_one_is_not_fetched(host: str, settings: Any) -> None:
    settings.LINK_CHECK_ALLOW_PRIVATE = False
    source = SourceFactory(url=f"http://{host}/internal")

    run()

    check = LinkCheck.objects.get(source=source)
    assert check.dead
    assert check.error == f"Not checked: {host.strip('[]')} is a private or local address."


@pytest.mark.parametrize(
    "host", ["[64:ff9b::808:808]", "[2002:808:808::]", "[::ffff:8.8.8.8]", "8.8.8.8"]
)
def test_a_public_ipv4_address_inside_an_ipv6_one_is_let_through(host: str) -> None:
    request = httpx.Request("GET", f"http://{host}/")

    assert asyncio.run(refuse_private(request)) is None  # no PrivateAddress raised
