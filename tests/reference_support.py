"""Driving the reference server in-process (httpx.ASGITransport, no network), every reply checked
against the reply schema spec/openapi.yaml declares for its path, method and HTTP status."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any

import httpx
from openapi_helpers import assert_matches_contract
from starlette.applications import Starlette

from conformance.habits import notification_breaches
from conformance.notifications import validate_notification
from reference_impl.app import create_app
from reference_impl.events import EventBus, Subscription
from reference_impl.store import Store

BASE_URL = "http://gws.test:8090"
CREDENTIALS = {
    "admin": ("admin", "admin-secret"),
    "supervisor": ("supervisor", "supervisor-secret"),
    "agent1": ("agent1", "agent1-secret"),
    "agent2": ("agent2", "agent2-secret"),
    "agent3": ("agent3", "agent3-secret"),
}
# The fixture's ids (fixtures/contact-center.yaml).
USER_ID = {
    "admin": "63f0c168bd6744308cfcb4b85de7398b",
    "supervisor": "d1b56d3a3a9849dc8a8d6874123270ab",
    "agent1": "53f0ad8d0e0d4111a0681f7bf586434e",
    "agent2": "b1ce6166bbe64ab885164d64b36a95ff",
    "agent3": "43363db1e27641309aecd413527937f9",
}
DEVICE_ID = {
    "supervisor": "d0a0c3dad35d42689b0b217b9d27d4b0",
    "agent1": "ab5282ac2f2847e1a4aecfe891e7532d",
    "agent2": "3c86d863738142448628b920ab27dbac",
    "agent3": "1569d0ff22d04047977f7160a6a1dcd4",
}
SKILL_ID = {
    "WFM_Email": "3cbf00c2e65c4218b84cfe1e580eacbb",
    "WFM_Chat": "1529f09b71f84f9793123eb8531c5007",
    "WFM_Voice": "845c269acc814d65aa7dff2b2b827f4a",
    "Customer_Service": "a6dbe0c3aadb4847b73d588a605fc64f",
}
QUEUE_ID = "3fe1b81682534bf39b7d9076dddd4352"  # SimpleEmailInQueue
CUSTOM_CONTACT_ID = "529d2b99fca94bf3b89c35f24dfe0d93"
API = "/api/v2"


class Api:
    """One in-process server; ``call`` sends as a fixture user and checks the reply against the contract."""

    def __init__(self, app: Starlette, client: httpx.AsyncClient) -> None:
        self.app = app
        self.client = client

    @property
    def store(self) -> Store:
        store: Store = self.app.state.store
        return store

    async def call(
        self,
        who: str | None,
        method: str,
        path: str,
        *,
        json_body: Any = None,
        params: dict[str, str] | None = None,
        content: bytes | None = None,
        headers: dict[str, str] | None = None,
        auth: tuple[str, str] | None = None,
        path_values: Mapping[str, str] | None = None,
        **path_params: str,
    ) -> httpx.Response:
        """``path`` is the openapi.yaml template (``/users/{id}``), filled from ``path_values`` and ``path_params``."""
        response = await self.client.request(
            method,
            API + path.format(**(path_values or {}), **path_params),
            params=params,
            json=json_body,
            content=content,
            headers=headers,
            auth=auth or (CREDENTIALS[who] if who else None),
        )
        assert_matches_contract(response, method, path)
        return response

    async def ok(self, who: str, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        response = await self.call(who, method, path, **kwargs)
        body: dict[str, Any] = response.json()
        assert (response.status_code, body["statusCode"]) == (200, 0), body
        return body

    def listen(self, who: str) -> Subscription:
        bus: EventBus = self.app.state.bus
        return bus.subscribe(USER_ID[who])


@asynccontextmanager
async def open_api(**options: Any) -> AsyncIterator[Api]:
    app = create_app(Store.from_file(), **options)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE_URL) as client:
        yield Api(app, client)


def snapshot(store: Store) -> str:
    """Everything provisioning can change, as one comparable string (ids, passwords, levels, settings, ...)."""
    parts: dict[str, Any] = {
        name: {key: dataclasses.asdict(value) for key, value in getattr(store, name).items()}
        for name in ("users", "devices", "skills", "contacts", "agent_state_settings")
    }
    parts["assigned_features"] = list(store.assigned_features)
    parts["presence"] = {uid: p.state for uid, p in store.presence.items()}
    return json.dumps(parts, sort_keys=True)


def drained(subscription: Subscription) -> dict[str, list[dict[str, Any]]]:
    """Every queued message by topic, each checked against spec/topics.yaml, spec/notifications/ and
    the client habits (conformance.habits: capabilities arrays, messageType)."""
    by_topic: dict[str, list[dict[str, Any]]] = {}
    for topic, data in subscription.drain():
        errors = validate_notification(topic, data) + [b.line() for b in notification_breaches(topic, data)]
        assert not errors, f"{topic} message breaks its contract: {errors}\n{data}"
        by_topic.setdefault(topic, []).append(data)
    return by_topic
