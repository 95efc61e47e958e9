"""What the recording proxy changes in what it forwards, and why: only what keeps a client talking to the proxy.

A GWS server names itself in its replies (the absolute ``uri``, ``path`` and ``uris`` of every object, a
``Location``) and a browser stores its cookies for the host a ``Set-Cookie`` names. Forwarded unchanged, either would
send the client's next request past the proxy, straight to the upstream: the proxy would no longer see (or judge)
that traffic. So the proxy gives the upstream's address its own, in three places:

- **Bodies** (``Addresses.body``): the origin, written plainly or JSON-escaped (``http:\\/\\/``), with its default port
  spelled out or not (``https://gws.example`` is ``https://gws.example:443``), and never inside a longer authority
  (``http://host:80`` does not rewrite the start of ``http://host:8080`` or ``http://host:80.evil``).
- **Compressed bodies** (``forwarded``): a server that honours the client's ``Accept-Encoding`` sends
  ``Content-Encoding: gzip`` (or deflate, br), and the address is then inside the compressed bytes, where no
  byte-level replacement reaches it. The proxy decodes the body (it does anyway: the judge reads what the client
  reads), and only when the decoded body names the upstream does it rewrite it and encode it again with the same
  codings, in the same order; the reply's Content-Length is that of the new bytes. A body that names no upstream
  address is forwarded as the server compressed it, byte for byte: re-encoding everything would cost time on every
  exchange and hide how the server itself compresses. Dropping ``Accept-Encoding`` from requests instead would have
  changed what every client sends, and what the judge sees of the server. A coding the proxy cannot both decode and
  encode (zstd, an unknown one) or a body that does not decode as labelled passes unchanged, as the client would
  get it directly; ``_CODECS`` lists what can be rewritten.
- **Set-Cookie** (``Addresses.cookie``): a ``Domain`` attribute that the upstream's host domain-matches (RFC 6265
  section 5.1.3: the host itself, or a parent domain) is removed, so that the cookie becomes a host-only cookie of
  the proxy's host, the host the browser actually talks to (nginx's ``proxy_cookie_domain`` rewrites the same
  attribute; the proxy's host is often an IP address, which no ``Domain`` attribute can name across browsers, so
  removing beats replacing). A ``Domain`` naming anything else is left as it came: a browser refuses it from the
  upstream as it would from the proxy. Every other attribute, ``Secure`` and ``Path`` included, stays as sent: a
  browser keeps and returns a ``Secure`` cookie of an https upstream over the proxy's plain http on loopback
  (127.0.0.1 and localhost are secure contexts; tests/test_passive_proxy_upstreams.py shows it with Chromium), and a
  proxy listening elsewhere over plain http should not have it.

Requests are rewritten the other way (the proxy's address to the upstream's) with the same rules.
"""

from __future__ import annotations

import functools
import gzip
import re
import zlib
from collections.abc import Callable
from urllib.parse import urlsplit

try:
    import brotli  # httpx decodes br when it is installed, and then offers it in Accept-Encoding
except ImportError:  # pragma: no cover - depends on the installation
    brotli = None

__all__ = ["Addresses", "addresses", "decoded", "forwarded"]

_DEFAULT_PORTS = {"http": 80, "https": 443, "ws": 80, "wss": 443}
# What may follow an origin that ends where the origin ends: a path, a query, a quote, whitespace... never a
# character that would continue its host or port.
_NOT_CONTINUED = r"(?![\w.:\-])"


def _deflate_decoded(body: bytes) -> bytes:
    """HTTP's "deflate" is the zlib format (RFC 9110 section 8.4.1.2); some servers send raw deflate: both read."""
    try:
        return zlib.decompress(body)
    except zlib.error:
        return zlib.decompress(body, -zlib.MAX_WBITS)


# coding -> (decode, encode). gzip's mtime 0: the same body gives the same bytes.
_CODECS: dict[str, tuple[Callable[[bytes], bytes], Callable[[bytes], bytes]]] = {
    "gzip": (gzip.decompress, functools.partial(gzip.compress, compresslevel=6, mtime=0)),
    "x-gzip": (gzip.decompress, functools.partial(gzip.compress, compresslevel=6, mtime=0)),
    "deflate": (_deflate_decoded, zlib.compress),
}
if brotli is not None:
    _CODECS["br"] = (brotli.decompress, functools.partial(brotli.compress, quality=5))


class Addresses:
    """One origin given another wherever a body, a header or a cookie names it."""

    def __init__(self, old: str, new: str) -> None:
        parts = urlsplit(old)
        scheme, host = parts.scheme.lower(), parts.hostname or ""
        self.old_host = host
        authority = f"[{host}]" if ":" in host else host
        default = _DEFAULT_PORTS.get(scheme)
        port = parts.port or default
        spellings = [f"{scheme}://{authority}" + (f":{port}" if port else "")]
        if port is not None and port == default:
            spellings.append(f"{scheme}://{authority}")
        escaped = [s.replace("/", "\\/") for s in spellings]
        alternatives = "|".join(re.escape(s) for s in sorted(spellings + escaped, key=len, reverse=True))
        self._text = re.compile(f"(?:{alternatives}){_NOT_CONTINUED}")
        self._bytes = re.compile(self._text.pattern.encode("utf-8"))
        self._new, self._new_escaped = new, new.replace("/", "\\/")
        # Every spelling contains the host (URIs a server builds from the Host header httpx sends: lower case),
        # so a body without it costs one substring search.
        self._host_bytes = authority.encode("utf-8")

    def text(self, text: str) -> str:
        if self.old_host not in text:
            return text
        return self._text.sub(lambda m: self._new_escaped if "\\/" in m.group() else self._new, text)

    def body(self, body: bytes) -> bytes:
        """``body`` with the old origin replaced; the very same object when it names none."""
        if self._host_bytes not in body:
            return body
        new, new_escaped = self._new.encode("utf-8"), self._new_escaped.encode("utf-8")
        rewritten = self._bytes.sub(lambda m: new_escaped if b"\\/" in m.group() else new, body)
        return body if rewritten == body else rewritten

    def cookie(self, set_cookie: str) -> str:
        """A Set-Cookie value without a Domain attribute that the old host domain-matches (RFC 6265 5.1.3)."""
        pair, *attributes = set_cookie.split(";")
        kept = [a for a in attributes if not self._names_old_host(a)]
        return set_cookie if len(kept) == len(attributes) else ";".join([pair, *kept])

    def _names_old_host(self, attribute: str) -> bool:
        name, _, value = attribute.partition("=")
        if name.strip().lower() != "domain":
            return False
        domain = value.strip().lstrip(".").lower()
        return bool(domain) and (self.old_host == domain or self.old_host.endswith("." + domain))


@functools.lru_cache(maxsize=64)
def addresses(old: str, new: str) -> Addresses:
    """The rewriter from ``old`` to ``new``; one per pair (the proxy's origin comes with each request's Host)."""
    return Addresses(old, new)


def _codings(content_encoding: str | None) -> list[str]:
    """The codings applied, first to last (RFC 9110 section 8.4); identity is none."""
    codings = [c.strip().lower() for c in (content_encoding or "").split(",")]
    return [c for c in codings if c and c != "identity"]


def decoded(body: bytes, content_encoding: str | None) -> bytes | None:
    """``body`` as the client reads it once its HTTP layer undid the codings; None when it cannot be decoded."""
    for coding in reversed(_codings(content_encoding)):
        codec = _CODECS.get(coding)
        if codec is None:
            return None
        try:
            body = codec[0](body)
        except Exception:  # zlib.error, gzip.BadGzipFile, EOFError, brotli.error: not what it says it is
            return None
    return body


def forwarded(body: bytes, rewrite: Addresses, content_encoding: str | None) -> tuple[bytes, bytes]:
    """(the bytes to forward, the body as the client reads it) for a body with that Content-Encoding."""
    codings = _codings(content_encoding)
    if not codings:
        rewritten = rewrite.body(body)
        return rewritten, rewritten
    plain = decoded(body, content_encoding)
    if plain is None:
        return body, body
    client_reads = rewrite.body(plain)
    if client_reads is plain:
        return body, plain  # nothing to rewrite: the server's own bytes
    encoded = client_reads
    for coding in codings:
        encoded = _CODECS[coding][1](encoded)
    return encoded, client_reads
