"""A private certificate authority for tests that serve over TLS (trustme): a CA the test trusts through
``GWS_CA_BUNDLE``, as a user of a server with a private CA does, and a server certificate it signed for
127.0.0.1 and localhost."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import trustme

__all__ = ["PrivateCa", "make_private_ca"]


@dataclass(frozen=True)
class PrivateCa:
    ca_bundle: Path  # the CA's certificate (PEM): what GWS_CA_BUNDLE names
    server_certificate: Path  # private key and certificate chain (PEM): what serve_in_thread's tls_certificate takes


def make_private_ca(directory: Path, *more_names: str) -> PrivateCa:
    """``more_names``: host names the server certificate is for besides 127.0.0.1 and localhost."""
    ca = trustme.CA()
    ca_bundle, server_certificate = directory / "ca.pem", directory / "server.pem"
    ca.cert_pem.write_to_path(str(ca_bundle))
    certificate = ca.issue_cert("127.0.0.1", "localhost", *more_names)
    certificate.private_key_and_cert_chain_pem.write_to_path(str(server_certificate))
    return PrivateCa(ca_bundle, server_certificate)
