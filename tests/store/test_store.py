"""The store on SQLite and on the real PostgreSQL server: same behaviour on both."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest

from smartspaces.events import Detection, Level
from smartspaces.store import Store
from tests.conftest import T0, counts, square

BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


@pytest.fixture(params=BACKENDS)
def store(request: pytest.FixtureRequest, make_store: Callable[[str], Store]) -> Store:
    return make_store(request.param)


def test_migrations_can_run_twice(store: Store) -> None:
    store.migrate()
    assert store.count("observation") == 0


def test_events_are_stored_once_however_often_they_are_delivered(store: Store) -> None:
    batch = [counts("entries_count", i, T0 + timedelta(seconds=10 * i)) for i in range(50)]
    assert store.append_events(batch) == 50
    assert store.append_events(batch[10:30]) == 0
    assert store.count("observation") == 50


def test_provenance_leads_from_a_detection_back_to_its_observations(store: Store) -> None:
    observations = [counts("entries_count", 900, T0), counts("exits_count", 10, T0, sensor="c2")]
    detection = Detection(
        source="crowd.density",
        space_id="plaza",
        observed_at=T0,
        received_at=T0,
        derived_from=tuple(o.id for o in observations),
        detector="crowd.density",
        detection_type="crowd.density_level",
        level=Level.AMBER,
    )
    store.append_events([*observations, detection])
    chain = store.provenance(detection.id)
    assert [e.id for e in chain] == [detection.id, *(o.id for o in observations)]
    assert store.event(observations[0].id) == observations[0]
    assert store.provenance("obs-unknown") == []
    assert store.event("not-an-id") is None


def test_spaces_and_live_status(store: Store) -> None:
    store.put_spaces([square("plaza"), square("calle", area_m2=300)])
    store.put_spaces([square("plaza", area_m2=1200)])  # replaced, not duplicated
    assert [(s.id, s.area_m2) for s in store.spaces()] == [("calle", 300), ("plaza", 1200)]
    store.update_status(
        [
            {
                "space_id": "plaza",
                "updated_at": T0,
                "occupancy_persons": 10.0,
                "density_p_m2": 0.01,
                "level_of_service": "A",
            }
        ]
    )
    store.update_status(
        [{"space_id": "plaza", "updated_at": T0, "risk_level": "red", "risk_score": 0.75}]
    )
    status = store.status()["plaza"]
    assert status["occupancy_persons"] == 10.0
    assert status["risk_level"] == "red"
    assert status["updated_at"] == T0


def test_dead_letters_keep_the_reason_and_a_bounded_payload(store: Store) -> None:
    store.add_dead_letter("http", "value: not a number", "x" * 200_000, T0)
    (letter,) = store.dead_letters()
    assert letter.reason == "value: not a number"
    assert len(letter.payload) == 65_536
    assert letter.payload_bytes == 200_000


def test_audit_records_are_chained(store: Store) -> None:
    first = store.audit("operator-1", "acknowledge", "alert-1", {"note": "seen"}, T0)
    second = store.audit("operator-1", "resolve", "alert-1", {}, T0)
    assert first != second and len(second) == 64


def test_latest_event_per_space_and_type(store: Store) -> None:
    def detection(space: str, kind: str, minute: int, level: Level) -> Detection:
        return Detection(
            source="d",
            space_id=space,
            observed_at=T0 + timedelta(minutes=minute),
            received_at=T0,
            detector="d",
            detection_type=kind,
            level=level,
        )

    store.append_events(
        [
            detection("plaza", "crowd", 1, Level.AMBER),
            detection("plaza", "crowd", 5, Level.RED),
            detection("plaza", "video", 2, Level.AMBER),
            detection("calle", "crowd", 3, Level.NORMAL),
        ]
    )
    latest = store.latest_per_space("detection", "detection_type")
    found = sorted((e.space_id, e.detection_type, e.level.value) for e in latest)  # type: ignore[union-attr]
    assert found == [
        ("calle", "crowd", "normal"),
        ("plaza", "crowd", "red"),
        ("plaza", "video", "amber"),
    ]
    assert {e.space_id for e in store.latest_per_space("detection")} == {"plaza", "calle"}
