"""Every httpx client the suite makes shares one TLS context: loading the CA bundle costs ~20 ms a client."""

from __future__ import annotations

import ssl
from typing import Any

import pytest

from conformance.bayeux import Bayeux
from conformance.client import GwsClient, _tls_context, tls_context
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
    _tls_context.cache_clear()  # the context made for these settings, once
    settings = load_settings(env={"GWS_BASE_URL": "https://gws.test/api/v2", "GWS_AGENT1_PASSWORD": "pw-secret"})
    GwsClient(settings, settings.credentials("agent1")).close()
    GwsClient(settings, settings.credentials("agent1")).close()
    ReferenceStimulus(StimulusContext(settings)).close()
    Bayeux(settings, "agent1").close()
    assert len(made) == 1


def test_gws_insecure_turns_verification_off_and_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    from conformance.config import insecure_warning

    monkeypatch.setenv("GWS_INSECURE", "1")
    context = tls_context()
    assert context.verify_mode == ssl.CERT_NONE and not context.check_hostname
    assert "NOT verified" in (insecure_warning({"GWS_INSECURE": "1"}) or "")
    monkeypatch.delenv("GWS_INSECURE")
    assert tls_context().verify_mode == ssl.CERT_REQUIRED
    assert insecure_warning({}) is None


def test_gws_ca_bundle_names_the_certificates_to_trust(monkeypatch: pytest.MonkeyPatch) -> None:
    import certifi

    from conformance.errors import ConfigError

    monkeypatch.setenv("GWS_CA_BUNDLE", certifi.where())
    context = tls_context()
    assert context.verify_mode == ssl.CERT_REQUIRED and context.get_ca_certs()
    with pytest.raises(ConfigError, match=r"GWS_CA_BUNDLE='/nonexistent\.pem' \(environment\): no such file"):
        load_settings(env={"GWS_CA_BUNDLE": "/nonexistent.pem"})
    with pytest.raises(ConfigError, match="GWS_INSECURE='maybe'"):
        load_settings(env={"GWS_INSECURE": "maybe"})
