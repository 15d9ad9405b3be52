"""Link health: is each source's URL (and its archived copy) still there?

Each link is fetched with GET (many servers refuse HEAD), following redirects, and
closed as soon as the status line and headers are in: a body is never read, however large.
Politely: at most `concurrency` requests at once, requests to one host started at least
`host_interval` seconds apart, a timeout on each, and a User-Agent that says who is asking.
"""

import asyncio
import ipaddress
import socket
import ssl
import time
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

import httpx

MAX_REDIRECTS = 10


@dataclass(frozen=True)
class LinkResult:
    url: str
    status: int | None  # the last response's, after redirects; None when none came
    final_url: str  # where the redirects ended
    error: str  # why no response came, in words; "" when one did

    @property
    def dead(self) -> bool:
        """No answer, or an error status (4xx, 5xx): readers cannot reach it now."""
        return bool(self.error) or (self.status or 0) >= 400


class HostPacer:
    """Starts of requests to one host, at least `interval` seconds apart."""

    def __init__(self, interval: float) -> None:
        self.interval = interval
        self.locks: dict[str, asyncio.Lock] = {}
        self.last: dict[str, float] = {}

    async def wait(self, host: str) -> None:
        lock = self.locks.setdefault(host, asyncio.Lock())
        async with lock:
            ready = self.last.get(host, float("-inf")) + self.interval
            delay = ready - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            self.last[host] = time.monotonic()


# IPv6 addresses that carry an IPv4 address in their last 32 bits, which a gateway or the
# host itself reaches as IPv4: NAT64 (RFC 6052), IPv4-compatible (deprecated, ::a.b.c.d)
# and IPv4-translated (SIIT, ::ffff:0:a.b.c.d). IPv4-mapped (::ffff:a.b.c.d) and 6to4
# (2002::/16) have their own attributes in `ipaddress`; Teredo (2001::/32) is not global.
IPV4_IN_LAST_32_BITS = [
    ipaddress.IPv6Network("64:ff9b::/96"),
    ipaddress.IPv6Network("::/96"),
    ipaddress.IPv6Network("::ffff:0:0:0/96"),
]
# NAT64 for one network's own use (RFC 8215): where the IPv4 address sits is that
# network's choice, so none of it is taken as public.
LOCAL_NAT64 = ipaddress.IPv6Network("64:ff9b:1::/48")


def is_public(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """Whether an address is on the public internet, and so is any IPv4 address inside
    it: [64:ff9b::7f00:1] and [2002:7f00:1::] reach 127.0.0.1 through a gateway."""
    if not address.is_global:
        return False
    if isinstance(address, ipaddress.IPv4Address):
        return True
    if address in LOCAL_NAT64:
        return False
    inside = address.ipv4_mapped or address.sixtofour
    if inside is None and any(address in network for network in IPV4_IN_LAST_32_BITS):
        inside = ipaddress.IPv4Address(int(address) & 0xFFFF_FFFF)
    return inside is None or inside.is_global


class PrivateAddress(Exception):
    """A link (or a redirect) to this machine or a private network: not fetched."""


def refuse_private_sync(request: httpx.Request) -> None:
    """Refuse, before connecting, a request to a loopback, private, link-local or reserved
    address (by name or as resolved, or inside an IPv6 address): a source's URL, typed by
    an editor, must not make the server probe its own network and report what answered.
    A name resolved again by the connection could differ (DNS rebinding); the firewall is
    the real boundary. (The hook of a client that is not asynchronous: sources.capture.)"""
    host = _host(request)
    try:
        addresses = {ipaddress.ip_address(host.strip("[]"))}
    except ValueError:
        try:
            found = socket.getaddrinfo(host, request.url.port or 443, type=socket.SOCK_STREAM)
        except (OSError, UnicodeError):
            return  # the connection reports it: the host name does not resolve
        addresses = {ipaddress.ip_address(info[4][0]) for info in found}
    if not all(is_public(address) for address in addresses):
        raise PrivateAddress(host)


async def refuse_private(request: httpx.Request) -> None:
    """refuse_private_sync, for an asynchronous client (check_urls): the name is looked up
    in a thread, as the event loop's own getaddrinfo does."""
    await asyncio.to_thread(refuse_private_sync, request)


def _host(request: httpx.Request) -> str:
    try:
        return request.url.host
    except (ValueError, UnicodeError):  # an IDNA label Python cannot encode
        raise PrivateAddress("") from None


async def check_urls(
    urls: Iterable[str],
    *,
    concurrency: int,
    timeout: float,
    host_interval: float,
    user_agent: str,
    verify: ssl.SSLContext | bool = True,
    allow_private: bool = False,
) -> dict[str, LinkResult]:
    """Each distinct URL's result; links to private addresses are not fetched unless
    `allow_private` (for a newsroom's intranet, or tests on loopback)."""
    unique = list(dict.fromkeys(urls))
    slots = asyncio.Semaphore(concurrency)
    pacer = HostPacer(host_interval)
    async with httpx.AsyncClient(
        follow_redirects=True,
        max_redirects=MAX_REDIRECTS,
        timeout=httpx.Timeout(timeout),
        headers={"User-Agent": user_agent, "Accept": "text/html,application/pdf,*/*;q=0.8"},
        verify=verify,
        trust_env=False,  # no proxy or .netrc of the machine's: the link as readers reach it
        event_hooks={"request": [] if allow_private else [refuse_private]},
    ) as client:

        async def check(url: str) -> LinkResult:
            async with slots:
                await pacer.wait(urlsplit(url).hostname or "")
                # The whole exchange, redirects included, within the timeout (httpx's
                # timeouts are per read: a server trickling bytes would never end).
                try:
                    return await asyncio.wait_for(_fetch(client, url), timeout)
                except TimeoutError:
                    return LinkResult(url, None, url, f"No answer within {timeout:g} seconds.")
                except Exception as error:  # one odd link never stops the run
                    return LinkResult(url, None, url, f"Could not check ({type(error).__name__}).")

        results = await asyncio.gather(*(check(url) for url in unique))
    return dict(zip(unique, results, strict=True))


async def _fetch(client: httpx.AsyncClient, url: str) -> LinkResult:
    try:
        async with client.stream("GET", url) as response:
            return LinkResult(url, response.status_code, str(response.url), "")
    except httpx.TooManyRedirects:
        return LinkResult(url, None, url, f"More than {MAX_REDIRECTS} redirects.")
    except httpx.TimeoutException:
        return LinkResult(url, None, url, "No answer in time.")
    except (httpx.UnsupportedProtocol, httpx.InvalidURL, ValueError, UnicodeError):
        # ValueError and UnicodeError: a host name the IDNA rules refuse (xn--ls8h.la).
        return LinkResult(url, None, url, "Not a web address we can fetch.")
    except PrivateAddress as error:
        if not str(error):
            return LinkResult(url, None, url, "Not a web address we can reach (its host name).")
        return LinkResult(url, None, url, f"Not checked: {error} is a private or local address.")
    except httpx.HTTPError as error:
        return LinkResult(url, None, url, _why(error))


def _why(error: Exception) -> str:
    """A failure to connect in words: TLS, name lookup, refused."""
    cause: BaseException | None = error
    while cause is not None:
        if isinstance(cause, ssl.SSLCertVerificationError):
            return f"TLS certificate not trusted: {cause.verify_message}."
        if isinstance(cause, ssl.SSLError):
            return f"TLS error: {cause.reason or cause}."
        if isinstance(cause, ConnectionRefusedError):
            return "The server refused the connection."
        if isinstance(cause, socket.gaierror):
            return "The host name does not resolve."
        cause = cause.__cause__ or cause.__context__
    text = str(error).lower()
    if "refused" in text:
        return "The server refused the connection."
    return f"Could not connect ({type(error).__name__}: {str(error)[:200]})."
