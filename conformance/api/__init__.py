"""Typed helpers named after the API's operations: one helper per operation of spec/openapi.yaml.

    agent = Agent(gws_agent1)
    agent.ready()
    agent.not_ready(work_mode="AfterCallWork")
    Device(gws_agent1, device_id).forward_calls_on("5002")
    Call(gws_agent1, call_id).hold()
    Interaction(gws_agent1, interaction_id).accept(nickname="Alice")
    Admin(gws_admin).create_user(userName=..., password=...)

Every helper returns the ``Reply`` (parsed body + recorded exchange) after the registered HTTP
checks ran on it (statusCode, error shape, E12 HTTP status as SHOULD, the reply's schema from
openapi.yaml, list shapes) and after the step's expectation of the statusCode (``expect=``, default
0; ``expect=ANY`` to judge the reply yourself). ``HELPERS`` maps each operation to its helper.

Layering: conformance.api uses the client, checks, contract and findings; scenarios use it; it
never imports from conformance.suite.
"""

from conformance.api._core import (
    ANY,
    HELPERS,
    OK,
    Expect,
    Raw,
    Reply,
    UnauthenticatedClient,
    check,
    check_response,
    contract_operations,
    expect_status,
    reply_schema,
)
from conformance.api.agent import Agent, Channel
from conformance.api.multimedia import Interaction, Workbin
from conformance.api.provisioning import Admin, Session, b64
from conformance.api.voice import Call, Device

__all__ = [
    "ANY",
    "HELPERS",
    "OK",
    "Admin",
    "Agent",
    "Call",
    "Channel",
    "Device",
    "Expect",
    "Interaction",
    "Raw",
    "Reply",
    "Session",
    "UnauthenticatedClient",
    "Workbin",
    "b64",
    "check",
    "check_response",
    "contract_operations",
    "expect_status",
    "reply_schema",
]
