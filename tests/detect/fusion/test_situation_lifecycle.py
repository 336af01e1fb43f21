"""One evolving situation per rule and space: updates, bounded provenance, lapse, eviction."""

from __future__ import annotations

from datetime import timedelta

from smartspaces.detect.fusion import FusionEngine
from smartspaces.events import Alert, Level
from tests.detect.fusion.conftest import at, density, det, engine, feed, obs, of_type

OBJECT = "unattended_object_in_dense_crowd"


def objects(*minutes: float, space: str = "plaza") -> list:  # type: ignore[type-arg]
    return [det("video.unattended_object", at(m), space, Level.AMBER, 0.6) for m in minutes]


def test_repeated_detections_update_one_situation(fusion: FusionEngine) -> None:
    crowd = density(Level.RED, at(0))
    seen = [crowd, *objects(1, 3, 5)]
    found = of_type(feed(fusion, seen), OBJECT)
    assert len(found) == 3
    assert {s.started_at for s in found} == {at(1)}
    assert [s.observed_at for s in found] == [at(1), at(3), at(5)]
    assert len({s.id for s in found}) == 3
    # provenance grows with each update and keeps what opened the situation
    assert [len(s.derived_from) for s in found] == [2, 3, 4]
    assert found[-1].derived_from == tuple(e.id for e in seen)
    # independent sightings corroborate each other: 0.8 x (1 - 0.4^n) x crowd 1.0
    assert [s.confidence for s in found] == [round(0.8 * (1 - 0.4**n), 4) for n in (1, 2, 3)]


def test_a_repeated_event_changes_nothing(fusion: FusionEngine) -> None:
    crowd, (first,) = density(Level.RED, at(0)), objects(1)
    assert len(feed(fusion, [crowd, first])) == 1
    assert fusion.step(first, at(2)) == []  # a retried delivery
    assert fusion.step(crowd, at(2)) == []


def test_a_situation_escalates_in_place(fusion: FusionEngine) -> None:
    opened = feed(fusion, [density(Level.RED, at(0)), *objects(1)])
    (escalated,) = fusion.step(density(Level.CRITICAL, at(4)), at(4))
    assert escalated.level == Level.CRITICAL
    assert escalated.started_at == opened[0].started_at
    assert "crowd.density_level (critical)" in escalated.summary


def test_a_lapsed_window_ends_the_situation(fusion: FusionEngine) -> None:
    (opened,) = feed(fusion, [density(Level.RED, at(0)), *objects(1)])
    assert fusion.tick(at(1) + timedelta(seconds=599)) == []  # still within the 600 s window
    (ended,) = fusion.tick(at(1) + timedelta(seconds=602))
    assert ended.level == Level.NORMAL
    assert ended.summary.startswith("Ended: Unattended object in a dense crowd in Test square")
    assert "no new evidence for 600 s" in ended.summary
    assert (ended.started_at, ended.situation_type) == (opened.started_at, opened.situation_type)
    assert ended.derived_from == opened.derived_from
    assert fusion.tick(at(30)) == []  # ended once
    # new evidence later opens a new situation
    (again,) = fusion.step(objects(40)[0], at(40))
    assert again.started_at == at(40) and again.level == Level.RED


def test_late_but_steady_feeds_do_not_end_situations_early(fusion: FusionEngine) -> None:
    # every event arrives an hour after it happened (a replayed camera archive)
    late = 3600.0
    assert len(feed(fusion, [density(Level.RED, at(0)), *objects(1)], delay_s=late)) == 1
    assert fusion.tick(at(1) + timedelta(seconds=late + 300)) == []
    assert len(fusion.tick(at(1) + timedelta(seconds=late + 601))) == 1


def test_provenance_is_bounded_and_keeps_the_opening_and_the_latest() -> None:
    fusion = engine(max_provenance_ids=10)
    crowd = density(Level.RED, at(0))
    seen = objects(*[0.5 * i for i in range(1, 31)])
    found = feed(fusion, [crowd, *seen])
    last = found[-1].derived_from
    assert len(last) == 10
    assert last[:5] == (crowd.id, *[e.id for e in seen[:4]])
    assert last[5:] == tuple(e.id for e in seen[-5:])
    assert {s.started_at for s in found} == {at(0.5)}


def test_the_open_situation_limit_ends_the_least_recently_updated() -> None:
    fusion = engine(max_open_situations=2)
    feed(fusion, [density(Level.RED, at(0), s) for s in ("plaza", "market", "cathedral")])
    feed(fusion, objects(1, space="plaza") + objects(2, space="market"))
    feed(fusion, objects(3, space="plaza"))  # the plaza's is now the most recent
    found = fusion.step(objects(4, space="cathedral")[0], at(4))
    ended, opened = found
    assert (ended.space_id, ended.level) == ("market", Level.NORMAL)
    assert "at most 2 open situations" in ended.summary
    assert (opened.space_id, opened.level) == ("cathedral", Level.RED)
    assert sorted(s.space_id for s in fusion.open_situations()) == ["cathedral", "plaza"]


def test_only_detections_and_observations_are_fused(fusion: FusionEngine) -> None:
    alert = Alert(
        source="alerts", space_id="plaza", observed_at=at(0), received_at=at(0),
        alert_type="crowd.density", level=Level.RED, severity="Severe", urgency="Immediate",
        certainty="Observed", headline="Crowd density red",
    )  # fmt: skip
    assert fusion.step(alert, at(0)) == []
    # types no rule mentions are looked up once and cost nothing after
    assert (
        feed(
            fusion, [det("cyber.beaconing", at(1)), obs("cam-plaza-1", "noise_laeq_dba", 80, at(1))]
        )
        == []
    )


def test_readings_that_repeat_a_state_keep_it_alive_quietly(fusion: FusionEngine) -> None:
    spoof = "counter_contradicts_camera"
    first = [
        obs("counter-plaza-1", "occupancy_persons", 1, at(0)),
        obs("cam-plaza-1", "occupancy_persons", 380, at(0.2)),
    ]
    assert len(of_type(feed(fusion, first), spoof)) == 1
    # both keep reporting the same every minute for ten minutes: no news, no new events...
    repeats = [
        obs(sensor, "occupancy_persons", value, at(m))
        for m in range(1, 11)
        for sensor, value in (("counter-plaza-1", 2), ("cam-plaza-1", 390))
    ]
    assert feed(fusion, repeats) == []
    # ...but the situation is alive: the 300 s the readings count for run from the last ones
    assert fusion.tick(at(14)) == []
    (ended,) = fusion.tick(at(15.1))
    assert ended.level == Level.NORMAL and ended.started_at == at(0.2)
    # a second camera joining in is news
    feed(fusion, first)
    (update,) = fusion.step(obs("cam-plaza-2", "occupancy_persons", 410, at(1)), at(1))
    assert "cam-plaza-2 occupancy_persons=410" in update.summary


def test_late_events_neither_end_nor_rewind_a_situation(fusion: FusionEngine) -> None:
    attack = [
        det("cyber.arp_scan", at(60), level=Level.RED),
        obs("cam-plaza-1", "device_silence_s", 90, at(61), source="edge.health"),
        det("crowd.red_forecast", at(62), level=Level.AMBER, confidence=0.7),
    ]
    (opened,) = of_type(feed(fusion, attack), "coordinated_attack")
    # a scan from two hours earlier reaches us only now: outside the window, it changes nothing
    assert fusion.step(det("cyber.icmp_sweep", at(-60), level=Level.RED), at(63)) == []
    # an old crowd level arriving late does not replace the newer one
    feed(fusion, [density(Level.RED, at(64)), *objects(65)])
    assert fusion.step(density(Level.NORMAL, at(30)), at(66)) == []
    (update,) = fusion.step(objects(67)[0], at(67))
    assert update.situation_type == OBJECT and update.level == Level.RED
    assert fusion.tick(at(70)) == []
    assert {s.situation_type for s in fusion.open_situations()} == {"coordinated_attack", OBJECT}
    assert opened.started_at == at(62)
