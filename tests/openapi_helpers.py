"""What spec/openapi.yaml says about one operation: the schema of each reply, the roles that may call it.

Small on purpose; read straight from the document (not through the reference server's own index),
so the server's tests do not grade it with its own reading of the contract.
"""

from __future__ import annotations

from typing import Any

import httpx

from conformance import contract

__all__ = ["allowed_roles", "assert_matches_contract", "response_schema_ref"]


def _escape(part: str) -> str:
    return part.replace("~", "~0").replace("/", "~1")


def _local(ref: str) -> tuple[Any, str]:
    node = contract.load_document("openapi.yaml")
    for part in ref.removeprefix("#/").split("/"):
        node = node[part.replace("~1", "/").replace("~0", "~")]
    return node, f"openapi.yaml{ref}"


def _operation(method: str, path: str) -> dict[str, Any]:
    operation: dict[str, Any] = contract.load_document("openapi.yaml")["paths"][path][method.lower()]
    return operation


def response_schema_ref(method: str, path: str, status: int) -> str:
    """The schema (as a contract reference) of the JSON reply ``method path`` declares for ``status``."""
    responses = _operation(method, path)["responses"]
    key = next((k for k in (str(status), f"{str(status)[0]}XX", "default") if k in responses), None)
    if key is None:
        raise AssertionError(f"{method} {path} declares no reply with HTTP {status} (declared: {', '.join(responses)})")
    response, ref = responses[key], f"openapi.yaml#/paths/{_escape(path)}/{method.lower()}/responses/{key}"
    if "$ref" in response:
        response, ref = _local(response["$ref"])
    return f"{ref}/content/application~1json/schema"


def assert_matches_contract(response: httpx.Response, method: str, path: str) -> None:
    media_type = response.headers.get("content-type", "").partition(";")[0].strip()
    if media_type != "application/json":  # a download: its media type must be one the reply declares
        declared = _declared_media_types(method, path, response.status_code)
        assert media_type in declared or "*/*" in declared, f"{method} {path} declares {declared}, not {media_type!r}"
        return
    ref = response_schema_ref(method, path, response.status_code)
    errors = contract.validate(ref, response.json())
    assert not errors, f"{method} {path} -> HTTP {response.status_code} breaks {ref}:\n" + "\n".join(errors)


def _declared_media_types(method: str, path: str, status: int) -> list[str]:
    ref = response_schema_ref(method, path, status).removesuffix("/content/application~1json/schema")
    response, _ = _local("#" + ref.partition("#")[2])
    return list(response.get("content", {}))


def allowed_roles(method: str, path: str, operation_name: str | None = None) -> set[str]:
    """x-gws-roles of the operation, narrowed by the operationName variant's own x-gws-roles."""
    operation = _operation(method, path)
    roles = set(operation["x-gws-roles"])
    schema = operation.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema", {})
    if operation_name is None or "oneOf" not in schema:
        return roles
    mapping = schema.get("discriminator", {}).get("mapping", {})
    variant_ref = mapping.get(operation_name) or next(
        (o["$ref"] for o in schema["oneOf"] if _local(o["$ref"])[0]["properties"]["operationName"].get("not")), None
    )
    variant, _ = _local(variant_ref) if variant_ref else ({}, "")
    return set(variant.get("x-gws-roles", roles))
