"""Every httpx client the suite makes shares one TLS context: loading the CA bundle costs ~20 ms a client."""

from __future__ import annotations

import ssl
from typing import Any

import pytest

from conformance.bayeux import Bayeux
from conformance.client import GwsClient, tls_context
from conformance.config import load_settings
from conformance.stimulus import StimulusContext
from conformance.stimulus.reference import ReferenceStimulus


def test_the_suites_http_clients_load_the_ca_bundle_once(monkeypatch: pytest.MonkeyPatch) -> None:
    made: list[Any] = []
    real = ssl.create_default_context

    def counted(*args: Any, **kwargs: Any) -> ssl.SSLContext:
        made.append(args or kwargs)
        return real(*args, **kwargs)

    monkeypatch.setattr(ssl, "create_default_context", counted)
    tls_context.cache_clear()
    settings = load_settings(env={"GWS_BASE_URL": "https://gws.test/api/v2", "GWS_AGENT1_PASSWORD": "pw-secret"})
    GwsClient(settings, settings.credentials("agent1")).close()
    GwsClient(settings, settings.credentials("agent1")).close()
    ReferenceStimulus(StimulusContext(settings)).close()
    Bayeux(settings, "agent1").close()
    assert len(made) == 1
