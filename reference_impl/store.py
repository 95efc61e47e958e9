"""The reference server's contact center, in memory.

Loaded from ``fixtures/contact-center.yaml`` (or another file of the same shape); ``reset()``
returns to exactly that state. The server runs on one event loop and no handler awaits between
reading and writing the store, so the store needs no locks.

Provisioning objects (users, devices, skills, contacts, settings, features, ...) are plain
dataclasses here; their wire shapes live with their handlers. Calls, interactions, attachments,
workbin contents and each agent's state are model objects (``reference_impl/model/``) held in the
dictionaries marked below: this module only keeps them and clears them on ``reset()``.
"""

from __future__ import annotations

import copy
import secrets
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib.resources import files
from pathlib import Path
from typing import Any

import yaml

from conformance import contract
from reference_impl import population
from reference_impl.model.agent_state import AgentState, DeviceState
from reference_impl.model.call import Telephony

__all__ = [
    "AgentStateSetting",
    "Contact",
    "Device",
    "Feature",
    "FixtureError",
    "Queue",
    "Recording",
    "RoutingTemplate",
    "Session",
    "Skill",
    "Store",
    "User",
    "Workbin",
    "new_id",
    "parse_timestamp",
]

DEFAULT_FIXTURE = Path(str(files("gws_fixtures"))) / "contact-center.yaml"
# Every Basic request without the cookie opens a session (E88), and clients that keep no cookies (curl) send
# many: beyond this many the oldest are forgotten, as a real server expires them.
MAX_SESSIONS = 10_000


class FixtureError(Exception):
    """The contact-center file cannot be read or does not have the expected shape."""


def new_id() -> str:
    return uuid.uuid4().hex


def parse_timestamp(text: str) -> datetime | None:
    """An ISO-8601 timestamp (``Z`` allowed) or None; naive times are read as UTC."""
    try:
        # RFC 3339 (E99) lets the "T" and "Z" be lower case; fromisoformat takes only the upper.
        value = datetime.fromisoformat(text.upper())
    except ValueError:
        return None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


@dataclass
class User:
    id: str
    user_name: str
    password: str
    first_name: str
    last_name: str
    roles: list[str]
    email_address: str | None = None
    employee_id: str | None = None
    change_password_on_first_login: bool = False
    channels: list[str] = field(default_factory=list)
    skill_levels: dict[str, str] = field(default_factory=dict)  # skill id -> level (digits)


@dataclass
class Device:
    id: str
    phone_number: str
    user_id: str | None
    telephony_network: str = "Private"  # the reference's default on creation
    model: str | None = None
    vendor: str | None = None

    def static_attributes(self) -> dict[str, Any]:
        """What never changes at run time; the agent-state model holds DND, forwarding and user state."""
        attributes: dict[str, Any] = {"telephonyNetwork": self.telephony_network, "channels": ["voice"]}
        if self.model is not None:
            attributes["model"] = self.model
        if self.vendor is not None:
            attributes["vendor"] = self.vendor
        return attributes


@dataclass
class Skill:
    id: str
    name: str
    description: str | None = None


@dataclass
class Contact:
    """A contact of type Custom (Queue and User contacts are derived, never stored)."""

    id: str
    name: str
    phone_number: str | None = None


@dataclass
class Queue:
    id: str
    name: str
    phone_number: str | None = None


@dataclass
class Workbin:
    id: str
    workbin_name: str
    view_name: str
    workbin_type: int = 1
    active: int = 1


@dataclass
class AgentStateSetting:
    id: str
    operation_name: str
    display_name: str
    state: str
    work_mode: str | None = None
    reason: str | None = None
    read_only: bool = False

    def to_wire(self) -> dict[str, Any]:
        wire = {
            "id": self.id,
            "operationName": self.operation_name,
            "displayName": self.display_name,
            "state": self.state,
        }
        if self.work_mode is not None:
            wire["workMode"] = self.work_mode
        if self.reason is not None:
            wire["reason"] = self.reason
        return wire


@dataclass
class Feature:
    id: str
    display_name: str
    description: str


@dataclass
class Recording:
    id: str
    start_time: datetime
    end_time: datetime
    caller_phone_number: str
    dialed_phone_number: str
    user_name: str


@dataclass
class RoutingTemplate:
    id: str
    name: str
    channel: str
    version: str
    description: str | None = None


@dataclass
class Session:
    """A cookie session (every Basic sign-in opens one, E88): who it belongs to and the token unsafe requests
    echo in --csrf mode."""

    id: str
    user_id: str
    csrf_token: str


class Store:
    """Everything the reference server knows; see the module docstring."""

    def __init__(self, document: Mapping[str, Any]) -> None:
        self._document = copy.deepcopy(dict(document))
        self.reset()

    @classmethod
    def from_file(cls, path: Path | str | None = None, *, agents: int = 0) -> Store:
        """The contact center in ``path`` (the default fixture if None), with at least ``agents`` agent
        accounts: ``agent1`` .. ``agent<agents>``, the missing ones added by ``population.with_agents``."""
        source = Path(path) if path is not None else DEFAULT_FIXTURE
        try:
            document = contract.load_yaml(source.read_text(encoding="utf-8"))
        except OSError as exc:
            raise FixtureError(f"{source}: {exc.strerror or exc}") from exc
        except (yaml.YAMLError, UnicodeDecodeError) as exc:
            raise FixtureError(f"{source}: not valid YAML: {str(exc).splitlines()[0]}") from exc
        if not isinstance(document, dict):
            raise FixtureError(f"{source}: expected a mapping at the top level")
        try:
            return cls(population.with_agents(document, agents) if agents else document)
        except FixtureError as exc:
            raise FixtureError(f"{source}: {exc}") from exc
        except (TypeError, ValueError, AttributeError, KeyError) as exc:
            # A value of the wrong kind somewhere the loader does not name (e.g. channels: 5).
            raise FixtureError(f"{source}: unexpected content ({type(exc).__name__}: {exc})") from exc

    def reset(self) -> None:
        """Forget every change: back to the loaded fixture, sessions and model objects dropped."""
        loader = _Loader(copy.deepcopy(self._document))
        self.general_settings: dict[str, str] = loader.general_settings()
        self.features: dict[str, Feature] = loader.features()
        self.assigned_features: list[str] = loader.assigned_features(self.features)
        self.agent_state_settings: dict[str, AgentStateSetting] = loader.agent_states()  # by operationName
        self.skills: dict[str, Skill] = loader.skills()
        self.users: dict[str, User] = {}
        self.devices: dict[str, Device] = {}
        loader.users(self.users, self.devices, self.skills)
        self.queues: dict[str, Queue] = loader.queues()
        self.workbins: dict[str, Workbin] = loader.workbins()
        self.contacts: dict[str, Contact] = loader.contacts()
        self.recordings: list[Recording] = loader.recordings()
        self.routing_templates: list[RoutingTemplate] = loader.routing_templates()
        self.sessions: dict[str, Session] = {}

        # Model objects (reference_impl/model/), keyed by their ids; their handlers own them.
        self.presence: dict[str, AgentState] = {}  # user id -> that user's agent state, devices and channels
        for user in self.users.values():
            self.start_presence(user)
        # The switch: every call leg by id (GET/POST /me/calls/{id}); it finds devices by phone number here.
        self.telephony = Telephony(self.endpoint)
        # user id -> the devices EndContactCenterSession unassigned: the place a later
        # StartContactCenterSession without "place" assigns again (handlers/me.py).
        self.released_places: dict[str, list[str]] = {}
        self.interactions: dict[str, Any] = {}
        self.attachments: dict[str, Any] = {}
        self.workbin_contents: dict[str, list[str]] = {}  # workbin id -> interaction ids

    # -- look-ups used by several handlers -----------------------------------------------------

    def user_by_name(self, user_name: str) -> User | None:
        return next((u for u in self.users.values() if u.user_name == user_name), None)

    def devices_of(self, user_id: str) -> list[Device]:
        return [d for d in self.devices.values() if d.user_id == user_id]

    def endpoint(self, phone_number: str) -> DeviceState | None:
        """The assigned device a call to ``phone_number`` reaches; None for a number outside the contact center."""
        for device in self.devices.values():
            presence = self.presence.get(device.user_id or "")
            if device.phone_number == phone_number and presence and device.id in presence.devices:
                return presence.devices[device.id]
        return None

    def supervisors_and_admins(self) -> list[User]:
        """Who receives /v2/users messages."""
        return [u for u in self.users.values() if {"ROLE_ADMIN", "ROLE_SUPERVISOR"} & set(u.roles)]

    def agent_state_definitions(self) -> list[dict[str, Any]]:
        """GET /settings/agent-states as the model reads it: called on every use, so edits apply at once."""
        return [setting.to_wire() for setting in self.agent_state_settings.values()]

    def start_presence(self, user: User) -> AgentState:
        """The agent-state machine of a new (or reloaded) user, over its devices and channels."""
        devices = [(d.id, d.phone_number, d.static_attributes()) for d in self.devices_of(user.id)]
        presence = AgentState(user.id, self.agent_state_definitions, devices=devices, channels=user.channels)
        self.presence[user.id] = presence
        return presence

    def add_device(self, device: Device) -> None:
        self.devices[device.id] = device
        if device.user_id is not None:
            presence = self.presence[device.user_id]
            presence.devices[device.id] = DeviceState(
                presence, device.id, device.phone_number, device.static_attributes()
            )

    def open_session(self, user_id: str) -> Session:
        session = Session(secrets.token_urlsafe(24), user_id, secrets.token_urlsafe(24))
        self.sessions[session.id] = session
        if len(self.sessions) > MAX_SESSIONS:
            del self.sessions[next(iter(self.sessions))]  # the oldest: dicts keep insertion order
        return session

    def end_sessions(self, user_id: str) -> None:
        """Every cookie session of the user ends: a request carrying only such a cookie is no longer authenticated."""
        self.sessions = {key: session for key, session in self.sessions.items() if session.user_id != user_id}

    def delete_user(self, user_id: str) -> None:
        """Remove a user; its devices stay in the contact center, unassigned."""
        del self.users[user_id]
        for device in self.devices_of(user_id):
            device.user_id = None
        self.end_sessions(user_id)
        self.presence.pop(user_id, None)

    def delete_skill(self, skill_id: str) -> None:
        del self.skills[skill_id]
        for user in self.users.values():
            user.skill_levels.pop(skill_id, None)


class _Loader:
    """Reads the fixture document, naming the entry at fault in every error."""

    def __init__(self, document: dict[str, Any]) -> None:
        self.document = document

    def _list(self, key: str) -> list[dict[str, Any]]:
        value = self.document.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
            raise FixtureError(f"'{key}' must be a list of mappings")
        return value

    @staticmethod
    def _str(entry: Mapping[str, Any], key: str, where: str, *, default: str | None = None) -> str:
        value = entry.get(key, default)
        if value is None:
            raise FixtureError(f"{where}: missing '{key}'")
        if not isinstance(value, str | int) or isinstance(value, bool):
            raise FixtureError(f"{where}: '{key}' must be a string")
        return str(value)

    @staticmethod
    def _opt(entry: Mapping[str, Any], key: str) -> str | None:
        value = entry.get(key)
        return None if value is None else str(value)

    def general_settings(self) -> dict[str, str]:
        value = self.document.get("general-settings", {})
        if not isinstance(value, dict):
            raise FixtureError("'general-settings' must be a mapping")
        return {str(k): str(v) for k, v in value.items()}

    def features(self) -> dict[str, Feature]:
        result = {}
        for i, entry in enumerate(self._list("features")):
            where = f"features[{i}]"
            feature = Feature(
                self._str(entry, "id", where),
                self._str(entry, "displayName", where),
                self._str(entry, "description", where, default=""),
            )
            result[feature.id] = feature
        return result

    def assigned_features(self, features: Mapping[str, Feature]) -> list[str]:
        assigned = self.document.get("assigned-features", [])
        if not isinstance(assigned, list):
            raise FixtureError("'assigned-features' must be a list")
        unknown = [f for f in assigned if f not in features]
        if unknown:
            raise FixtureError(f"assigned-features: not in 'features': {', '.join(map(str, unknown))}")
        return [str(f) for f in assigned]

    def agent_states(self) -> dict[str, AgentStateSetting]:
        result = {}
        for i, entry in enumerate(self._list("agent-states")):
            where = f"agent-states[{i}]"
            setting = AgentStateSetting(
                id=self._str(entry, "id", where),
                operation_name=self._str(entry, "operationName", where),
                display_name=self._str(entry, "displayName", where),
                state=self._str(entry, "state", where),
                work_mode=self._opt(entry, "workMode"),
                reason=self._opt(entry, "reason"),
                read_only=bool(entry.get("readOnly", False)),
            )
            result[setting.operation_name] = setting
        return result

    def skills(self) -> dict[str, Skill]:
        result = {}
        for i, entry in enumerate(self._list("skills")):
            where = f"skills[{i}]"
            skill = Skill(
                self._str(entry, "id", where), self._str(entry, "name", where), self._opt(entry, "description")
            )
            result[skill.id] = skill
        return result

    def users(self, users: dict[str, User], devices: dict[str, Device], skills: Mapping[str, Skill]) -> None:
        for i, entry in enumerate(self._list("users")):
            where = f"users[{i}]"
            roles = entry.get("roles", [])
            if not isinstance(roles, list) or not roles:
                raise FixtureError(f"{where}: 'roles' must be a non-empty list")
            levels = entry.get("skills") or {}
            if not isinstance(levels, dict) or any(k not in skills for k in levels):
                raise FixtureError(f"{where}: 'skills' must map ids listed under 'skills' to levels")
            user = User(
                id=self._str(entry, "id", where),
                user_name=self._str(entry, "userName", where),
                password=self._str(entry, "password", where),
                first_name=self._str(entry, "firstName", where),
                last_name=self._str(entry, "lastName", where),
                roles=[str(r) for r in roles],
                email_address=self._opt(entry, "emailAddress"),
                employee_id=self._opt(entry, "employeeId"),
                change_password_on_first_login=bool(entry.get("changePasswordOnFirstLogin", False)),
                channels=[str(c) for c in entry.get("channels", [])],
                skill_levels={str(k): str(v) for k, v in levels.items()},
            )
            users[user.id] = user
            for j, device_entry in enumerate(entry.get("devices") or []):
                device_where = f"{where}.devices[{j}]"
                if not isinstance(device_entry, dict):
                    raise FixtureError(f"{device_where}: expected a mapping")
                device = Device(
                    id=self._str(device_entry, "id", device_where),
                    phone_number=self._str(device_entry, "phoneNumber", device_where),
                    user_id=user.id,
                    telephony_network=self._str(device_entry, "telephonyNetwork", device_where, default="Private"),
                    model=self._opt(device_entry, "model"),
                    vendor=self._opt(device_entry, "vendor"),
                )
                devices[device.id] = device

    def queues(self) -> dict[str, Queue]:
        result = {}
        for i, entry in enumerate(self._list("queues")):
            where = f"queues[{i}]"
            queue = Queue(
                self._str(entry, "id", where), self._str(entry, "name", where), self._opt(entry, "phoneNumber")
            )
            result[queue.id] = queue
        return result

    def workbins(self) -> dict[str, Workbin]:
        result = {}
        for i, entry in enumerate(self._list("workbins")):
            where = f"workbins[{i}]"
            name = self._str(entry, "workbinName", where)
            workbin = Workbin(
                self._str(entry, "id", where), name, self._str(entry, "viewName", where, default=f"{name}/PrivateView")
            )
            result[workbin.id] = workbin
        return result

    def contacts(self) -> dict[str, Contact]:
        result = {}
        for i, entry in enumerate(self._list("contacts")):
            where = f"contacts[{i}]"
            contact = Contact(
                self._str(entry, "id", where), self._str(entry, "name", where), self._opt(entry, "phoneNumber")
            )
            result[contact.id] = contact
        return result

    def recordings(self) -> list[Recording]:
        result = []
        for i, entry in enumerate(self._list("recordings")):
            where = f"recordings[{i}]"
            start, end = (parse_timestamp(self._str(entry, key, where)) for key in ("startTime", "endTime"))
            if start is None or end is None:
                raise FixtureError(f"{where}: startTime and endTime must be ISO-8601 timestamps")
            result.append(
                Recording(
                    id=self._str(entry, "id", where),
                    start_time=start,
                    end_time=end,
                    caller_phone_number=self._str(entry, "callerPhoneNumber", where),
                    dialed_phone_number=self._str(entry, "dialedPhoneNumber", where),
                    user_name=self._str(entry, "userName", where),
                )
            )
        return result

    def routing_templates(self) -> list[RoutingTemplate]:
        result = []
        for i, entry in enumerate(self._list("routing-templates")):
            where = f"routing-templates[{i}]"
            result.append(
                RoutingTemplate(
                    id=self._str(entry, "id", where),
                    name=self._str(entry, "name", where),
                    channel=self._str(entry, "channel", where),
                    version=self._str(entry, "version", where),
                    description=self._opt(entry, "description"),
                )
            )
        return result
