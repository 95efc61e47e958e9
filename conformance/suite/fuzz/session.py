"""One fuzz run: the schema, the objects tests address, the guard, and a method per kind of test."""

from __future__ import annotations

import contextlib
import functools
import zlib
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

from hypothesis import strategies as st
from hypothesis.errors import Flaky, Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.generation.stateful import run_state_machine_as_test

from conformance.casting import fuzz_agents
from conformance.config import Settings
from conformance.discovery import Discovery
from conformance.errors import TargetError
from conformance.fixtures.clients import ClientPool
from conformance.outcomes import not_applicable
from conformance.suite.fuzz.bindings import ACCOUNTS, RESTORE, Guard, World, bind, restore
from conformance.suite.fuzz.catalogue import Operation, operations
from conformance.suite.fuzz.runner import (
    RunState,
    case_seed,
    conclude,
    hypothesis_settings,
    judge,
    load_schema,
    run_cases,
    send_case,
    strategies,
)

if TYPE_CHECKING:
    from conformance.fixtures.scenarios import AccountLocks

__all__ = ["STATEFUL_STEPS", "FuzzSession", "examples_per_role", "linked_operations"]

# Steps per stateful scenario: enough to create, read, change and delete through the links.
STATEFUL_STEPS = 6
# The fewest cases a test sends, however small the budget: one bound, some generated.
MIN_EXAMPLES = 3


def examples_per_role(budget: int, operation: Operation) -> int:
    """The budget (GWS_FUZZ_MAX_EXAMPLES) is per operation and kind of data, shared by the roles that call it."""
    roles = max(1, len([r for r in operation.roles if r in ACCOUNTS]))
    return max(MIN_EXAMPLES, -(-budget // roles))


@functools.cache
def linked_operations(role: str) -> tuple[Operation, ...]:
    """The operations ``role`` may call that an OpenAPI link leads from or to."""
    catalogue = operations().values()
    by_id = {o.operation_id: o for o in catalogue}
    linked = {o.operation_id for o in catalogue if o.links} | {t for o in catalogue for t in o.links}
    chosen = [by_id[i] for i in linked if i in by_id and role in by_id[i].roles]
    # A link whose both ends the role may call is what makes a stateful run worth having.
    usable = any(o.links and any(t in {c.operation_id for c in chosen} for t in o.links) for o in chosen)
    return tuple(sorted(chosen, key=lambda o: o.label)) if usable else ()


class FuzzSession:
    """Each test holds the account it acts as (the scenarios' account locks) while it sends and restores:
    fuzzing changes that account's state, and what it causes must not reach a scenario's inbox.

    A test holds its account *shared* with the other fuzz tests of that account (``AccountLocks.hold(shared=True)``)
    unless its operation changes the account's own state (``RESTORE``: agent state, Do Not Disturb, forwarding,
    calls, EndContactCenterSession, which unassigns the account's devices) or it is a stateful run: those hold it
    alone. Shared tests change nothing a neighbour's checks depend on (a bound object stays reachable, so E14's
    "statusCode 3/5/6 could not come first" still holds) and each judges one reply at a time, so they run side by
    side on several workers; no scenario meets either kind. As the agent, a test acts as one of the agents
    reserved for fuzzing (``casting.fuzz_agents``; agent1 without a pool): a shared test always the same one
    (spread by its name), an exclusive test whichever is free.
    """

    def __init__(self, settings: Settings, clients: ClientPool, discovery: Discovery, locks: AccountLocks) -> None:
        self.settings = settings
        self.clients = clients
        self.locks = locks
        self.schema = load_schema()
        self.world = World(discovery, clients.for_role, run_tag=str(settings.seed))
        self.guard = Guard(discovery)
        self._operations = {op.label: op for op in (r.ok() for r in self.schema.get_all_operations())}

    def close(self) -> None:
        self.world.clean_up()

    # one (operation, role, kind) ---------------------------------------------------------------

    def fuzz(self, label: str, role: str, mode: str) -> None:
        """Send positive or negative cases of ``label`` as ``role``; raise what they found."""
        __tracebackhide__ = True
        operation = operations()[label]
        if role not in ACCOUNTS:
            not_applicable(f"the {role} role is outside the three roles the suite drives (E26)")
        with self._acting_as(role, f"{label} {mode}", exclusive=label in RESTORE) as account:
            client = self.clients.for_role(account)
            client.raise_if_down()
            self.guard.snapshot()
            bound = bind(operation, role, self.world, account)
            generation = GenerationMode.POSITIVE if mode == "positive" else GenerationMode.NEGATIVE
            strategy = st.one_of(*strategies(self._operations[label], generation, bound))
            state = run_cases(
                strategy=strategy,
                operation=operation,
                role=role,
                mode=mode,
                client=client,
                guard=self.guard,
                world=self.world,
                path_bound=functools.partial(_addresses, operation, bound),
                settings=hypothesis_settings(examples_per_role(self.settings.fuzz.max_examples, operation)),
                seed=case_seed(self.settings.seed, label, role, mode),
            )
            restore(operation, client, bound, self.world.channels(account))
        conclude(state, f"{label} as {role} ({mode} data)", mode)

    @contextlib.contextmanager
    def _acting_as(self, role: str, test: str, *, exclusive: bool) -> Iterator[str]:
        """Hold the account that plays ``role`` for the test named ``test`` (see the class docstring); yields it."""
        pool = fuzz_agents(self.settings.agent_pool) if role == "agent" else ()
        if pool and exclusive:
            with self.locks.hold_cast(pool[:1], pool) as (chosen, _):
                yield chosen[pool[0]]
            return
        account = pool[zlib.crc32(test.encode()) % len(pool)] if pool else ACCOUNTS[role]
        with self.locks.hold(account, shared=not exclusive):
            yield account

    # stateful runs through the links ------------------------------------------------------------

    def stateful(self, role: str) -> None:
        """Chains of calls through the contract's OpenAPI links (create -> read -> change -> delete)."""
        __tracebackhide__ = True
        chosen = linked_operations(role)
        self.guard.snapshot()
        by_label = {o.label: o for o in chosen}
        subset = self.schema.include(operation_id=[o.operation_id for o in chosen])
        state = RunState()
        guard, world = self.guard, self.world

        class Machine(subset.as_state_machine()):  # type: ignore[misc]
            def call(self, case: Any, **kwargs: Any) -> Any:
                from hypothesis import reject

                from conformance.suite.fuzz.runner import _schemathesis_response

                operation = by_label[case.operation.label]
                refusal = guard.refuses(operation, case.path_parameters or {}, case.body)
                if refusal is not None:
                    state.refused.append(refusal)
                    reject()
                if state.target_error is not None:
                    reject()
                try:
                    response = send_case(client, case)
                except TargetError as exc:
                    state.target_error = exc
                    reject()
                state.sent += 1
                code = response.status_code_field
                state.codes[str(code) if code is not None else "none"] += 1
                world.adopt(operation, case.body, response.json_body)
                state.findings += judge(operation, role, case, response, negative=False, path_bound=True).findings
                return _schemathesis_response(response)

            def validate_response(self, response: Any, case: Any, additional_checks: Any = None, **kwargs: Any) -> None:
                return None  # judged in call(), with the suite's checks

        Machine.__name__ = f"Links{role.title()}"
        # hypothesis.seed() for a state machine: run_state_machine_as_test reads this attribute.
        Machine._hypothesis_internal_use_seed = case_seed(self.settings.seed, "stateful", role)
        examples = max(1, self.settings.fuzz.max_examples // 2)
        try:
            with self._acting_as(role, "stateful", exclusive=True) as account:
                client = self.clients.for_role(account)
                client.raise_if_down()
                run_state_machine_as_test(
                    Machine, settings=hypothesis_settings(examples, stateful_step_count=STATEFUL_STEPS)
                )
        except Unsatisfiable:
            pass  # every step was refused or not sent: conclude() says why
        except Flaky as exc:
            # The machine's next step depends on the target's earlier answers; when a repeated prefix
            # gets other answers (the target's state moved on), Hypothesis stops. What was judged stands.
            state.stopped = f"stopped early: {type(exc).__name__} (the target's state changed between scenarios)"
        conclude(state, f"the OpenAPI links as {role} (stateful)", "stateful")


def _addresses(operation: Operation, bound: Mapping[str, str], case: Any) -> bool:
    """Whether a case addresses only bound (existing, reachable) objects."""
    values = case.path_parameters or {}
    return all(name in bound and values.get(name) == bound[name] for name in operation.path_params)
