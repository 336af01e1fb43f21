"""Sharing the spaces out among workers: the plan (pure), consumer names, the lease table."""

from __future__ import annotations

import math
import threading
from collections.abc import Callable
from datetime import timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from smartspaces.bus.base import validate_durable
from smartspaces.space_shards import _Recent, durable_for, plan
from smartspaces.store import Store
from tests.conftest import T0

space_ids = st.lists(st.from_regex(r"[a-z][a-z0-9\-]{0,20}", fullmatch=True), unique=True,
                     min_size=1, max_size=40)  # fmt: skip


@given(space_ids, st.integers(1, 6))
@settings(max_examples=150, deadline=None)
def test_workers_looking_in_turn_hold_every_space_once_and_evenly(
    spaces: list[str], workers: int
) -> None:
    names = [f"w{i}" for i in range(workers)]
    held: dict[str, str] = {}
    for _ in range(4):  # a few rounds of looks: releases, then claims
        for me in names:
            owned = [s for s, h in held.items() if h == me]
            step = plan(spaces, me, owned, held, members=workers)
            assert not set(step.claim) & set(held)  # never claims what another holds
            for space in step.release:
                del held[space]
            for space in step.claim:
                held[space] = me
    assert sorted(held) == sorted(spaces)  # every space held, by exactly one worker
    share = math.ceil(len(spaces) / workers)
    assert all(list(held.values()).count(me) <= share for me in names)


def test_a_new_worker_takes_spaces_over_only_as_the_first_gives_them_back() -> None:
    spaces = [f"s{i}" for i in range(8)]
    first = plan(spaces, "a", [], {}, members=1)
    assert sorted(first.claim) == spaces
    held = dict.fromkeys(spaces, "a")
    joined = plan(spaces, "b", [], held, members=2)
    assert joined.claim == () and joined.release == ()  # nothing free yet
    shrink = plan(spaces, "a", spaces, held, members=2)
    assert len(shrink.renew) == 4 and len(shrink.release) == 4
    for space in shrink.release:
        del held[space]
    assert sorted(plan(spaces, "b", [], held, members=2).claim) == sorted(shrink.release)


def test_spaces_unknown_to_the_plan_are_neither_kept_nor_claimed() -> None:
    step = plan(["a"], "w", ["gone"], {"gone": "w"}, members=1)
    assert step.renew == () and step.claim == ("a",)


@given(st.text(min_size=1, max_size=200))
def test_every_space_id_gives_a_valid_distinct_durable(space_id: str) -> None:
    name = durable_for("detect", space_id)
    assert validate_durable(name) == name
    assert len(name) <= 64
    if durable_for("detect", space_id + "x") == name:
        pytest.fail("two spaces share a durable")


def test_recent_seqs_are_bounded_and_forget_the_oldest() -> None:
    recent = _Recent(3, [1, 2, 3])
    recent.append(4)
    assert 1 not in recent and list(recent) == [2, 3, 4]
    recent.append(4)  # a repeat changes nothing
    assert list(recent) == [2, 3, 4]


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_a_lease_is_held_by_one_worker_until_it_lapses(
    make_store: Callable[[str], Store], backend: str
) -> None:
    leases = make_store(backend).leases
    assert leases.hold("detect", ["plaza"], "w1", T0, 4) == {"plaza"}
    assert leases.hold("detect", ["plaza"], "w2", T0 + timedelta(seconds=3), 4) == set()
    assert leases.hold("detect", ["plaza"], "w1", T0 + timedelta(seconds=3), 4) == {"plaza"}
    # w1 renewed at +3 s: still its until +7 s, then free for w2
    assert leases.hold("detect", ["plaza"], "w2", T0 + timedelta(seconds=6), 4) == set()
    assert leases.hold("detect", ["plaza"], "w2", T0 + timedelta(seconds=8), 4) == {"plaza"}
    assert leases.holders("detect", T0 + timedelta(seconds=8)) == {"plaza": "w2"}
    leases.release("detect", ["plaza"], "w1")  # not w1's any more: nothing happens
    assert leases.holders("detect", T0 + timedelta(seconds=8)) == {"plaza": "w2"}
    leases.release("detect", ["plaza"], "w2")
    assert leases.holders("detect", T0 + timedelta(seconds=8)) == {}
    assert leases.hold("fuse", ["plaza"], "w1", T0, 4) == {"plaza"}  # stages are apart


def test_workers_racing_for_the_same_spaces_never_both_win(
    make_store: Callable[[str], Store],
) -> None:
    leases = make_store("postgres").leases
    spaces = [f"s{i}" for i in range(30)]
    won: dict[str, set[str]] = {}

    def race(me: str) -> None:
        won[me] = leases.hold("detect", spaces, me, T0, 10)

    threads = [threading.Thread(target=race, args=(f"w{i}",)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    claimed = [s for got in won.values() for s in got]
    assert sorted(claimed) == sorted(spaces)  # each space won once, none twice


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_status_and_checkpoint_are_saved_together(
    make_store: Callable[[str], Store], backend: str
) -> None:
    store = make_store(backend)
    status = [{"space_id": "plaza", "updated_at": T0, "occupancy_persons": 12.0}]
    store.save_progress(status, "detect", [("plaza", 41, {"recent": [40, 41]})], T0)
    assert store.leases.checkpoints("detect", ["plaza", "other"]) == {
        "plaza": (41, {"recent": [40, 41]})
    }
    assert store.status()["plaza"]["occupancy_persons"] == 12.0
    with pytest.raises(ValueError, match="stage"):
        store.save_progress(status, None, [("plaza", 42, {})], T0)
    # a checkpoint that cannot be written takes the status with it (one transaction)
    bad = [{"space_id": "plaza", "updated_at": T0, "occupancy_persons": 99.0}]
    with pytest.raises(Exception):  # noqa: B017, PT011 - the driver's own error type
        store.save_progress(bad, "detect", [("plaza", 43, {"x": object()})], T0)
    assert store.status()["plaza"]["occupancy_persons"] == 12.0
