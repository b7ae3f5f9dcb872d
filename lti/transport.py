"""pylti1p3 speaks HTTP through a ``requests.Session``; this one sends every request through
Insignia's safe fetcher (``verification.fetcher.call``) instead of the network stack.

So a platform's keyset, its token endpoint, its grade and roster services and a dynamic
registration's OpenID configuration obey the rules that keep a verifier from being turned
against the internal network (DESIGN.md §6): http(s) on ports 80 and 443 only, every resolved
address checked, no redirect followed, a deadline and a size cap on every answer.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import requests
from requests.adapters import BaseAdapter
from requests.structures import CaseInsensitiveDict

from verification import fetcher

#: How long one call to a platform may take, end to end (seconds).
DEADLINE = 15.0


class GuardedAdapter(BaseAdapter):
    """A transport adapter whose only way out is :func:`verification.fetcher.call`."""

    def send(  # type: ignore[override]
        self, request: requests.PreparedRequest, **_kwargs: Any
    ) -> requests.Response:
        body = request.body
        if isinstance(body, str):
            body = body.encode("utf-8")
        headers: Mapping[str, str] = {
            k: v if isinstance(v, str) else v.decode("latin-1")
            for k, v in request.headers.items()
            if k.lower() not in ("content-length", "host")
        }
        try:
            answer = fetcher.call(
                request.method or "GET",
                str(request.url),
                headers,
                body if isinstance(body, bytes) else None,
                deadline=DEADLINE,
            )
        except fetcher.FetchError as error:
            raise requests.ConnectionError(str(error), request=request) from None
        response = requests.Response()
        response.status_code = answer.status
        response.headers = CaseInsensitiveDict(answer.headers)
        response._content = answer.body
        response.url = answer.url
        response.request = request
        response.encoding = "utf-8"
        return response

    def close(self) -> None:
        pass


class GuardedSession(requests.Session):
    """Never follows a redirect (the answer is returned as it is)."""

    def request(self, method: Any, url: Any, *args: Any, **kwargs: Any) -> Any:
        kwargs["allow_redirects"] = False
        return super().request(method, url, *args, **kwargs)


def session() -> requests.Session:
    """A session that can only reach the network through the safe fetcher; it ignores
    proxies and ``.netrc`` from the environment, and follows no redirect."""
    guarded = GuardedSession()
    guarded.trust_env = False
    guarded.mount("http://", GuardedAdapter())
    guarded.mount("https://", GuardedAdapter())
    return guarded
