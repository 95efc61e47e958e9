"""Read-only searches: GET /recordings and GET /system/routing-templates.

Neither has a per-item resource to point a uri at, so both answer their objects (in ``recordings``
and ``routingTemplates``) whether or not ``fields`` is given; a field list still narrows them.
"""

from __future__ import annotations

import re
from datetime import UTC
from typing import Any

from reference_impl.http import ApiError, Context, StatusCode
from reference_impl.store import Recording, parse_timestamp

__all__ = ["list_recordings", "list_routing_templates"]


# RFC 3339's date-time, the contract's format (E99): a date alone or a time without its offset is not one.
RFC3339_DATE_TIME = re.compile(r"\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})", re.ASCII)


def _timestamp(ctx: Context, name: str) -> Any:
    raw = ctx.query(name)
    if raw is None:
        return None
    value = parse_timestamp(raw) if RFC3339_DATE_TIME.fullmatch(raw) else None
    if value is None:
        raise ApiError(
            StatusCode.INVALID_PARAMETER, f"query parameter '{name}' must be an RFC 3339 date-time, not '{raw}'"
        )
    return value


def _iso(value: Any) -> str:
    return str(value.astimezone(UTC).isoformat().replace("+00:00", "Z"))


def _recording_json(recording: Recording) -> dict[str, Any]:
    return {
        "id": recording.id,
        "startTime": _iso(recording.start_time),
        "endTime": _iso(recording.end_time),
        "callerPhoneNumber": recording.caller_phone_number,
        "dialedPhoneNumber": recording.dialed_phone_number,
        "userName": recording.user_name,
    }


async def list_recordings(ctx: Context) -> dict[str, Any]:
    """startTime and endTime bound the recording's start; the other filters compare exactly."""
    start, end = _timestamp(ctx, "startTime"), _timestamp(ctx, "endTime")
    exact = ("callerPhoneNumber", "dialedPhoneNumber", "userName")
    found = [
        r
        for r in sorted(ctx.store.recordings, key=lambda r: r.start_time)
        if (start is None or r.start_time >= start)
        and (end is None or r.start_time <= end)
        and all(ctx.query(name) in (None, _recording_json(r)[name]) for name in exact)
    ]
    offset = int(ctx.query("offset") or 0)  # both checked against the contract already
    limit = ctx.query("limit")
    found = found[offset:] if limit is None else found[offset : offset + int(limit)]
    return {"recordings": [ctx.select(_recording_json(r)) for r in found]}


async def list_routing_templates(ctx: Context) -> dict[str, Any]:
    channel, version = ctx.query("channel"), ctx.query("version")
    templates = [
        t for t in ctx.store.routing_templates if channel in (None, t.channel) and version in (None, t.version)
    ]
    rendered = []
    for t in templates:
        wire = {"id": t.id, "name": t.name, "channel": t.channel, "version": t.version}
        if t.description is not None:
            wire["description"] = t.description
        rendered.append(ctx.select(wire))
    return {"routingTemplates": rendered}
