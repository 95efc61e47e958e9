"""More agent accounts than the contact-center file names, for load runs and account pools.

A file names a handful of agents; a load run wants hundreds and a parallel suite run wants a pool. The
accounts added here follow the file's own agents (``agent<N>``, password ``agent<N>-secret``, role agent,
voice/e-mail/chat channels, one device each), so whoever knows the naming rule can sign in as any of them
without reading the server's data. Ids are derived from the user name (uuid5), so a reset or a second
server with the same count gives the same ids: a report and its reproduction keep naming the same objects.
"""

from __future__ import annotations

import copy
import uuid
from collections.abc import Mapping
from typing import Any

__all__ = ["MAX_AGENTS", "agent_name", "agent_password", "with_agents"]

# Generated phone numbers are "6" followed by five digits: outside the file's 500x devices and 700x queues.
MAX_AGENTS = 99_999
_NAMESPACE = uuid.UUID("5b0e1f64-3d0a-4c1e-9b55-8f2a4b7d0c11")


def agent_name(number: int) -> str:
    return f"agent{number}"


def agent_password(number: int) -> str:
    return f"agent{number}-secret"


def with_agents(document: Mapping[str, Any], count: int) -> dict[str, Any]:
    """A copy of a contact-center document with agent accounts ``agent1`` .. ``agent<count>``.

    Accounts the document already has (by user name) are kept as they are; only the missing numbers are
    added. ``count`` at or below the number of existing agents changes nothing.
    """
    if not 0 <= count <= MAX_AGENTS:
        raise ValueError(f"agent count must be 0..{MAX_AGENTS}, got {count}")
    result = copy.deepcopy(dict(document))
    users: list[dict[str, Any]] = list(result.get("users") or [])
    taken = {entry.get("userName") for entry in users if isinstance(entry, Mapping)}
    for number in range(1, count + 1):
        name = agent_name(number)
        if name in taken:
            continue
        users.append(_generated_agent(number))
    result["users"] = users
    return result


def _generated_agent(number: int) -> dict[str, Any]:
    name = agent_name(number)
    return {
        "id": uuid.uuid5(_NAMESPACE, name).hex,
        "userName": name,
        "password": agent_password(number),
        "firstName": "Agent",
        "lastName": f"No. {number}",
        "emailAddress": f"{name}@example.test",
        "employeeId": f"L{number:05d}",
        "roles": ["ROLE_AGENT"],
        "channels": ["voice", "email", "chat"],
        "devices": [{"id": uuid.uuid5(_NAMESPACE, f"{name}/device").hex, "phoneNumber": f"6{number:05d}"}],
        "skills": {},
    }
