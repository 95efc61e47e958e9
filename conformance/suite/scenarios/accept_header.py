"""Accept headers as real clients send them: the answer is the same JSON whatever they name (E90).

The .NET GWS client sends no Accept at all, browsers' fetch and XHR send ``*/*``, RestSharp (the client
of Genesys' own CSRF example) a list that names XML before JSON, and a browser navigating to the API its
page list. The suite's own client asks for ``application/json``, so without this test a server that
answers 406 or XML to everyone else would pass.
"""

from __future__ import annotations

import pytest

from conformance.checks.http import is_json_media_type
from conformance.client import GwsClient
from conformance.suite.scenarios.support import should

ACCEPT_HEADERS = {
    "any": "*/*",
    "restsharp": "application/json, application/xml, text/json, text/x-json, text/javascript, text/xml",
    "browser-navigation": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
}


@pytest.mark.requirement("GWS-GEN-030")
@pytest.mark.parametrize("accept", list(ACCEPT_HEADERS.values()), ids=list(ACCEPT_HEADERS))
def test_the_answer_is_json_whatever_the_accept_header_names(gws_supervisor: GwsClient, accept: str) -> None:
    response = gws_supervisor.get("/me", headers={"Accept": accept}, expect_json=False)
    body = response.json_body if response.is_json else None
    content_type = str(response.headers.get("content-type", "absent"))
    should(
        response.status_code == 200
        and isinstance(body, dict)
        and body.get("statusCode") == 0
        and is_json_media_type(content_type),
        "GET /me is not answered with JSON for an Accept header real clients send",
        f"Accept: {accept} -> HTTP {response.status_code}, Content-Type {content_type!r}, body "
        f"{response.text[:200]!r}; RestSharp and browsers send this header and read JSON back (E90)",
        "GWS-GEN-030",
        evidence=[response.exchange],
    )
