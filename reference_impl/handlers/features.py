"""Features: /features (assigned to this contact center), /features/{id}, /system/features (all)."""

from __future__ import annotations

from typing import Any

from reference_impl.http import ApiError, Context, StatusCode
from reference_impl.store import Feature

__all__ = ["delete_feature", "feature_json", "get_feature", "list_features", "list_system_features"]


def feature_json(ctx: Context, feature: Feature) -> dict[str, Any]:
    return {
        "id": feature.id,
        "displayName": feature.display_name,
        "description": feature.description,
        "uri": ctx.uri(f"/features/{feature.id}"),
    }


def _listing(ctx: Context, feature_ids: list[str]) -> dict[str, Any]:
    return ctx.listing("features", [feature_json(ctx, ctx.store.features[f]) for f in feature_ids])


def _assigned(ctx: Context) -> Feature:
    # "When a feature is disabled, the API will behave as if this set of functionality does not exist."
    feature_id = ctx.path_params["id"]
    if feature_id not in ctx.store.assigned_features:
        raise ApiError(StatusCode.NOT_FOUND, f"no feature {feature_id} in this contact center")
    return ctx.store.features[feature_id]


async def list_features(ctx: Context) -> dict[str, Any]:
    return _listing(ctx, ctx.store.assigned_features)


async def list_system_features(ctx: Context) -> dict[str, Any]:
    return _listing(ctx, list(ctx.store.features))


async def get_feature(ctx: Context) -> dict[str, Any]:
    return {"feature": ctx.select(feature_json(ctx, _assigned(ctx)))}


async def delete_feature(ctx: Context) -> dict[str, Any]:
    """Cloud Admin only (E26): no fixture user holds that role, so every caller is refused before this runs."""
    ctx.store.assigned_features.remove(_assigned(ctx).id)
    return {}
