"""Contacts: GET|POST /contacts, GET|PUT|DELETE /contacts/{id}.

Custom contacts are stored; Queue and User contacts are derived from the queues and users of the
contact center (same id as the queue or user) and are read-only: changing one is refused with
statusCode 3 ("The operation is forbidden"; "other types are read-only").
"""

from __future__ import annotations

from typing import Any

from reference_impl.http import ApiError, Context, StatusCode, found
from reference_impl.store import Contact, new_id

__all__ = ["create_contact", "delete_contact", "get_contact", "list_contacts", "update_contact"]

# Every attribute of a contact may filter the list (Contacts API — Attributes); type compares
# case-insensitively (E25), everything else exactly.
FILTERS = ("id", "name", "type", "phoneNumber", "userName", "firstName", "lastName", "employeeId")


def _all_contacts(ctx: Context) -> list[dict[str, Any]]:
    store = ctx.store
    contacts: list[dict[str, Any]] = []
    for custom in store.contacts.values():
        contacts.append({"id": custom.id, "name": custom.name, "type": "Custom", "phoneNumber": custom.phone_number})
    for queue in store.queues.values():
        contacts.append({"id": queue.id, "name": queue.name, "type": "Queue", "phoneNumber": queue.phone_number})
    for user in store.users.values():
        devices = store.devices_of(user.id)
        contacts.append(
            {
                "id": user.id,
                "name": f"{user.first_name} {user.last_name}".strip() or user.user_name,
                "type": "User",
                "phoneNumber": devices[0].phone_number if devices else None,
                "userName": user.user_name,
                "firstName": user.first_name,
                "lastName": user.last_name,
                "employeeId": user.employee_id,
            }
        )
    return [{k: v for k, v in c.items() if v is not None} | {"uri": ctx.uri(f"/contacts/{c['id']}")} for c in contacts]


def _matches(contact: dict[str, Any], name: str, value: str) -> bool:
    if name == "type":
        return str(contact["type"]).casefold() == value.casefold()
    return contact.get(name) == value


def _find(ctx: Context) -> dict[str, Any]:
    return found({c["id"]: c for c in _all_contacts(ctx)}, ctx.path_params["id"], "contact")


def _custom(ctx: Context) -> Contact:
    contact = _find(ctx)
    if contact["type"] != "Custom":
        raise ApiError(
            StatusCode.FORBIDDEN, f"contact {contact['id']} is of type {contact['type']}, which is read-only"
        )
    return ctx.store.contacts[contact["id"]]


async def list_contacts(ctx: Context) -> dict[str, Any]:
    filters = {name: value for name in FILTERS if (value := ctx.query(name)) is not None}
    contacts = [c for c in _all_contacts(ctx) if all(_matches(c, n, v) for n, v in filters.items())]
    return ctx.listing("contacts", contacts)


async def get_contact(ctx: Context) -> dict[str, Any]:
    return {"contact": ctx.select(_find(ctx))}


async def create_contact(ctx: Context) -> dict[str, Any]:
    contact = Contact(new_id(), ctx.required_text("name"), ctx.required_text("phoneNumber"))
    ctx.store.contacts[contact.id] = contact
    return {"id": contact.id, "uri": ctx.uri(f"/contacts/{contact.id}")}


async def update_contact(ctx: Context) -> dict[str, Any]:
    contact = _custom(ctx)
    name, phone_number = ctx.text("name"), ctx.text("phoneNumber")
    if name is not None:
        contact.name = name
    if phone_number is not None:
        contact.phone_number = phone_number
    return {}


async def delete_contact(ctx: Context) -> dict[str, Any]:
    del ctx.store.contacts[_custom(ctx).id]
    return {}
