"""The safe fetcher: the only code in Insignia allowed to make an outbound HTTP request.

A verifier fetches URLs that strangers give it (the pasted URL, issuer documents, did:web
documents, status lists, revocation lists, keys), so every request goes through one guard
(DESIGN.md §6, research/security-reliability.md §1.1):

- ``http`` and ``https`` only, ports 80 and 443 only, no user-info in the URL;
- the host is resolved once and **every** address is checked: loopback, private, link-local,
  CGNAT, multicast, metadata, reserved, unspecified, documentation, NAT64 and IPv4-mapped or
  -embedded forms of those are refused (v4 and v6);
- the connection goes to the validated address (no second DNS lookup: no rebinding), with
  the original ``Host`` header and TLS server name;
- redirects are followed by hand, at most 3, each target checked again from the start;
- one wall-clock deadline for the whole fetch (10 s by default, less when the verification it
  belongs to has less left: :mod:`verification.budget`), enforced by a watchdog that closes
  the socket, so a tarpit cannot hold a worker;
- body caps (2 MiB JSON, 5 MiB images), checked on ``Content-Length`` and while reading;
  ``Accept-Encoding: identity`` and no decompression, so a gzip bomb stays compressed;
- no cookies, no credentials, no proxy from the environment, our own User-Agent.

Webhooks (``webhooks.delivery``) POST through the same guard with :func:`post_json`: the same
address rules, checked again on every request, no redirect followed, the answer cut at 64 KiB.
Campus sign-on (``signon.oidc``) POSTs forms to OpenID providers with :func:`post_form`. The
LTI tool (``lti.transport``) speaks to a course platform's token, grade and roster services with
:func:`call`: any method and headers, the same guard, no redirect followed.
:func:`check_destination` applies the rules to a URL without connecting (when it is saved).
The module is about 540 lines: GET and POST share one guard, and it stays in one place.

Tests never reach the internet: ``settings.INSIGNIA_FETCH_ALLOWLIST`` maps a test host name
(``"issuer.test"`` or ``"issuer.test:443"``) to the ``"127.0.0.1:<port>"`` of a loopback server
the test started. Only those names may reach loopback, and they are spoken to in plain HTTP.
"""

from __future__ import annotations

import contextlib
import http.client
import ipaddress
import logging
import socket
import ssl
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Final
from urllib.parse import urlencode, urljoin, urlsplit

from django.conf import settings

from verification import budget

log = logging.getLogger(__name__)

JSON_MAX_BYTES: Final = 2 * 1024 * 1024
IMAGE_MAX_BYTES: Final = 5 * 1024 * 1024
MAX_REDIRECTS: Final = 3
CONNECT_TIMEOUT: Final = 3.0
ALLOWED_PORTS: Final = frozenset({80, 443})
USER_AGENT: Final = "Insignia-Verifier/1 (+https://github.com/insignia; badge verification)"
JSON_ACCEPT: Final = (
    "application/ld+json, application/vc+ld+json, application/vc, application/json;q=0.9, "
    "application/did+json;q=0.9, text/plain;q=0.5"
)

# Ranges never reached, beyond what ``ipaddress`` flags (research §1.1, OWASP SSRF sheet).
_BLOCKED_NETWORKS: Final = tuple(
    ipaddress.ip_network(n)
    for n in (
        "0.0.0.0/8",
        "10.0.0.0/8",
        "100.64.0.0/10",  # CGNAT; Alibaba's metadata 100.100.100.200 is in it
        "127.0.0.0/8",
        "169.254.0.0/16",  # link-local, cloud metadata 169.254.169.254
        "172.16.0.0/12",
        "192.0.0.0/24",
        "192.0.2.0/24",
        "192.88.99.0/24",
        "192.168.0.0/16",
        "198.18.0.0/15",
        "198.51.100.0/24",
        "203.0.113.0/24",
        "224.0.0.0/4",
        "240.0.0.0/4",  # reserved, includes 255.255.255.255
        "::/128",
        "::1/128",
        "::ffff:0:0/96",  # IPv4-mapped: checked through the embedded address too
        "64:ff9b::/96",  # NAT64
        "64:ff9b:1::/48",
        "100::/64",
        "2001::/23",
        "2001:db8::/32",
        "2002::/16",  # 6to4 embeds an IPv4 address
        "fc00::/7",
        "fe80::/10",
        "fec0::/10",
        "ff00::/8",
    )
)


class FetchError(Exception):
    """A fetch was refused or failed. ``code`` is stable (API, tests); the message is for logs."""

    code = "fetch_failed"


class BlockedURL(FetchError):
    """Refused before any connection: scheme, port, user-info or a blocked address."""

    code = "blocked_url"


class FetchTimeout(FetchError):
    code = "timeout"


class TooLarge(FetchError):
    code = "too_large"


class TooManyRedirects(FetchError):
    code = "too_many_redirects"


class OverBudget(FetchError):
    """Refused: the verification this fetch belongs to has spent its time or its fetches."""

    code = "over_budget"


@dataclass(frozen=True)
class Response:
    """What came back: the final URL after redirects, status, media type and the body."""

    url: str
    status: int
    content_type: str
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)


def resolve_host(host: str, port: int) -> list[str]:
    """All addresses of ``host`` (tests replace this with a stub resolver)."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [str(info[4][0]) for info in infos]


def _embedded_v4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address in ipaddress.ip_network("64:ff9b::/96"):
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    # IPv4-compatible ::a.b.c.d (deprecated, still routed by some stacks)
    if int(address) >> 32 == 0:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def is_blocked_address(text: str) -> bool:
    """True for every address a verifier must never connect to (v4, v6, mapped forms)."""
    try:
        address = ipaddress.ip_address(text.split("%", 1)[0])
    except ValueError:
        return True
    if isinstance(address, ipaddress.IPv6Address):
        embedded = _embedded_v4(address)
        if embedded is not None and is_blocked_address(str(embedded)):
            return True
    if any(
        address in network for network in _BLOCKED_NETWORKS if network.version == address.version
    ):
        return True
    return bool(
        address.is_private
        or address.is_loopback
        or address.is_link_local
        or address.is_multicast
        or address.is_reserved
        or address.is_unspecified
        or not address.is_global
    )


def _allowlist() -> dict[str, str]:
    value = settings.INSIGNIA_FETCH_ALLOWLIST
    return {str(k).lower(): str(v) for k, v in dict(value).items()}


@dataclass(frozen=True)
class _Target:
    scheme: str
    host: str
    port: int
    path: str
    address: str
    connect_port: int
    tls: bool


def _target(url: str) -> _Target:
    if len(url) > 2048:
        raise BlockedURL("URL longer than 2048 characters")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as error:
        raise BlockedURL(f"malformed URL: {error}") from None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise BlockedURL(f"scheme {scheme or '(none)'!r} is not fetched")
    if parts.username is not None or parts.password is not None or "@" in parts.netloc:
        raise BlockedURL("URLs with user-info are not fetched")
    host = (parts.hostname or "").lower().rstrip(".")
    if not host:
        raise BlockedURL("URL has no host")
    port = port or (443 if scheme == "https" else 80)
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    allow = _allowlist()
    mapped = allow.get(f"{host}:{port}") or allow.get(host)
    if mapped is not None:
        # Test mode: a loopback server stands in for this host (plain HTTP, see module doc).
        address, _, mapped_port = mapped.rpartition(":")
        return _Target(scheme, host, port, path, address.strip("[]"), int(mapped_port), False)
    if port not in ALLOWED_PORTS:
        raise BlockedURL(f"port {port} is not fetched (80 and 443 only)")
    try:
        addresses = resolve_host(host, port)
    except (OSError, UnicodeError) as error:
        raise FetchError(f"cannot resolve {host}: {error}") from None
    if not addresses:
        raise FetchError(f"{host} has no address")
    blocked = [a for a in addresses if is_blocked_address(a)]
    if blocked:
        # One bad answer poisons the lot: a resolver mixing public and private answers is
        # exactly how rebinding attacks start.
        # The address itself stays in the log: told to whoever asked, it would map the
        # internal network name by name.
        log.info("fetcher: %s resolves to the blocked address %s", host, blocked[0])
        raise BlockedURL(f"{host} resolves to a blocked address (internal or reserved)")
    return _Target(scheme, host, port, path, addresses[0], port, scheme == "https")


def open_connection(address: str, port: int, timeout: float) -> socket.socket:
    """Connect to an already validated address (tests wrap this to count connections)."""
    return socket.create_connection((address, port), timeout=timeout)


def _read_response(
    target: _Target, accept: str, max_bytes: int, deadline: float
) -> tuple[int, str, dict[str, str], bytes]:
    return _exchange(target, "GET", {"Accept": accept}, None, max_bytes, deadline, truncate=False)


def _exchange(
    target: _Target,
    method: str,
    headers: Mapping[str, str],
    payload: bytes | None,
    max_bytes: int,
    deadline: float,
    *,
    truncate: bool,
) -> tuple[int, str, dict[str, str], bytes]:
    """One request to the validated ``target`` under the watchdog. ``truncate``: stop reading
    at ``max_bytes`` and keep what came (a webhook's answer) instead of refusing the body."""
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        raise FetchTimeout("deadline passed")
    try:
        sock = open_connection(target.address, target.connect_port, min(CONNECT_TIMEOUT, remaining))
    except TimeoutError:
        raise FetchTimeout(f"connecting to {target.host} timed out") from None
    except OSError as error:
        raise FetchError(f"cannot connect to {target.host}: {error}") from None
    closed = threading.Event()

    def _cut_off() -> None:
        closed.set()
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)

    watchdog = threading.Timer(max(deadline - time.monotonic(), 0.0), _cut_off)
    watchdog.daemon = True
    watchdog.start()
    try:
        sock.settimeout(max(min(deadline - time.monotonic(), 5.0), 0.05))
        if target.tls:
            context = ssl.create_default_context()
            sock = context.wrap_socket(sock, server_hostname=target.host)
        connection = http.client.HTTPConnection(target.host, target.port)
        connection.sock = sock
        connection.putrequest(method, target.path, skip_host=True, skip_accept_encoding=True)
        default_port = 443 if target.scheme == "https" else 80
        host_header = target.host if target.port == default_port else f"{target.host}:{target.port}"
        connection.putheader("Host", host_header)
        for name, value in headers.items():
            connection.putheader(name, value)
        connection.putheader("Accept-Encoding", "identity")
        if not any(name.lower() == "user-agent" for name in headers):
            connection.putheader("User-Agent", USER_AGENT)
        connection.putheader("Connection", "close")
        if payload is not None:
            connection.putheader("Content-Length", str(len(payload)))
        connection.endheaders(payload)
        response = connection.getresponse()
        answer_headers = {k.lower(): v for k, v in response.getheaders()}
        length = answer_headers.get("content-length", "")
        if not truncate and length.isdigit() and int(length) > max_bytes:
            raise TooLarge(f"Content-Length {length} exceeds {max_bytes} bytes")
        body = bytearray()
        while True:
            if time.monotonic() >= deadline:
                raise FetchTimeout("deadline passed while reading the body")
            chunk = response.read1(65536) if hasattr(response, "read1") else response.read(65536)
            if not chunk:
                break
            body += chunk
            if len(body) > max_bytes:
                if truncate:
                    del body[max_bytes:]
                    break
                raise TooLarge(f"body exceeds {max_bytes} bytes")
        if closed.is_set():
            raise FetchTimeout("deadline passed")
        media = answer_headers.get("content-type", "").split(";", 1)[0].strip().lower()
        return response.status, media, answer_headers, bytes(body)
    except FetchError:
        raise
    except TimeoutError:
        raise FetchTimeout(f"{target.host} did not answer in time") from None
    except (OSError, http.client.HTTPException, ValueError) as error:
        if closed.is_set():
            raise FetchTimeout(f"{target.host}: deadline passed") from None
        raise FetchError(f"{target.host}: {type(error).__name__}: {error}") from None
    finally:
        watchdog.cancel()
        with contextlib.suppress(OSError):
            sock.close()


def _deadline_setting() -> float:
    return float(settings.INSIGNIA_FETCH_DEADLINE)


# Our own public documents a verification may need (by URL name); nothing else of ours is
# reachable through the fetcher, not even in process.
OWN_PUBLIC_DOCUMENTS: Final = frozenset(
    {
        "credential",
        "credential_json",
        "achievement",
        "achievement_version",
        "issuer_profile",
        "issuer_did",
        "status_list",
        "platform_did",
        "ob2_assertion",
        "ob2_badge",
        "ob2_badge_version",
        "ob2_issuer",
        "ob2_revocation_list",
        "credential_baked_png",
        "credential_baked_svg",
        "endorsement_credential",
    }
)


def _own_origin(url: str) -> bool:
    base = urlsplit(settings.INSIGNIA_BASE_URL)
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    return parts.scheme == base.scheme and parts.netloc.lower() == base.netloc.lower()


def _in_process(url: str, accept: str, max_bytes: int) -> Response:
    """A URL on our own origin is answered by our own view, in this process: no HTTP to
    ourselves (DESIGN.md §6), and nothing for a loopback guard to get wrong."""
    from django.contrib.auth.models import AnonymousUser
    from django.http import Http404, HttpRequest
    from django.urls import Resolver404, resolve

    parts = urlsplit(url)
    try:
        match = resolve(parts.path)
    except Resolver404:
        return Response(url, 404, "", b"")
    if match.url_name not in OWN_PUBLIC_DOCUMENTS:
        return Response(url, 404, "", b"")
    request = HttpRequest()
    request.user = AnonymousUser()
    request.method = "GET"
    request.path = request.path_info = parts.path
    request.META = {
        "HTTP_ACCEPT": accept,
        "SERVER_NAME": parts.hostname or "localhost",
        "SERVER_PORT": str(parts.port or (443 if parts.scheme == "https" else 80)),
        "REMOTE_ADDR": "127.0.0.1",
        "wsgi.url_scheme": parts.scheme,
    }
    try:
        answer = match.func(request, *match.args, **match.kwargs)
    except Http404:
        return Response(url, 404, "", b"")
    except Exception as error:  # a broken view must not break verification
        raise FetchError(f"{url}: {type(error).__name__}") from None
    body = bytes(getattr(answer, "content", b""))
    if len(body) > max_bytes:
        raise TooLarge(f"body exceeds {max_bytes} bytes")
    media = str(answer.get("Content-Type", "")).split(";", 1)[0].strip().lower()
    headers = {k.lower(): v for k, v in answer.items()}
    return Response(url, answer.status_code, media, body, headers)


def fetch(
    url: str,
    *,
    accept: str = JSON_ACCEPT,
    max_bytes: int = JSON_MAX_BYTES,
    deadline: float | None = None,
    on_hop: Callable[[str], None] | None = None,
) -> Response:
    """GET ``url`` through the guard; raise a :class:`FetchError` subclass when refused.

    Any HTTP status is returned (the caller decides: 410 means "revoked" for OB 2.0 hosted
    assertions). Redirects (301, 302, 303, 307, 308) are followed up to :data:`MAX_REDIRECTS`,
    each target validated from scratch. ``deadline`` is seconds for the whole fetch; inside a
    verification it is cut to what is left of the verification's own deadline, and past its
    budget (:mod:`verification.budget`) the fetch is refused with :class:`OverBudget`.
    """
    seconds = budget.fetch_allowance(_deadline_setting() if deadline is None else deadline)
    if seconds is None:
        raise OverBudget(f"{url}: this verification's time or fetches are spent")
    until = time.monotonic() + seconds
    current = url
    for _hop in range(MAX_REDIRECTS + 1):
        if on_hop is not None:
            on_hop(current)
        if _own_origin(current):
            return _in_process(current, accept, max_bytes)
        target = _target(current)
        status, media, headers, body = _read_response(target, accept, max_bytes, until)
        if status in (301, 302, 303, 307, 308):
            location = headers.get("location")
            if not location:
                raise FetchError(f"redirect {status} without Location")
            current = urljoin(current, location)
            continue
        return Response(current, status, media, body, headers)
    raise TooManyRedirects(f"more than {MAX_REDIRECTS} redirects from {url}")


# --------------------------------------------------------------------------------------------
# Webhooks: a POST through the same guard
# --------------------------------------------------------------------------------------------

#: How much of a webhook receiver's answer is read (the rest is dropped, not refused).
POST_RESPONSE_MAX_BYTES: Final = 64 * 1024


def check_destination(url: str) -> None:
    """Refuse ``url`` as :func:`post_json` would, without connecting: scheme, port,
    user-info, and every address its host resolves to (a webhook URL, when it is saved)."""
    if _own_origin(url):
        raise BlockedURL("requests to this platform itself are not sent")
    _target(url)


def post_json(
    url: str,
    body: bytes,
    headers: Mapping[str, str],
    *,
    deadline: float | None = None,
    max_bytes: int = POST_RESPONSE_MAX_BYTES,
) -> Response:
    """POST ``body`` (JSON) to ``url`` through the guard; raise a :class:`FetchError` subclass
    when refused or when no answer came in time.

    The address rules are the GET's, checked again at every call (a name may have been
    pointed at an internal address since it was saved). Redirects are not followed: a 3xx is
    returned as it is. At most ``max_bytes`` of the answer are read; a longer answer is cut
    there, not refused. ``deadline`` is seconds for the whole request.
    """
    return _post(url, body, "application/json", headers, deadline, max_bytes, truncate=True)


def post_form(
    url: str,
    fields: Mapping[str, str],
    headers: Mapping[str, str],
    *,
    deadline: float | None = None,
    max_bytes: int = JSON_MAX_BYTES,
) -> Response:
    """POST ``fields`` as ``application/x-www-form-urlencoded`` to ``url`` through the guard
    (an OpenID provider's token endpoint, ``signon.oidc``); raise a :class:`FetchError`
    subclass when refused or when no answer came in time.

    The same rules as :func:`post_json`, except that the answer is something the caller
    reads (a token response): one longer than ``max_bytes`` is refused, not cut.
    """
    body = urlencode(list(fields.items())).encode("ascii")
    return _post(
        url, body, "application/x-www-form-urlencoded", headers, deadline, max_bytes, truncate=False
    )


def _post(
    url: str,
    body: bytes,
    content_type: str,
    headers: Mapping[str, str],
    deadline: float | None,
    max_bytes: int,
    *,
    truncate: bool,
) -> Response:
    seconds = _deadline_setting() if deadline is None else deadline
    until = time.monotonic() + seconds
    if _own_origin(url):
        raise BlockedURL("requests to this platform itself are not sent")
    target = _target(url)
    sent = {**headers, "Content-Type": content_type}
    status, media, answer_headers, answer = _exchange(
        target, "POST", sent, body, max_bytes, until, truncate=truncate
    )
    return Response(url, status, media, answer, answer_headers)


def call(
    method: str,
    url: str,
    headers: Mapping[str, str],
    body: bytes | None = None,
    *,
    deadline: float | None = None,
    max_bytes: int = JSON_MAX_BYTES,
) -> Response:
    """One ``method`` request to ``url`` through the guard, with the caller's ``headers``
    (a bearer token, ``Accept``, ``Content-Type``) and ``body``: an LMS's grade and roster
    services (``lti.transport``). The address rules are :func:`fetch`'s; a redirect is
    returned as it is, not followed (a bearer token must not travel to where it points); an
    answer longer than ``max_bytes`` is refused."""
    seconds = _deadline_setting() if deadline is None else deadline
    until = time.monotonic() + seconds
    if _own_origin(url):
        raise BlockedURL("requests to this platform itself are not sent")
    target = _target(url)
    status, media, answer_headers, answer = _exchange(
        target, method.upper(), dict(headers), body, max_bytes, until, truncate=False
    )
    return Response(url, status, media, answer, answer_headers)
