"""Attachments: POST /me/interactions/{id}/attachments, GET|DELETE .../attachments/{attachmentId}.

The upload is a regular multipart/form-data request (seed: "not for AJAX"), the file in the part named
``attachment``. The e-mail model lists the attachment in its email_object (id = documentId, name, size,
mimetype); the bytes stay in ``store.attachments`` and come back unchanged, with the uploaded part's
Content-Type.

Decisions where the seed is silent (for the errata):
- Size limit: a whole upload request body of at most MAX_UPLOAD_BYTES (10 MiB); a bigger one is
  refused with statusCode 2 before anything is stored.
- Attachments belong to e-mails the caller works on (Accepted, ReplyCreated, Pulled): an upload to a
  chat or to an invitation is refused with statusCode 2. A part without a Content-Type is stored as
  application/octet-stream; its name is the part's filename ("attachment" when it has none).
- An attachmentId that is not an attachment of that interaction answers statusCode 6.
- The upload reply carries ``documentId`` and also ``id`` and ``uri`` (E17's MAY).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Message

from reference_impl.handlers.multimedia import own_interaction
from reference_impl.http import ApiError, Context, StatusCode, read_limited
from reference_impl.model.email import EmailInteraction

__all__ = ["MAX_UPLOAD_BYTES", "StoredAttachment", "delete_attachment", "get_attachment", "upload_attachment"]

MAX_UPLOAD_BYTES = 10 * 1024 * 1024
_PART = "attachment"
_WORKING = ("Accepted", "ReplyCreated", "Pulled")


@dataclass(frozen=True)
class StoredAttachment:
    interaction_id: str
    name: str
    mime_type: str
    data: bytes


async def upload_attachment(ctx: Context) -> dict[str, Any]:
    email = _own_email(ctx)
    if email.state not in _WORKING:
        raise ApiError(
            StatusCode.INVALID_PARAMETER, f"attachments are added to an accepted e-mail, not in {email.state}"
        )
    name, mime_type, data = await _uploaded_file(ctx.request)
    document = email.add_attachment(name, mime_type, len(data))
    ctx.store.attachments[document["id"]] = StoredAttachment(email.id, name, mime_type, data)
    uri = ctx.uri(f"/me/interactions/{email.id}/attachments/{document['id']}")
    return {"documentId": document["id"], "id": document["id"], "uri": uri}


async def get_attachment(ctx: Context) -> Response:
    stored = _stored(ctx, _own_email(ctx))
    filename = quote(stored.name, safe="")
    headers = {
        # Set as given: Response(media_type=...) would add a charset to text types.
        "Content-Type": stored.mime_type,
        "Content-Disposition": f"attachment; filename*=UTF-8''{filename}",
    }
    return Response(stored.data, headers=headers)


async def delete_attachment(ctx: Context) -> dict[str, Any]:
    email = _own_email(ctx)
    attachment_id = ctx.path_params["attachmentId"]
    _stored(ctx, email)  # statusCode 6 unless it is listed on this e-mail
    email.remove_attachment(attachment_id)  # listed, so the model cannot refuse
    del ctx.store.attachments[attachment_id]
    return {}


def _own_email(ctx: Context) -> EmailInteraction:
    interaction, _ = own_interaction(ctx, ctx.path_params["id"])
    if not isinstance(interaction, EmailInteraction):
        raise ApiError(
            StatusCode.INVALID_PARAMETER,
            f"interaction {interaction.id} is a {interaction.channel}: attachments belong to e-mails",
        )
    return interaction


def _stored(ctx: Context, email: EmailInteraction) -> StoredAttachment:
    attachment_id = ctx.path_params["attachmentId"]
    stored = ctx.store.attachments.get(attachment_id)
    listed = any(a["id"] == attachment_id for a in email.attachments)
    if not isinstance(stored, StoredAttachment) or not listed or stored.interaction_id != email.id:
        raise ApiError(StatusCode.NOT_FOUND, f"no attachment {attachment_id} on interaction {email.id}")
    return stored


async def _uploaded_file(request: Request) -> tuple[str, str, bytes]:
    """(name, MIME type, bytes) of the part named ``attachment`` of a multipart/form-data body."""
    media_type = request.headers.get("content-type", "").partition(";")[0].strip().lower()
    if media_type != "multipart/form-data":
        raise ApiError(
            StatusCode.INVALID_PARAMETER, f"Content-Type must be multipart/form-data, not '{media_type or 'none'}'"
        )
    body = await _limited_body(request)
    replayed = _replay(request, body)  # the form parser reads the (already read) body again
    try:
        form = await replayed.form()
    except HTTPException as exc:  # Starlette's answer to a malformed multipart body
        raise ApiError(StatusCode.INVALID_PARAMETER, f"malformed multipart body: {exc.detail}") from None
    try:
        part = form.get(_PART)
        if part is None:
            raise ApiError(StatusCode.MISSING_PARAMETER, f"no part named '{_PART}' in the multipart body")
        if isinstance(part, UploadFile):
            return part.filename or _PART, part.content_type or "application/octet-stream", await part.read()
        # A part without a filename arrives as a text field: its text is the attachment.
        return _PART, "text/plain", part.encode("utf-8")
    finally:
        await form.close()


async def _limited_body(request: Request) -> bytes:
    return await read_limited(request, MAX_UPLOAD_BYTES, "upload")


def _replay(request: Request, body: bytes) -> Request:
    delivered = False

    async def receive() -> Message:
        nonlocal delivered
        if delivered:
            return {"type": "http.disconnect"}
        delivered = True
        return {"type": "http.request", "body": body, "more_body": False}

    return Request(request.scope, receive)
