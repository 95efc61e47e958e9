"""The reference server's attachments: multipart upload, listing on the e-mail, byte-identical download
with the uploaded MIME type, delete. Replies checked against spec/openapi.yaml; refusals change nothing."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from multimedia_support import Agent, accepted_email, inbound_email, snapshot
from openapi_helpers import assert_matches_contract
from reference_support import BASE_URL, Api

from reference_impl.handlers import attachments

pytestmark = [pytest.mark.anyio, pytest.mark.reference_stimulus]

UPLOAD = "/me/interactions/{id}/attachments"
ITEM = "/me/interactions/{id}/attachments/{attachmentId}"
PDF = bytes(range(256)) * 4 + b"\r\n\r\n--not-a-boundary\r\n"  # every byte value, CRLFs, a boundary look-alike


@pytest.fixture
async def agent1(api: Api) -> Agent:
    agent = Agent(api, "agent1")
    await agent.ready()
    return agent


async def upload(agent: Agent, interaction_id: str, **request: Any) -> httpx.Response:
    response = await agent.api.client.post(f"/api/v2{UPLOAD.format(id=interaction_id)}", auth=agent.auth, **request)
    assert_matches_contract(response, "POST", UPLOAD)
    return response


async def download(agent: Agent, interaction_id: str, attachment_id: str) -> httpx.Response:
    response = await agent.api.client.get(
        f"/api/v2{ITEM.format(id=interaction_id, attachmentId=attachment_id)}", auth=agent.auth
    )
    if response.headers["content-type"].startswith("application/json"):
        assert_matches_contract(response, "GET", ITEM)  # an error reply
    return response


async def refused_upload(agent: Agent, interaction_id: str, status_code: int, **request: Any) -> str:
    before = snapshot(agent.api)
    body = (await upload(agent, interaction_id, **request)).json()
    assert body["statusCode"] == status_code, body
    assert snapshot(agent.api) == before
    message: str = body["statusMessage"]
    return message


async def test_upload_list_download_delete(api: Api, agent1: Agent) -> None:
    interaction_id = await accepted_email(agent1)
    reply = (await upload(agent1, interaction_id, files={"attachment": ("invoice.pdf", PDF, "application/pdf")})).json()
    document_id = reply["documentId"]
    assert reply["uri"] == f"{BASE_URL}/api/v2/me/interactions/{interaction_id}/attachments/{document_id}"

    email = (await agent1.ok("GET", "/interactions/{id}", id=interaction_id))["interaction"]["email_object"]
    assert email["attachments"] == [
        {"id": document_id, "name": "invoice.pdf", "size": len(PDF), "mimetype": "application/pdf"}
    ]
    got = await download(agent1, interaction_id, document_id)
    assert (got.status_code, got.headers["content-type"], got.content) == (200, "application/pdf", PDF)

    await agent1.ok("DELETE", ITEM, id=interaction_id, attachmentId=document_id)
    gone = await download(agent1, interaction_id, document_id)
    assert (gone.status_code, gone.json()["statusCode"]) == (404, 6)
    email = (await agent1.ok("GET", "/interactions/{id}", id=interaction_id))["interaction"]["email_object"]
    assert "attachments" not in email
    await agent1.refused(6, "DELETE", ITEM, id=interaction_id, attachmentId=document_id)
    agent1.assert_quiet()  # the reference defines no attachment message


async def test_a_text_attachment_keeps_its_exact_mime_type(api: Api, agent1: Agent) -> None:
    interaction_id = await accepted_email(agent1)
    reply = (await upload(agent1, interaction_id, files={"attachment": ("a.txt", "héllo\n", "text/plain")})).json()
    got = await download(agent1, interaction_id, reply["documentId"])
    assert (got.headers["content-type"], got.content) == ("text/plain", "héllo\n".encode())  # no charset added


async def test_attachments_of_a_reply_under_construction(api: Api, agent1: Agent) -> None:
    original = await accepted_email(agent1)
    reply_id = (await agent1.operate(original, "Reply", queueName="SimpleEmailOutQueue", quoteOriginal=False))[
        "replyInteractionId"
    ]
    agent1.messages()
    reply = (await upload(agent1, reply_id, files={"attachment": ("x.bin", b"\x00", None)})).json()
    got = await download(agent1, reply_id, reply["documentId"])
    assert got.headers["content-type"] == "application/octet-stream"
    # another interaction's attachment id is not an attachment of this one
    await agent1.refused(6, "GET", ITEM, id=original, attachmentId=reply["documentId"])


async def test_bad_uploads_are_refused(api: Api, agent1: Agent, monkeypatch: pytest.MonkeyPatch) -> None:
    interaction_id = await accepted_email(agent1)
    file = {"attachment": ("a.bin", b"abc", "application/octet-stream")}
    assert "attachment" in await refused_upload(agent1, interaction_id, 1, files={"other": ("a.bin", b"abc")})
    await refused_upload(agent1, interaction_id, 2, json={"attachment": "abc"})
    await refused_upload(
        agent1,
        interaction_id,
        2,
        content=b"--x\r\nnot a part",
        headers={"Content-Type": "multipart/form-data; boundary=x"},
    )
    monkeypatch.setattr(attachments, "MAX_UPLOAD_BYTES", 100)
    assert "exceeds" in await refused_upload(
        agent1, interaction_id, 2, files={"attachment": ("big.bin", b"x" * 200, "application/octet-stream")}
    )
    await refused_upload(agent1, "no-such-interaction", 6, files=file)


async def test_uploads_go_only_to_the_callers_accepted_emails(api: Api, agent1: Agent) -> None:
    file = {"attachment": ("a.bin", b"abc", "application/octet-stream")}
    invited = await inbound_email(api, agentId=agent1.id)
    agent1.messages()
    await refused_upload(agent1, invited, 2, files=file)  # an invitation
    await agent1.operate(invited, "Accept")
    agent1.messages()
    other = Agent(api, "agent2")
    await refused_upload(other, invited, 5, files=file)  # another agent's (E14)
    document_id = (await upload(agent1, invited, files=file)).json()["documentId"]
    await other.refused(5, "GET", ITEM, id=invited, attachmentId=document_id)
    await other.refused(5, "DELETE", ITEM, id=invited, attachmentId=document_id)


async def test_chats_take_no_attachments(api: Api, agent1: Agent) -> None:
    chat_id = (await api.client.post("/stimulus/chats", json={"nickname": "C", "agentId": agent1.id})).json()[
        "interactionId"
    ]
    await agent1.operate(chat_id, "Accept")
    agent1.messages()
    await refused_upload(agent1, chat_id, 2, files={"attachment": ("a.bin", b"abc", "application/octet-stream")})
