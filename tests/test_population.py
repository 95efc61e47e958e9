"""``--agents N``: the reference offers agent1 .. agentN, each able to sign in and work like the file's own."""

from __future__ import annotations

import httpx
import pytest

from reference_impl import population
from reference_impl.app import create_app
from reference_impl.store import DEFAULT_FIXTURE, Store

pytestmark = pytest.mark.anyio


async def test_generated_agents_sign_in_with_a_device_and_channels() -> None:
    store = Store.from_file(agents=12)
    agents = sorted(u.user_name for u in store.users.values() if u.roles == ["ROLE_AGENT"])
    assert agents == sorted(population.agent_name(n) for n in range(1, 13))
    transport = httpx.ASGITransport(app=create_app(store))
    async with httpx.AsyncClient(transport=transport, base_url="http://reference.test") as client:
        me = await client.get(
            "/api/v2/me", params={"subresources": "*"}, auth=("agent12", population.agent_password(12))
        )
    assert me.status_code == 200, me.text
    user = me.json()["user"]
    assert user["userName"] == "agent12"
    assert [d["phoneNumber"] for d in user["devices"]] == ["600012"]
    assert sorted(c["channel"] for c in user["channels"]) == ["chat", "email", "voice"]


def test_the_files_own_agents_are_kept_and_ids_are_stable() -> None:
    first, second = Store.from_file(agents=6), Store.from_file(agents=6)
    assert {u.id for u in first.users.values()} == {u.id for u in second.users.values()}
    agent1 = first.user_by_name("agent1")
    assert agent1 is not None and agent1.first_name == "Alice"
    phone_numbers = [d.phone_number for d in first.devices.values()]
    assert len(phone_numbers) == len(set(phone_numbers))


def test_a_count_below_the_files_agents_changes_nothing() -> None:
    assert len(Store.from_file(agents=2).users) == len(Store.from_file().users)
    assert DEFAULT_FIXTURE.exists()


def test_an_impossible_count_is_refused() -> None:
    with pytest.raises(ValueError, match="agent count"):
        population.with_agents({}, population.MAX_AGENTS + 1)
