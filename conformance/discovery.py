"""What the target offers, read once per run: assigned features, the users' roles, their objects.

Tests marked ``feature(X)`` are *not applicable* when X is not among the features GET /features
(as admin) lists. The answers are cached — including a failure, so a target that cannot answer
GET /features fails each dependent test at once with the same evidence instead of being asked
again (and timing out again) for every test.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from conformance import casting
from conformance.checks import CheckContext, run_checks
from conformance.client import GwsClient, Response
from conformance.errors import GwsConformanceError
from conformance.failures import Level, Violation

__all__ = ["Discovery"]

ClientFor = Callable[[str], GwsClient]

# GET /features: the list rules (GEN-005/006) and the feature list itself (FEAT-001).
FEATURES_REQUIREMENTS = ("GWS-FEAT-001",)
BASIC_CHECKS = ("status_code_present", "json_content_type", "error_shape")


class Discovery:
    """Answers about the target, each asked once. ``client_for(role)`` gives a configured user's client."""

    def __init__(self, client_for: ClientFor) -> None:
        self._client_for = client_for
        self._lock = threading.RLock()
        self._cache: dict[tuple[str, ...], Any] = {}

    def _once(self, key: tuple[str, ...], compute: Callable[[], Any]) -> Any:
        with self._lock:
            if key not in self._cache:
                try:
                    self._cache[key] = ("ok", compute())
                except (GwsConformanceError, AssertionError) as exc:
                    self._cache[key] = ("raised", exc)
            status, value = self._cache[key]
        if status == "raised":
            raise value
        return value

    # features -----------------------------------------------------------------------------------

    def assigned_features(self) -> frozenset[str]:
        """The ids of the features assigned to the contact center (GET /features as admin)."""
        result: frozenset[str] = self._once(("features",), self._read_features)
        return result

    def feature_assigned(self, feature: str) -> bool:
        return feature in self.assigned_features()

    def _read_features(self) -> frozenset[str]:
        response = self._client_for("admin").get("/features")
        _require_success(response, "GET /features", FEATURES_REQUIREMENTS, (*BASIC_CHECKS, "collection_shape"))
        body = response.json_body
        if isinstance(body.get("features"), list):
            ids = [item.get("id") for item in body["features"] if isinstance(item, dict)]
        elif isinstance(body.get("uris"), list):
            ids = [urlsplit(uri).path.rstrip("/").rpartition("/")[2] for uri in body["uris"] if isinstance(uri, str)]
        else:
            ids = []
        return frozenset(i for i in ids if isinstance(i, str) and i)

    # users and their objects ---------------------------------------------------------------------

    def me(self, role: str) -> dict[str, Any]:
        """The ``user`` object GET /me answers for the account playing ``role`` (conformance.casting; subresources
        included)."""
        # Cached by account: inside a recast test "agent1" may be another account than outside it.
        account = casting.account(role)
        result: dict[str, Any] = self._once(("me", account), lambda: self._read_me(role))
        return result

    def _read_me(self, role: str) -> dict[str, Any]:
        response = self._client_for(role).get("/me", params={"subresources": "*"})
        _require_success(response, "GET /me", ("GWS-AUTH-004",), BASIC_CHECKS)
        user = response.json_body.get("user")
        return user if isinstance(user, dict) else {}

    def roles(self, role: str) -> list[str]:
        """The GWS roles (ROLE_ADMIN, ...) the configured ``role`` account has on the target."""
        roles = self.me(role).get("roles")
        return [r for r in roles if isinstance(r, str)] if isinstance(roles, list) else []

    def objects(self, role: str, path: str) -> list[dict[str, Any]]:
        """The members of a collection as the account playing ``role`` sees them (GET ``path``?fields=*); [] when
        refused.

        Used to find objects a role owns or may read (its devices, skills, channels, contacts...);
        judging those replies is the tests' business, not discovery's.
        """
        account = casting.account(role)  # cached by account, as ``me``
        result: list[dict[str, Any]] = self._once(("objects", account, path), lambda: self._read_objects(role, path))
        return result

    def _read_objects(self, role: str, path: str) -> list[dict[str, Any]]:
        response = self._client_for(role).get(path, params={"fields": "*"})
        body = response.json_body
        if response.status_code_field != 0 or not isinstance(body, dict):
            return []
        name = path.rstrip("/").rpartition("/")[2]
        # The array named after the resource; where the contract names it otherwise, the one array of objects.
        arrays = [v for k, v in body.items() if k != "uris" and isinstance(v, list)]
        named = body.get(name)
        items: list[Any] = named if isinstance(named, list) else (arrays[0] if len(arrays) == 1 else [])
        return [item for item in items if isinstance(item, dict)]


def _require_success(
    response: Response, operation: str, requirement_ids: tuple[str, ...], checks: tuple[str, ...]
) -> None:
    """Discovery needs a usable answer: a MUST finding or a non-zero statusCode is a failure."""
    ctx = CheckContext(operation=operation, requirement_ids=requirement_ids)
    found = [v for v in run_checks(ctx, response, checks) if not v.is_warning]
    if found:
        raise found[0]
    if response.status_code_field != 0:
        raise Violation(
            title=f"{operation} failed during discovery",
            message=f"The suite reads {operation} to learn what the target offers; it answered statusCode "
            f"{response.status_code_field}, so no test that depends on it can be judged.",
            requirement_ids=requirement_ids,
            level=Level.MUST,
            evidence=[response.exchange],
            check="discovery",
        )
