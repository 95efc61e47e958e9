"""The CometD notification contract: spec/notifications/, spec/schemas/ (shared objects), spec/topics.yaml
and conformance/notifications.py.

Examples are the seed's, converted to JSON (E07) and trimmed of userData noise; where the seed prints
none (Pulled, password notifications, call errors, Bayeux replies other than /meta/connect) they are
built from the seed's attribute tables or from Bayeux 1.0.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from conformance import contract
from conformance.notifications import (
    _resolve,
    classify,
    known_value_warnings,
    validate_notification,
)

CAPTURES = contract.FIXTURES_ROOT / "real-captures"

SHARED_SCHEMAS = [
    "schemas/call.json",
    "schemas/device.json",
    "schemas/user-state.json",
    "schemas/channel.json",
    "schemas/interaction.json",
    "schemas/email-object.json",
    "schemas/chat-event.json",
    "schemas/workbin.json",
]
NOTIFICATION_SCHEMAS = sorted(f"notifications/{p.name}" for p in (contract.SPEC_ROOT / "notifications").glob("*.json"))

# The brief's list of notification kinds per topic: the contract must have exactly these.
BRIEF_KINDS = {
    "/v2/me/channels": {"ChannelStateChanged"},
    "/v2/me/devices": {"DeviceStateChanged"},
    "/v2/me/calls": {
        "CallStatusChange",
        "CallParticipantsUpdated",
        "CallAttachedDataChanged",
        "CallDtmfSent",
        "CallOperationError",
    },
    "/v2/me": {"MePasswordChangeSuccessful", "MePasswordChangeError"},
    "/v2/users": {"UserPasswordChangeSuccessful", "UserPasswordChangeError"},
    "/v2/me/interactions": {
        "EmailInvited",
        "EmailRevoked",
        "EmailAccepted",
        "EmailReplyCreated",
        "ChatInvited",
        "ChatRevoked",
        "ChatAccepted",
        "ChatNotification",
        "InteractionInvitedConference",
        "InteractionLeftConference",
        "InteractionPulled",
    },
    "/v2/me/workbins": {"WorkbinEvent"},
}
BRIEF_BAYEUX_KINDS = {
    "BayeuxMessage",
    "BayeuxHandshakeReply",
    "BayeuxConnectReply",
    "BayeuxSubscribeReply",
    "BayeuxUnsubscribeReply",
    "BayeuxDisconnectReply",
}

# ---- examples (seed, converted) -------------------------------------------------------------------

CALL_STATUS_CHANGE: dict[str, Any] = {  # Asynchronous Telephony Operations Notifications > Calls
    "messageType": "CallStateChangeMessage",
    "call": {
        "id": "010a0229f0cbd001",
        "state": "Dialing",
        "callUuid": "RC5FN2QK1H3IFD3CV136FELT80000001",
        "deviceUri": "http://127.0.0.1:8080/api/v2/devices/5aceae61-0b5c-4578-9477-cd352d43cb17",
        "uri": "http://127.0.0.1:8080/api/v2/me/calls/010a0229f0cbd001",
        "participants": ["2"],
        "participantsInfo": [
            {
                "location": None,
                "country": {"name": "", "code": "", "callingCode": ""},
                "formattedPhoneNumber": "2",
                "isValidNumber": False,
                "E164digits": "2",
            }
        ],
        "ani": "1",
        "capabilities": [
            "DeleteUserDataPair",
            "UpdateUserData",
            "AttachUserData",
            "Hangup",
            "DeleteUserData",
            "SendDtmf",
        ],
        "duration": "0",
        "mute": "Off",
    },
    "phoneNumber": "1",
    "notificationType": "StatusChange",
}
CALL_OPERATION_ERROR: dict[str, Any] = {  # built from the Calls error attribute table
    "messageType": "CallStateChangeMessage",
    "deviceUri": "http://127.0.0.1:8080/api/v2/devices/5aceae61-0b5c-4578-9477-cd352d43cb17",
    "errorMessage": "Invalid destination",
    "connectionId": "010a0229f0cbd001",
    "callUuid": "RC5FN2QK1H3IFD3CV136FELT80000001",
}
DEVICE_STATE_CHANGE: dict[str, Any] = {  # Asynchronous Telephony Operations Notifications > Devices
    "messageType": "DeviceStateChangeMessage",
    "devices": [
        {
            "deviceState": "Active",
            "phoneNumberUri": "http://127.0.0.1:8080/api/v2/phone-numbers/2b36d336-d502-4e46-bc92-b727913a7754",
            "id": "5aceae61-0b5c-4578-9477-cd352d43cb17",
            "userState": {"id": "9430250E-0A1B-421F-B372-F29E69366DED", "displayName": "Ready", "state": "Ready"},
            "type": "PSTNPhone",
            "model": "FakeDeviceModel",
            "vendor": "FakeDeviceVendor",
            "phoneNumber": "1",
            "country": {"name": "", "code": "", "callingCode": ""},
            "e164Number": "1",
        }
    ],
}
# Channels API > CometD Notifications, both samples as printed: no message type, none required (E03).
CHANNEL_READY_AS_PRINTED: dict[str, Any] = {
    "channels": [
        {
            "userState": {"state": "Ready", "displayName": "Ready", "id": "9430250E-0A1B-421F-B372-F29E69366DED"},
            "channel": "chat",
        }
    ],
}
CHANNEL_DND_AS_PRINTED: dict[str, Any] = {
    "channels": [
        {
            "dndState": "On",
            "userState": {
                "state": "NotReady",
                "displayName": "Not Ready",
                "id": "900D55CC-2BB0-431F-8BF9-D3525B383BE6",
            },
        }
    ],
}
# A server may still name the message; any name is accepted for this topic.
CHANNEL_READY = {"messageType": "ChannelStateChangeMessage", **CHANNEL_READY_AS_PRINTED}
CHANNEL_DND = {"messageType": "ChannelStateChangeMessage", **CHANNEL_DND_AS_PRINTED}

ME_PASSWORD_OK: dict[str, Any] = {"notificationType": "PasswordChangeSuccessful"}
ME_PASSWORD_ERROR: dict[str, Any] = {
    "notificationType": "PasswordChangeError",
    "errorMessage": "Did not enter old password correctly",
    "errorCode": 2,
}
USER_REF = {
    "userUri": "http://127.0.0.1:8080/api/v2/users/5804abe284374b5bb0a18f57f5c9043d",
    "userId": "5804abe284374b5bb0a18f57f5c9043d",
}
USER_PASSWORD_OK = {**ME_PASSWORD_OK, **USER_REF}
USER_PASSWORD_ERROR = {**ME_PASSWORD_ERROR, **USER_REF}

EMAIL_USER_DATA = {
    "Mailbox": "support",
    "ContactId": "0000Ha8S2A7X000N",
    "_AutoReplyCount": 0,
    "RRequestedSkills": None,
}
EMAIL_INVITED: dict[str, Any] = {  # Interaction Notifications > New Email Interaction Invite
    "userData": EMAIL_USER_DATA,
    "email_object": {"interactionId": "0000Ja8V814907JM"},
    "currentQueue": "SimpleEmailInQueue",
    "interactionSubType": "InboundNew",
    "capabilities": ["Accept", "Reject"],
    "state": "Invited",
    "messageType": "InteractionStateMessage",
    "id": "0000Ja8V814907JM",
    "channel": "email",
    "interactionType": "Inbound",
}
EMAIL_REVOKED = {**EMAIL_INVITED, "capabilities": [], "state": "Revoked"}  # Interaction Notifications > Email Revoked
EMAIL_ACCEPTED: dict[str, Any] = {  # E-mail Notifications > E-mail Accepted (e-mail section casing, E06)
    "messageTypeName": "InteractionStateMessage",
    "id": "0000Ja8V814907JM",
    "channel": "email",
    "email_object": {
        "ToAddress": "support@ci-vm106",
        "FromAddress": "Customer1@ci-vm106",
        "CCAddresses": "",
        "Subject": "test_reply",
        "Text": "This is email body.",
        "StructuredText": "<p>This is email body.</p>",
        "MimeType": "text/plain",
        "StructuredTextMimeType": "text/html",
        "TheComment": "",
        "ContactID": "0000Ha8S2A7X000N",
        "attachments": [{"id": "00009a8T8Y13002S", "name": "a.txt", "size": "12", "mimetype": "text/plain"}],
    },
    "interactionType": "Email",
    "interactionSubType": "InboundNew",
    "userData": EMAIL_USER_DATA,
    "currentQueue": "SimpleEmailInQueue",
    "inQueues": {"__STOP__": ""},
    "outQueues": {"SimpleEmailOutQueue": ""},
    "receivedAt": "2013-06-28T20:30:34Z",
    "state": "Accepted",
    "capabilities": [
        "Transfer",
        "Reply",
        "ReplyAll",
        "StopProcessing",
        "PlaceInQueue",
        "PlaceInWorkbin",
        "UpdateProperties",
    ],
}
EMAIL_REPLY_CREATED: dict[str, Any] = {  # E-mail Notifications > E-mail Reply Created
    "messageTypeName": "InteractionStateMessage",
    "id": "0000Ja8V814907JN",
    "channel": "email",
    "email_object": {"ToAddress": "Customer1@ci-vm106", "FromAddress": "support@ci-vm106", "Subject": "Re: test_reply"},
    "interactionType": "Email",
    "interactionSubType": "OutboundReply",
    "receivedAt": "2013-06-28T20:31:00Z",
    "state": "ReplyCreated",
    "capabilities": ["Cancel", "Send", "PlaceInWorkbin", "UpdateProperties", "LinkAttachment"],
}
CHAT_USER_DATA = {
    "ChatServerAppName": "es_chat",
    "ChatServerPort": "7160",
    "ServiceObjective": 0,
    "Subject": "Customersupport",
}
CHAT_INVITED: dict[str, Any] = {  # Interaction Notifications > Chat Invited
    "userData": CHAT_USER_DATA,
    "currentQueue": "SimpleChatInQueue",
    "interactionSubType": "InboundNew",
    "capabilities": ["Accept", "Reject"],
    "state": "Invited",
    "messageType": "InteractionStateMessage",
    "id": "0000Ja8V814907KS",
    "channel": "chat",
    "interactionType": "Inbound",
}
CHAT_REVOKED = {**CHAT_INVITED, "capabilities": [], "state": "Revoked"}


def chat_event(
    event_id: int, message_type: str, text: str | None, user_type: str | None, nick: str | None
) -> dict[str, Any]:
    return {
        "EventId": event_id,
        "NoticeText": None,
        "NoticeType": None,
        "MessageText": text,
        "UserId": "009B51CDF64818CA",
        "MessageType": message_type,
        "UserType": user_type,
        "Visibility": "All",
        "NickName": nick,
    }


CHAT_ACCEPTED: dict[str, Any] = {  # Interaction Notifications > Chat Accepted
    **CHAT_INVITED,
    "chat_notifications": [
        chat_event(1, "PARTY_JOINED", None, "Client", "CustomerName!L"),
        chat_event(2, "NEW_MESSAGE", "testmessage1fromclient", None, None),
        chat_event(5, "PARTY_JOINED", None, "Agent", "TestName"),
    ],
    "inQueues": {"SimpleChatTranscriptQueue": ""},
    "capabilities": ["Transfer", "PlaceInQueue", "StopProcessing", "PlaceInWorkbin", "UpdateProperties", "Reply"],
    "state": "Accepted",
    "sessionId": "0000Ja8V814907KS",
}
CHAT_NOTIFICATION = {  # Interaction Notifications > Chat Notifications
    **CHAT_ACCEPTED,
    "chat_notifications": [chat_event(3, "NEW_MESSAGE", "testmessagefromclient", None, None)],
}
# Interactions API Operations > StartConference: the minimal messages the seed prints.
INVITED_CONFERENCE = {
    "messageTypeName": "InteractionStateMessage",
    "id": "0000Ja8V814907KS",
    "state": "InvitedConference",
}
LEFT_CONFERENCE = {"messageTypeName": "InteractionStateMessage", "id": "0000Ja8V814907KS", "state": "LeftConference"}
PULLED = {"messageType": "InteractionStateMessage", "id": "0000Ba8Y08X9001E", "state": "Pulled", "channel": "email"}
WORKBIN_EVENT: dict[str, Any] = {  # Workbins > CometD Notifications (the broken reprs u / abcd / ddddd made strings)
    "messageType": "workbinNotificationResource",
    "operation": "Create",
    "workbinContentOperation": "PlacedIn",
    "interaction": {
        "userData": {"Sublist": {"subkey": "subkeyvalue"}},
        "currentQueue": "TestWorkbin/PrivateQueue",
        "interactionSubtType": "InboundNew",
        "state": "Queued",
        "parentId": "",
        "id": "0000Ba8Y08X9001E",
        "channel": "email",
        "interactionType": "Inbound",
    },
    "workbinInfo": {
        "workbinTypeId": "TestWorkbin",
        "workbinGroupId": None,
        "workbinPlaceGroupId": None,
        "workbinAgentId": "Agen1",
        "workbinPlaceId": None,
    },
    "actorInfo": {"agentId": None, "actorMediaServerId": "test", "actorType": "MediaServer", "actorPlaceId": None},
    "reasonInfo": {"reason": 1, "reasonDescription": "abcd", "reasonName": "ddddd"},
}
HANDSHAKE_REPLY = {
    "channel": "/meta/handshake",
    "successful": True,
    "version": "1.0",
    "supportedConnectionTypes": ["long-polling", "websocket"],
    "clientId": "1g0yc8kvmfxrtn2s1j3ejq0phn",
    "id": "1",
    "advice": {"reconnect": "retry", "interval": 0, "timeout": 30000},
}
HANDSHAKE_DENIED = {
    "channel": "/meta/handshake",
    "successful": False,
    "error": "403::Handshake denied",
    "advice": {"reconnect": "none"},
}
CONNECT_REPLY = {  # the /meta/connect reply of every Interaction Notifications example
    "successful": True,
    "advice": {"interval": 0, "timeout": 30000, "reconnect": "retry"},
    "id": "25",
    "channel": "/meta/connect",
}
CONNECT_UNKNOWN_CLIENT = {
    "channel": "/meta/connect",
    "successful": False,
    "error": "402::Unknown client",
    "advice": {"reconnect": "handshake"},
}
SUBSCRIBE_REPLY = {"channel": "/meta/subscribe", "successful": True, "subscription": "/v2/me/calls", "id": "3"}
SUBSCRIBE_DENIED = {
    "channel": "/meta/subscribe",
    "successful": False,
    "subscription": "/v2/users",
    "error": "403:/v2/users:Permission Denied",
}
UNSUBSCRIBE_REPLY = {"channel": "/meta/unsubscribe", "successful": True, "subscription": ["/v2/me/calls"], "id": "4"}
DISCONNECT_REPLY = {"channel": "/meta/disconnect", "successful": True, "id": "5"}
TOPIC_EVENT = {"channel": "/v2/me/calls", "data": CALL_STATUS_CHANGE}
PUBLISH_DENIED = {"channel": "/v2/me/calls", "successful": False, "error": "403::Publishing is not allowed", "id": "6"}


def with_notification_type(value: str) -> dict[str, Any]:
    return {**CALL_STATUS_CHANGE, "notificationType": value}


CALLS, DEVICES, CHANNELS, ME, USERS = "/v2/me/calls", "/v2/me/devices", "/v2/me/channels", "/v2/me", "/v2/users"
INTERACTIONS, WORKBINS, ANY = "/v2/me/interactions", "/v2/me/workbins", "/**"

# fmt: off
EXAMPLES = [  # (topic, data, kind, previous_state of the same interaction)
    pytest.param(CALLS, CALL_STATUS_CHANGE, "CallStatusChange", None, id="CallStatusChange"),
    pytest.param(CALLS, with_notification_type("ParticipantsUpdated"), "CallParticipantsUpdated", None,
                 id="CallParticipantsUpdated"),
    pytest.param(CALLS, with_notification_type("AttachedDataChanged"), "CallAttachedDataChanged", None,
                 id="CallAttachedDataChanged"),
    pytest.param(CALLS, with_notification_type("DtmfSent"), "CallDtmfSent", None, id="CallDtmfSent"),
    pytest.param(CALLS, CALL_OPERATION_ERROR, "CallOperationError", None, id="CallOperationError"),
    pytest.param(CALLS, {**CALL_OPERATION_ERROR, "notificationType": "StatusChange"}, "CallOperationError", None,
                 id="CallOperationError-with-notificationType"),
    pytest.param(DEVICES, DEVICE_STATE_CHANGE, "DeviceStateChanged", None, id="DeviceStateChanged"),
    pytest.param(CHANNELS, CHANNEL_READY, "ChannelStateChanged", None, id="ChannelStateChanged-ready"),
    pytest.param(CHANNELS, CHANNEL_DND, "ChannelStateChanged", None, id="ChannelStateChanged-dnd"),
    pytest.param(ME, ME_PASSWORD_OK, "MePasswordChangeSuccessful", None, id="MePasswordChangeSuccessful"),
    pytest.param(ME, ME_PASSWORD_ERROR, "MePasswordChangeError", None, id="MePasswordChangeError"),
    pytest.param(USERS, USER_PASSWORD_OK, "UserPasswordChangeSuccessful", None, id="UserPasswordChangeSuccessful"),
    pytest.param(USERS, USER_PASSWORD_ERROR, "UserPasswordChangeError", None, id="UserPasswordChangeError"),
    pytest.param(INTERACTIONS, EMAIL_INVITED, "EmailInvited", None, id="EmailInvited"),
    pytest.param(INTERACTIONS, EMAIL_REVOKED, "EmailRevoked", "Invited", id="EmailRevoked"),
    pytest.param(INTERACTIONS, EMAIL_ACCEPTED, "EmailAccepted", "Invited", id="EmailAccepted"),
    pytest.param(INTERACTIONS, EMAIL_REPLY_CREATED, "EmailReplyCreated", None, id="EmailReplyCreated"),
    pytest.param(INTERACTIONS, CHAT_INVITED, "ChatInvited", None, id="ChatInvited"),
    pytest.param(INTERACTIONS, CHAT_REVOKED, "ChatRevoked", "Invited", id="ChatRevoked"),
    pytest.param(INTERACTIONS, CHAT_ACCEPTED, "ChatAccepted", "Invited", id="ChatAccepted"),
    pytest.param(INTERACTIONS, CHAT_ACCEPTED, "ChatAccepted", None, id="ChatAccepted-no-history"),
    pytest.param(INTERACTIONS, CHAT_NOTIFICATION, "ChatNotification", "Accepted", id="ChatNotification"),
    pytest.param(INTERACTIONS, INVITED_CONFERENCE, "InteractionInvitedConference", None,
                 id="InteractionInvitedConference"),
    pytest.param(INTERACTIONS, LEFT_CONFERENCE, "InteractionLeftConference", "Accepted",
                 id="InteractionLeftConference"),
    pytest.param(INTERACTIONS, PULLED, "InteractionPulled", None, id="InteractionPulled"),
    pytest.param(WORKBINS, WORKBIN_EVENT, "WorkbinEvent", None, id="WorkbinEvent"),
    pytest.param(ANY, TOPIC_EVENT, "BayeuxMessage", None, id="BayeuxMessage-event"),
    pytest.param(ANY, CONNECT_REPLY, "BayeuxMessage", None, id="BayeuxMessage-meta"),
    pytest.param(ANY, PUBLISH_DENIED, "BayeuxMessage", None, id="BayeuxMessage-publish-reply"),
    pytest.param("/meta/handshake", HANDSHAKE_REPLY, "BayeuxHandshakeReply", None, id="BayeuxHandshakeReply"),
    pytest.param("/meta/handshake", HANDSHAKE_DENIED, "BayeuxHandshakeReply", None, id="BayeuxHandshakeReply-denied"),
    pytest.param("/meta/connect", CONNECT_REPLY, "BayeuxConnectReply", None, id="BayeuxConnectReply"),
    pytest.param("/meta/connect", CONNECT_UNKNOWN_CLIENT, "BayeuxConnectReply", None, id="BayeuxConnectReply-402"),
    pytest.param("/meta/subscribe", SUBSCRIBE_REPLY, "BayeuxSubscribeReply", None, id="BayeuxSubscribeReply"),
    pytest.param("/meta/subscribe", SUBSCRIBE_DENIED, "BayeuxSubscribeReply", None, id="BayeuxSubscribeReply-denied"),
    pytest.param("/meta/unsubscribe", UNSUBSCRIBE_REPLY, "BayeuxUnsubscribeReply", None, id="BayeuxUnsubscribeReply"),
    pytest.param("/meta/disconnect", DISCONNECT_REPLY, "BayeuxDisconnectReply", None, id="BayeuxDisconnectReply"),
]
# fmt: on


@pytest.mark.parametrize(("topic", "data", "kind", "previous_state"), EXAMPLES)
def test_example_is_classified_and_keeps_the_contract(
    topic: str, data: Any, kind: str, previous_state: str | None
) -> None:
    assert classify(topic, data, previous_state=previous_state) == kind
    assert validate_notification(topic, data, previous_state=previous_state) == []


def test_chat_notification_needs_the_interaction_to_be_accepted_already() -> None:
    # Same shape as Chat Accepted: only the interaction's previous state tells them apart.
    assert classify("/v2/me/interactions", CHAT_NOTIFICATION) == "ChatAccepted"
    assert classify("/v2/me/interactions", CHAT_NOTIFICATION, previous_state="Invited") == "ChatAccepted"
    assert classify("/v2/me/interactions", CHAT_NOTIFICATION, previous_state="Accepted") == "ChatNotification"
    without_events = {k: v for k, v in CHAT_NOTIFICATION.items() if k != "chat_notifications"}
    assert classify("/v2/me/interactions", without_events, previous_state="Accepted") == "ChatAccepted"


def test_channel_samples_as_printed_need_no_message_type() -> None:
    # The reference names no message type for /v2/me/channels and its samples carry none (E03).
    for sample in (CHANNEL_READY_AS_PRINTED, CHANNEL_DND_AS_PRINTED):
        assert validate_notification("/v2/me/channels", sample) == []
    assert validate_notification("/v2/me/channels", {"messageType": "", **CHANNEL_READY_AS_PRINTED})


# ---- negative cases --------------------------------------------------------------------------------

DELETE = object()


def changed(data: Any, path: tuple[str | int, ...], value: Any) -> Any:
    result = copy.deepcopy(data)
    target = result
    for step in path[:-1]:
        target = target[step]
    if value is DELETE:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return result


def bad(
    name: str,
    topic: str,
    data: Any,
    path: tuple[str | int, ...],
    value: Any,
    expect: str,
    previous_state: str | None = None,
) -> Any:
    return pytest.param(topic, changed(data, path, value), expect, previous_state, id=name)


# fmt: off
NEGATIVE = [
    bad("call-without-id", CALLS, CALL_STATUS_CHANGE, ("call", "id"), DELETE, "$.call: 'id' is a required property"),
    bad("call-without-state", CALLS, CALL_STATUS_CHANGE, ("call", "state"), DELETE,
        "$.call: 'state' is a required property"),
    bad("call-state-unknown", CALLS, CALL_STATUS_CHANGE, ("call", "state"), "Connected",
        "$.call.state: 'Connected' is not one of"),
    bad("call-id-empty", CALLS, CALL_STATUS_CHANGE, ("call", "id"), "", "$.call.id: '' should be non-empty"),
    bad("call-without-call", CALLS, CALL_STATUS_CHANGE, ("call",), DELETE, "'call' is a required property"),
    bad("call-without-phoneNumber", CALLS, CALL_STATUS_CHANGE, ("phoneNumber",), DELETE,
        "'phoneNumber' is a required property"),
    bad("notificationType-unknown", CALLS, CALL_STATUS_CHANGE, ("notificationType",), "StateChanged",
        "of no notification kind"),
    bad("notificationType-absent", CALLS, CALL_STATUS_CHANGE, ("notificationType",), DELETE, "of no notification kind"),
    bad("call-messageType-typo", CALLS, CALL_STATUS_CHANGE, ("messageType",), "CallStateChangedMessage",
        "$.messageType: 'CallStateChangeMessage' was expected"),
    bad("call-no-message-type", CALLS, CALL_STATUS_CHANGE, ("messageType",), DELETE,
        "is not valid under any of the given schemas"),
    bad("mute-boolean", CALLS, CALL_STATUS_CHANGE, ("call", "mute"), False,
        "$.call.mute: False is not one of ['On', 'Off']"),
    bad("duration-number", CALLS, CALL_STATUS_CHANGE, ("call", "duration"), 0,
        "$.call.duration: 0 is not of type 'string'"),
    bad("participants-string", CALLS, CALL_STATUS_CHANGE, ("call", "participants"), "2", "is not of type 'array'"),
    bad("capability-number", CALLS, CALL_STATUS_CHANGE, ("call", "capabilities", 0), 7,
        "$.call.capabilities[0]: 7 is not of type 'string'"),
    bad("error-without-connectionId", CALLS, CALL_OPERATION_ERROR, ("connectionId",), DELETE,
        "'connectionId' is a required property"),
    bad("error-notificationType-unknown", CALLS, CALL_OPERATION_ERROR, ("notificationType",), "Error",
        "$.notificationType: 'Error' is not one of"),
    bad("device-state-unknown", DEVICES, DEVICE_STATE_CHANGE, ("devices", 0, "deviceState"), "Online",
        "'Online' is not one of"),
    bad("device-without-id", DEVICES, DEVICE_STATE_CHANGE, ("devices", 0, "id"), DELETE,
        "$.devices[0]: 'id' is a required property"),
    bad("device-without-userState", DEVICES, DEVICE_STATE_CHANGE, ("devices", 0, "userState"), DELETE,
        "'userState' is a required property"),
    bad("no-devices", DEVICES, DEVICE_STATE_CHANGE, ("devices",), [], "$.devices: [] should be non-empty"),
    bad("device-messageType-wrong", DEVICES, DEVICE_STATE_CHANGE, ("messageType",), "DeviceStateChangedMessage",
        "was expected"),
    bad("agent-state-unknown", DEVICES, DEVICE_STATE_CHANGE, ("devices", 0, "userState", "state"), "Busy",
        "'Busy' is not one of"),
    bad("workMode-of-the-other-state", DEVICES, DEVICE_STATE_CHANGE, ("devices", 0, "userState"),
        {"state": "Ready", "workMode": "AuxWork"}, "$.devices[0].userState.workMode: 'AuxWork' is not one of"),
    bad("doNotDisturb-lowercase", DEVICES, DEVICE_STATE_CHANGE, ("devices", 0, "doNotDisturb"), "off",
        "'off' is not one of"),
    bad("dndState-unknown", CHANNELS, CHANNEL_DND, ("channels", 0, "dndState"), "Yes",
        "$.channels[0].dndState: 'Yes' is not one of"),
    bad("channel-without-userState", CHANNELS, CHANNEL_READY, ("channels", 0, "userState"), DELETE,
        "'userState' is a required property"),
    bad("channel-userState-without-state", CHANNELS, CHANNEL_READY, ("channels", 0, "userState", "state"), DELETE,
        "'state' is a required property"),
    bad("errorCode-string", ME, ME_PASSWORD_ERROR, ("errorCode",), "2", "$.errorCode: '2' is not one of [1, 2, 3]"),
    bad("errorCode-unknown", ME, ME_PASSWORD_ERROR, ("errorCode",), 4, "$.errorCode: 4 is not one of [1, 2, 3]"),
    bad("password-error-without-errorMessage", ME, ME_PASSWORD_ERROR, ("errorMessage",), DELETE,
        "'errorMessage' is a required property"),
    bad("password-notificationType-unknown", ME, ME_PASSWORD_OK, ("notificationType",), "PasswordChanged",
        "of no notification kind"),
    bad("users-without-userId", USERS, USER_PASSWORD_OK, ("userId",), DELETE, "'userId' is a required property"),
    bad("users-error-without-userUri", USERS, USER_PASSWORD_ERROR, ("userUri",), DELETE,
        "'userUri' is a required property"),
    bad("interaction-without-id", INTERACTIONS, EMAIL_INVITED, ("id",), DELETE, "$: 'id' is a required property"),
    bad("interaction-without-state", INTERACTIONS, EMAIL_INVITED, ("state",), DELETE, "of no notification kind"),
    bad("interaction-state-unknown", INTERACTIONS, EMAIL_INVITED, ("state",), "Completed", "of no notification kind"),
    bad("interaction-state-wrong-case", INTERACTIONS, CHAT_INVITED, ("state",), "invited", "of no notification kind"),
    bad("interaction-messageType-wrong", INTERACTIONS, EMAIL_INVITED, ("messageType",), "CallStateChangeMessage",
        "$.messageType: 'InteractionStateMessage' was expected"),
    bad("interaction-no-message-type", INTERACTIONS, EMAIL_INVITED, ("messageType",), DELETE,
        "is not valid under any of the given schemas"),
    bad("email-without-email_object", INTERACTIONS, EMAIL_REVOKED, ("email_object",), DELETE,
        "'email_object' is a required property"),
    bad("email-without-capabilities", INTERACTIONS, EMAIL_ACCEPTED, ("capabilities",), DELETE,
        "'capabilities' is a required property"),
    bad("capabilities-string", INTERACTIONS, EMAIL_INVITED, ("capabilities",), "Accept",
        "$.capabilities: 'Accept' is not of type 'array'"),
    bad("userData-placeholder-string", INTERACTIONS, EMAIL_INVITED, ("userData",), "complete-map-of-user-data",
        "$.userData: 'complete-map-of-user-data' is not of type 'object'"),
    bad("email-subject-list", INTERACTIONS, EMAIL_ACCEPTED, ("email_object", "Subject"), ["a"],
        "is not of type 'string'"),
    bad("attachment-size-words", INTERACTIONS, EMAIL_ACCEPTED, ("email_object", "attachments", 0, "size"),
        "attachment-size",
        "is not valid under any of the given schemas"),
    bad("chat-EventId-string", INTERACTIONS, CHAT_ACCEPTED, ("chat_notifications", 0, "EventId"), "1",
        "$.chat_notifications[0].EventId: '1' is not of type 'integer'"),
    bad("chat-event-without-MessageType", INTERACTIONS, CHAT_ACCEPTED, ("chat_notifications", 1, "MessageType"), DELETE,
        "'MessageType' is a required property"),
    bad("chat-notification-without-events", INTERACTIONS, CHAT_NOTIFICATION, ("chat_notifications",), [],
        "$.chat_notifications: [] should be non-empty", previous_state="Accepted"),
    bad("workbin-interaction-state-unknown", WORKBINS, WORKBIN_EVENT, ("interaction", "state"), "InWorkbin",
        "'InWorkbin' is not one of"),
    bad("workbin-without-workbinInfo", WORKBINS, WORKBIN_EVENT, ("workbinInfo",), DELETE,
        "'workbinInfo' is a required property"),
    bad("workbin-reason-string", WORKBINS, WORKBIN_EVENT, ("reasonInfo", "reason"), "1", "is not of type 'integer'"),
    bad("workbin-messageType-wrong", WORKBINS, WORKBIN_EVENT, ("messageType",), "WorkbinNotificationResource",
        "was expected"),
    bad("envelope-without-channel", ANY, TOPIC_EVENT, ("channel",), DELETE, "'channel' is a required property"),
    bad("event-without-data", ANY, TOPIC_EVENT, ("data",), DELETE, "'data' is a required property"),
    bad("event-data-not-object", ANY, TOPIC_EVENT, ("data",), "text", "$.data: 'text' is not of type 'object'"),
    bad("envelope-id-number", ANY, CONNECT_REPLY, ("id",), 25, "$.id: 25 is not of type 'string'"),
    bad("handshake-without-clientId", "/meta/handshake", HANDSHAKE_REPLY, ("clientId",), DELETE,
        "'clientId' is a required property"),
    bad("handshake-without-version", "/meta/handshake", HANDSHAKE_REPLY, ("version",), DELETE,
        "'version' is a required property"),
    bad("handshake-connection-types-string", "/meta/handshake", HANDSHAKE_REPLY, ("supportedConnectionTypes",),
        "long-polling",
        "is not of type 'array'"),
    bad("handshake-denied-without-error", "/meta/handshake", HANDSHAKE_DENIED, ("error",), DELETE,
        "'error' is a required property"),
    bad("handshake-on-wrong-channel", "/meta/handshake", HANDSHAKE_REPLY, ("channel",), "/meta/connect",
        "'/meta/handshake' was expected"),
    bad("connect-without-successful", "/meta/connect", CONNECT_REPLY, ("successful",), DELETE,
        "'successful' is a required property"),
    bad("connect-successful-string", "/meta/connect", CONNECT_REPLY, ("successful",), "true",
        "$.successful: 'true' is not of type 'boolean'"),
    bad("advice-reconnect-unknown", "/meta/connect", CONNECT_REPLY, ("advice", "reconnect"), "sometimes",
        "'sometimes' is not one of"),
    bad("advice-timeout-negative", "/meta/connect", CONNECT_REPLY, ("advice", "timeout"), -1,
        "-1 is less than the minimum of 0"),
    bad("subscribe-without-subscription", "/meta/subscribe", SUBSCRIBE_REPLY, ("subscription",), DELETE,
        "'subscription' is a required property"),
    bad("unsubscribe-failed-without-error", "/meta/unsubscribe", UNSUBSCRIBE_REPLY, ("successful",), False,
        "'error' is a required property"),
    bad("disconnect-failed-without-error", "/meta/disconnect", DISCONNECT_REPLY, ("successful",), False,
        "'error' is a required property"),
]
# fmt: on


@pytest.mark.parametrize(("topic", "data", "expect", "previous_state"), NEGATIVE)
def test_broken_message_is_rejected(topic: str, data: Any, expect: str, previous_state: str | None) -> None:
    errors = validate_notification(topic, data, previous_state=previous_state)
    assert any(expect in error for error in errors), errors


def test_unknown_topic_and_non_object_data_are_rejected() -> None:
    assert validate_notification("/v2/me/things", {"id": "1"}) == ["/v2/me/things: not a topic of spec/topics.yaml"]
    assert classify("/v2/me/calls", ["not", "an", "object"]) is None
    assert validate_notification("/v2/me/calls", ["not", "an", "object"])[0].startswith(
        "/v2/me/calls: message is of no notification kind"
    )


# ---- capability values: a warning, not a failure (E19) ---------------------------------------------


def test_unknown_capability_is_a_warning_not_an_error() -> None:
    data = changed(CALL_STATUS_CHANGE, ("call", "capabilities"), ["Hangup", "InitiateTransfer", "HangUp"])
    assert validate_notification("/v2/me/calls", data) == []
    assert known_value_warnings("/v2/me/calls", data) == [
        "$.call.capabilities: 'InitiateTransfer' is not a value the reference lists",
        "$.call.capabilities: 'HangUp' is not a value the reference lists (the reference's spelling of 'Hangup')",
    ]


def test_known_value_warnings_reach_interactions_devices_and_workbins() -> None:
    assert known_value_warnings("/v2/me/interactions", EMAIL_REPLY_CREATED, previous_state="Accepted") == [
        "$.capabilities: 'Cancel' is not a value the reference lists (the reference's spelling of 'CancelReplyEmail')",
    ]
    assert known_value_warnings("/v2/me/interactions", {**EMAIL_INVITED, "interactionType": "Social"}) == [
        "$.interactionType: 'Social' is not a value the reference lists",
    ]
    device = changed(DEVICE_STATE_CHANGE, ("devices", 0, "capabilities"), ["DoNotDisturbOn", "Record"])
    assert known_value_warnings("/v2/me/devices", device) == [
        "$.devices[0].capabilities: 'Record' is not a value the reference lists"
    ]
    workbin = changed(WORKBIN_EVENT, ("interaction", "capabilities"), ["Accept", "Snooze"])
    assert known_value_warnings("/v2/me/workbins", workbin) == [
        "$.interaction.capabilities: 'Snooze' is not a value the reference lists"
    ]
    assert known_value_warnings("/v2/me/calls", CALL_STATUS_CHANGE) == []


# ---- the real captures -----------------------------------------------------------------------------


def capture(name: str) -> Path:
    """A file of fixtures/real-captures (what a real GWS 8.5 server sent)."""
    return CAPTURES / name


def test_call_capture_is_accepted_with_its_unknown_capability_as_a_warning() -> None:
    message = json.loads(capture("call-attached-data-changed.json").read_text(encoding="utf-8-sig"))
    assert validate_notification("/**", message) == []
    assert message["channel"] == "/v2/me/calls"
    assert classify("/v2/me/calls", message["data"]) == "CallAttachedDataChanged"
    assert validate_notification("/v2/me/calls", message["data"]) == []
    assert known_value_warnings("/v2/me/calls", message["data"]) == [
        "$.call.capabilities: 'InitiateTransfer' is not a value the reference lists",
    ]


def get_me_capture() -> dict[str, Any]:
    # The capture was rebuilt from a code comment whose URIs read "http: //demosrv: 8080/..." (README):
    # the spaces are repaired here, in the test input only. The members checked here (devices,
    # channels) carry none of them, and URIs are plain strings in the schemas anyway.
    text = capture("get-me-subresources-all.json").read_text(encoding="utf-8")
    assert "http: //demosrv: 8080" in text
    repaired = re.sub(r"(https?): //([^\s\":/]+): (\d+)", r"\1://\2:\3", text).replace("http: //", "http://")
    return dict(json.loads(repaired)["user"])


def test_get_me_capture_devices_and_channels_are_accepted() -> None:
    user = get_me_capture()
    assert user["devices"] and user["channels"] and user["channelStates"]
    for device in user["devices"]:
        assert contract.validate("schemas/device.json", device) == []
        assert contract.validate("schemas/user-state.json", device["userState"]) == []
    for channel in user["channels"] + user["channelStates"]:
        assert contract.validate("schemas/channel.json", channel) == []
    # The same devices pushed on /v2/me/devices keep the notification's contract too.
    message = {"messageType": "DeviceStateChangeMessage", "devices": user["devices"]}
    assert validate_notification("/v2/me/devices", message) == []


def test_get_me_capture_devices_would_fail_with_a_bad_value() -> None:
    device = changed(get_me_capture()["devices"][0], ("doNotDisturb",), "Maybe")
    assert contract.validate("schemas/device.json", device) == ["$.doNotDisturb: 'Maybe' is not one of ['On', 'Off']"]


# ---- the contract's own shape ----------------------------------------------------------------------


@pytest.mark.parametrize("schema_file", SHARED_SCHEMAS + NOTIFICATION_SCHEMAS)
def test_schema_is_valid_2020_12_without_id(schema_file: str) -> None:
    schema = contract.load_document(schema_file)
    Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert "$id" not in json.dumps(schema), "schemas refer to each other by relative file references only"
    assert schema.get("title") and schema.get("description")


def refs(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        if isinstance(node.get("$ref"), str):
            yield node["$ref"]
        for value in node.values():
            yield from refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from refs(value)


@pytest.mark.parametrize("schema_file", SHARED_SCHEMAS + NOTIFICATION_SCHEMAS)
def test_every_ref_resolves_to_a_relative_file(schema_file: str) -> None:
    for ref in refs(contract.load_document(schema_file)):
        assert "://" not in ref and not ref.startswith("/"), ref
        _, target = _resolve(schema_file, ref)
        assert isinstance(target, dict), ref


def test_topics_carry_exactly_the_brief_kinds() -> None:
    topics = contract.topics()
    data_topics = {topic: set(entry["kinds"]) for topic, entry in topics.items() if entry["validates"] == "data"}
    message_kinds = {kind for entry in topics.values() if entry["validates"] == "message" for kind in entry["kinds"]}
    assert data_topics == BRIEF_KINDS
    assert message_kinds == BRIEF_BAYEUX_KINDS


def test_every_notification_schema_is_registered_under_its_own_topic() -> None:
    registered = {
        rule["schema"]: topic for topic, entry in contract.topics().items() for rule in entry["kinds"].values()
    }
    assert sorted(registered) == NOTIFICATION_SCHEMAS
    for schema_file, topic in registered.items():
        schema = contract.load_document(schema_file)
        assert schema["x-gws-topic"] == topic
        assert "Seed:" in schema["description"] or "Bayeux 1.0" in schema["description"]


def test_only_the_users_topic_is_restricted() -> None:
    restricted = {topic: entry.get("roles") for topic, entry in contract.topics().items() if entry["restricted"]}
    assert restricted == {"/v2/users": ["supervisor", "admin"]}


def test_match_rules_are_enforced_by_their_schemas() -> None:
    # A rule classifies, the schema judges: each discriminating value stated in topics.yaml must be
    # the schema's own constant, or classification and validation would disagree.
    for entry in contract.topics().values():
        for kind, rule in entry["kinds"].items():
            schema = contract.load_document(rule["schema"])
            for field, value in rule["match"].items():
                assert schema["properties"][field] == {"const": value}, kind
            for field in rule.get("present", ()):
                assert field in schema["required"], kind


def test_no_two_kinds_of_a_topic_share_a_rule() -> None:
    for topic, entry in contract.topics().items():
        rules = [json.dumps(rule | {"schema": None}, sort_keys=True) for rule in entry["kinds"].values()]
        assert len(rules) == len(set(rules)), topic


# ---- the seed examples of fixtures/seed-examples agree with the schemas ----------------------------


def seed_cases() -> Iterator[Any]:
    mine = set(SHARED_SCHEMAS + NOTIFICATION_SCHEMAS)
    for path in sorted((contract.FIXTURES_ROOT / "seed-examples").glob("*.json")):
        for case in json.loads(path.read_text(encoding="utf-8")).get("cases", []):
            if case.get("schema", "").partition("#")[0] in mine:
                yield pytest.param(case, id=f"{path.stem}: {case['description']}")


@pytest.mark.parametrize("case", list(seed_cases()))
def test_seed_example_fixture_agrees(case: dict[str, Any]) -> None:
    errors = contract.validate(case["schema"], case["data"])
    assert (errors == []) == case["valid"], errors
    if case.get("kind") == "notification":
        kinds = contract.topics()[case["topic"]]["kinds"]
        expected = next(kind for kind, rule in kinds.items() if rule["schema"] == case["schema"])
        # A kind told apart by the interaction's history (ChatNotification) is checked in that history.
        previous_state = kinds[expected].get("previous_state", [None])[0]
        assert classify(case["topic"], case["data"], previous_state=previous_state) == expected


def test_chat_events_after_another_agent_left_are_chat_notifications() -> None:
    assert classify("/v2/me/interactions", CHAT_NOTIFICATION, previous_state="LeftConference") == "ChatNotification"
    # An agent invited to a conference joins with its first Accepted message.
    assert classify("/v2/me/interactions", CHAT_NOTIFICATION, previous_state="InvitedConference") == "ChatAccepted"
