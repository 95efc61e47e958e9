"""Untrusted JSON in, valid JSON out: the one parser of every request body and websocket frame (GWS-HOST).

Every JSON input (REST bodies, Bayeux long-polling bodies and websocket frames, the stimulus API) is read by
``parse``, which refuses what no handler can use safely (E94, E95): a document nested deeper than
``MAX_DEPTH`` (Python's parser would raise RecursionError, and every recursive step after it — the schema
check, a deep copy, the reply — could too), and a lone UTF-16 surrogate escape (``"\\ud800"``: no UTF-8 text
holds it, so a stored one would break every later reply that carries it, to any user). ``dumps`` is the
serializer of every reply: should a lone surrogate ever reach one by another path, it is written as its JSON
escape rather than failing the whole reply.

``waived`` carries the names of the checks a fault mode (reference_impl/faults.py) switches off:
``"json-depth"`` and ``"lone-surrogate"``.
"""

from __future__ import annotations

import json
from collections.abc import Collection
from typing import Any

from starlette.responses import JSONResponse

__all__ = ["MAX_DEPTH", "JsonInputError", "SafeJSONResponse", "dumps", "parse"]

# GWS bodies nest a handful of levels (userData may hold objects); 64 leaves room for any client's data.
MAX_DEPTH = 64


class JsonInputError(ValueError):
    """Input that is not a JSON document the server accepts; the message says why (for statusCode 2 / 400::)."""


def parse(raw: bytes | str, *, waived: Collection[str] = ()) -> Any:
    """The JSON document in ``raw`` (UTF-8); JsonInputError when it is malformed, too deep or holds a lone surrogate."""
    try:
        text = raw.decode("utf-8") if isinstance(raw, bytes) else raw
    except UnicodeDecodeError:
        raise JsonInputError("body is not UTF-8") from None
    try:
        document = json.loads(text, parse_constant=_reject_constant)
    except RecursionError:
        if "json-depth" in waived:
            raise  # the fault: the parser's own error escapes to the server's last resort
        raise JsonInputError(f"JSON nested deeper than {MAX_DEPTH} levels") from None
    except ValueError as exc:
        raise JsonInputError(f"malformed JSON: {str(exc)[:120]}") from None
    _check(document, waived)
    return document


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _check(document: Any, waived: Collection[str]) -> None:
    """Depth and lone surrogates, walked without recursion (the document may be as deep as the parser allowed)."""
    depth_checked = "json-depth" not in waived
    surrogates_checked = "lone-surrogate" not in waived
    stack: list[tuple[Any, int]] = [(document, 0)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, dict):
            if depth_checked and depth >= MAX_DEPTH:
                raise JsonInputError(f"JSON nested deeper than {MAX_DEPTH} levels")
            for key, value in node.items():
                if surrogates_checked and _lone_surrogate(key):
                    raise JsonInputError("a member name holds a lone UTF-16 surrogate")
                stack.append((value, depth + 1))
        elif isinstance(node, list):
            if depth_checked and depth >= MAX_DEPTH:
                raise JsonInputError(f"JSON nested deeper than {MAX_DEPTH} levels")
            stack.extend((value, depth + 1) for value in node)
        elif isinstance(node, str) and surrogates_checked and _lone_surrogate(node):
            raise JsonInputError("a string holds a lone UTF-16 surrogate (not Unicode text)")


def _lone_surrogate(text: str) -> bool:
    # A surrogate pair escape ("\ud83d\ude00") was joined into one character by the parser; what is left is alone.
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def dumps(content: Any) -> bytes:
    """UTF-8 JSON as Starlette's JSONResponse writes it; a lone surrogate, should one get this far, escaped."""
    try:
        return json.dumps(content, ensure_ascii=False, allow_nan=False, indent=None, separators=(",", ":")).encode()
    except UnicodeEncodeError:
        return json.dumps(content, ensure_ascii=True, allow_nan=False, indent=None, separators=(",", ":")).encode()


class SafeJSONResponse(JSONResponse):
    """JSONResponse whose rendering never fails on a string that is not Unicode text (``dumps``)."""

    def render(self, content: Any) -> bytes:
        return dumps(content)
