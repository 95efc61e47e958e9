"""The reference server as one Starlette application: every route in one list.

REST paths are written exactly as in spec/openapi.yaml (under /api/v2); ``api()`` binds each to its
operation there, so a route the contract does not declare fails at start-up, not at request time.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.routing import BaseRoute, Route

from reference_impl.bayeux import BayeuxServer
from reference_impl.events import EventBus
from reference_impl.faults import Faults
from reference_impl.handlers import (
    attachments,
    calls,
    catalogues,
    channels,
    contacts,
    devices,
    features,
    interactions,
    me,
    settings,
    skills,
    users,
    workbins,
)
from reference_impl.http import (
    API_PREFIX,
    Handler,
    allowed_topics,
    authenticate,
    endpoint,
    http_exception,
    unexpected_exception,
)
from reference_impl.limits import HeaderLimit, QueryLimit
from reference_impl.store import Store

__all__ = ["create_app"]


def api(method: str, path: str, handler: Handler) -> Route:
    return Route(API_PREFIX + path, endpoint(method, path, handler), methods=[method])


REST_ROUTES: list[BaseRoute] = [
    api("GET", "/features", features.list_features),
    api("GET", "/features/{id}", features.get_feature),
    api("DELETE", "/features/{id}", features.delete_feature),
    api("GET", "/system/features", features.list_system_features),
    api("GET", "/settings", settings.list_settings_groups),
    api("GET", "/settings/general-settings", settings.get_general_settings),
    api("GET", "/settings/agent-states", settings.list_agent_states),
    api("POST", "/settings/agent-states", settings.create_agent_state),
    api("PUT", "/settings/agent-states", settings.update_agent_state),
    api("DELETE", "/settings/agent-states", settings.delete_agent_state),
    api("GET", "/me", me.get_me),
    api("POST", "/me", me.post_me_operation),
    api("GET", "/me/devices", me.list_my_devices),
    api("GET", "/me/devices/{id}", me.get_my_device),
    api("POST", "/me/devices/{id}/calls", calls.dial_from_my_device),
    api("GET", "/me/channels", channels.list_my_channels),
    api("GET", "/me/channels/{channel}", channels.get_my_channel),
    api("POST", "/me/channels/{channel}", channels.post_my_channel_operation),
    api("GET", "/me/skills", me.list_my_skills),
    api("GET", "/me/skills/{id}", me.get_my_skill),
    api("GET", "/me/calls", calls.list_my_calls),
    api("GET", "/me/calls/{id}", calls.get_my_call),
    api("POST", "/me/calls/{id}", calls.post_call_operation),
    api("GET", "/devices", devices.list_devices),
    api("GET", "/devices/{id}", devices.get_device),
    api("POST", "/devices/{id}", devices.post_device_operation),
    api("POST", "/devices/{id}/calls", calls.dial),
    api("GET", "/users", users.list_users),
    api("POST", "/users", users.create_user),
    api("GET", "/users/{id}", users.get_user),
    api("PUT", "/users/{id}", users.update_user),
    api("POST", "/users/{id}", users.post_user_operation),
    api("DELETE", "/users/{id}", users.delete_user),
    api("GET", "/users/{id}/skills", users.list_user_skills),
    api("POST", "/users/{id}/skills", users.assign_user_skill),
    api("GET", "/users/{id}/skills/{skillId}", users.get_user_skill),
    api("DELETE", "/users/{id}/skills/{skillId}", users.unassign_user_skill),
    api("GET", "/users/{id}/devices", users.list_user_devices),
    api("POST", "/users/{id}/devices", users.create_user_device),
    api("GET", "/skills", skills.list_skills),
    api("POST", "/skills", skills.create_skill),
    api("GET", "/skills/{id}", skills.get_skill),
    api("DELETE", "/skills/{id}", skills.delete_skill),
    api("GET", "/contacts", contacts.list_contacts),
    api("POST", "/contacts", contacts.create_contact),
    api("GET", "/contacts/{id}", contacts.get_contact),
    api("PUT", "/contacts/{id}", contacts.update_contact),
    api("DELETE", "/contacts/{id}", contacts.delete_contact),
    api("GET", "/interactions", interactions.list_interactions),
    api("GET", "/interactions/{id}", interactions.get_interaction),
    api("PUT", "/interactions/{id}", interactions.update_interaction),
    api("GET", "/me/interactions", interactions.list_my_interactions),
    api("POST", "/me/interactions", interactions.post_my_interactions_operation),
    api("POST", "/me/interactions/{id}", interactions.post_interaction_operation),
    api("POST", "/me/interactions/{id}/attachments", attachments.upload_attachment),
    api("GET", "/me/interactions/{id}/attachments/{attachmentId}", attachments.get_attachment),
    api("DELETE", "/me/interactions/{id}/attachments/{attachmentId}", attachments.delete_attachment),
    api("GET", "/me/workbins", workbins.list_my_workbins),
    api("POST", "/me/workbins/{workbinId}", workbins.post_workbin_operation),
    api("GET", "/me/workbins/{workbinId}/interactions", workbins.get_workbin_content),
    api("POST", "/me/workbins/{workbinId}/interactions", workbins.add_to_workbin),
    api("GET", "/recordings", catalogues.list_recordings),
    api("GET", "/system/routing-templates", catalogues.list_routing_templates),
]


def create_app(
    store: Store | None = None, *, stimulus: bool = False, csrf: bool = False, faults: Iterable[str] = ()
) -> Starlette:
    """The reference server over ``store`` (default: fixtures/contact-center.yaml).

    ``csrf``: a POST/PUT/DELETE authenticated by the session cookie alone (every Basic sign-in opens one,
    E88) must echo the session's X-CSRF-TOKEN, which safe reads name. ``stimulus``: also serve the control API
    that plays the outside world (reference_impl/stimulus.py). ``faults``: names (``NAME`` or
    ``NAME=VALUE``) of deliberate violations to commit (reference_impl/faults.py); an unknown one raises
    faults.UnknownFault.
    """
    active = Faults.parse(faults)
    store = store if store is not None else Store.from_file()
    bus = EventBus(publish_filter=active.publish_filter())
    bayeux = BayeuxServer(
        bus,
        authenticate,
        allowed_topics=lambda user_id: allowed_topics(store, user_id, active),
        **active.bayeux_filters(),
    )
    routes: list[BaseRoute] = [*REST_ROUTES, *bayeux.routes]
    if stimulus:
        routes += _stimulus_routes(store, bus)
    app = Starlette(
        routes=routes,
        exception_handlers={HTTPException: http_exception, Exception: unexpected_exception},
        # E96, E101: the header and query-string limits go first, unless a fault waives them.
        middleware=[
            *([] if active.waives("header-limit") else [Middleware(HeaderLimit)]),
            *([] if active.waives("query-limit") else [Middleware(QueryLimit)]),
            *active.middleware(),
        ],
    )
    app.state.store = store
    app.state.bus = bus
    app.state.bayeux = bayeux  # E102: a password change ends the user's CometD sessions (handlers/users.py)
    app.state.csrf = csrf or active.waives("csrf-check")  # that fault issues the tokens it then never checks (E103)
    app.state.faults = active
    return app


def _stimulus_routes(store: Store, bus: EventBus) -> list[BaseRoute]:
    # reference_impl/stimulus.py is not written yet; its entry point is expected to be
    # stimulus_routes(store, bus) -> list[BaseRoute].
    try:
        stimulus_api = importlib.import_module("reference_impl.stimulus")
    except ImportError:
        raise RuntimeError("the stimulus API (reference_impl/stimulus.py) is not available in this build") from None
    routes: list[BaseRoute] = stimulus_api.stimulus_routes(store, bus)
    return routes
