"""Skills of the contact center: GET|POST /skills, GET|DELETE /skills/{id}; the skill shape."""

from __future__ import annotations

from typing import Any

from reference_impl.http import ApiError, Context, StatusCode, found
from reference_impl.store import Skill, new_id

__all__ = ["create_skill", "delete_skill", "get_skill", "list_skills", "skill_json"]


def skill_json(skill: Skill, uri: str, level: str | None = None) -> dict[str, Any]:
    """``description`` is absent when it was never given (Skills API example); ``level`` only through a user."""
    wire: dict[str, Any] = {"id": skill.id, "name": skill.name}
    if skill.description is not None:
        wire["description"] = skill.description
    if level is not None:
        wire["level"] = level
    wire["uri"] = uri
    return wire


async def list_skills(ctx: Context) -> dict[str, Any]:
    return ctx.listing("skills", [skill_json(s, ctx.uri(f"/skills/{s.id}")) for s in ctx.store.skills.values()])


async def get_skill(ctx: Context) -> dict[str, Any]:
    skill = found(ctx.store.skills, ctx.path_params["id"], "skill")
    return {"skill": ctx.select(skill_json(skill, ctx.uri(f"/skills/{skill.id}")))}


async def create_skill(ctx: Context) -> dict[str, Any]:
    name = ctx.required_text("name")
    if any(s.name == name for s in ctx.store.skills.values()):
        raise ApiError(StatusCode.INVALID_PARAMETER, f"a skill named '{name}' already exists")
    skill = Skill(new_id(), name, ctx.text("description"))
    ctx.store.skills[skill.id] = skill
    return {"id": skill.id, "uri": ctx.uri(f"/skills/{skill.id}")}


async def delete_skill(ctx: Context) -> dict[str, Any]:
    skill = found(ctx.store.skills, ctx.path_params["id"], "skill")
    ctx.store.delete_skill(skill.id)
    return {}
