"""A web server on loopback whose pages a test sets (never the internet): what capture,
the watch and the archive requests fetch."""

import contextlib
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Page:
    body: Any  # bytes, or a function of the request answering bytes or (status, bytes)
    status: int = 200
    content_type: str = "text/html; charset=utf-8"
    delay: float = 0.0  # seconds before answering, the first `slow_times` times
    slow_times: int = 1_000_000
    headers: dict[str, str] = field(default_factory=dict)


class Site:
    """Pages by path; each request is recorded (path, method, body)."""

    def __init__(self) -> None:
        self.pages: dict[str, Page] = {}
        self.requests: list[tuple[str, str, bytes]] = []
        self.base = ""

    def url(self, path: str) -> str:
        return f"{self.base}{path}"

    def hits(self, path: str) -> int:
        return sum(1 for p, _, _ in self.requests if p == path)


def handler_for(site: Site) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            self.answer(b"")

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            self.answer(self.rfile.read(length))

        def answer(self, body: bytes) -> None:
            path = self.path
            site.requests.append((path, self.command, body))
            page = site.pages.get(path) or site.pages.get(path.split("?", 1)[0])
            if page is None:
                page = Page(b"Not found.", status=404, content_type="text/plain")
            if page.delay and page.slow_times > 0:
                page.slow_times -= 1
                time.sleep(page.delay)
            status, content = page.status, page.body
            if callable(content):  # answers the request: bytes, or (status, bytes)
                content = content(self)
                if isinstance(content, tuple):
                    status, content = content
            self.send_response(status)
            self.send_header("Content-Type", page.content_type)
            self.send_header("Content-Length", str(len(content)))
            for name, value in page.headers.items():
                self.send_header(name, value)
            self.end_headers()
            with contextlib.suppress(OSError):  # the client went away
                self.wfile.write(content)

        def log_message(self, *args: Any) -> None:
            pass

    return Handler


def serve_site() -> Iterator[Site]:
    site = Site()
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler_for(site))
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    host, port = server.server_address[:2]
    site.base = f"http://{host}:{port}"
    try:
        yield site
    finally:
        server.shutdown()
        server.server_close()


ARTICLE = b"""<!doctype html><html lang="en"><head><title>Leaked files detail camp rules</title>
<meta property="og:site_name" content="The Example Times">
<meta name="author" content="A. Reporter">
<meta property="article:published_time" content="2019-11-16T10:00:00Z">
</head><body><nav>Home</nav><article><h1>Leaked files detail camp rules</h1>
<p>The documents describe the camps' rules in detail.</p>
<p>"Never allow escapes," one of them says.</p></article></body></html>
"""
