"""gws-conformance: the conformance suite that judges a GWS API v2 (8.5) server."""
