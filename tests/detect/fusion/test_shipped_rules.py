"""Each shipped rule on a realistic event stream, and its near misses in time, place and kind."""

from __future__ import annotations

from smartspaces.detect.fusion import FusionEngine
from smartspaces.events import Detection, Level, Observation
from tests.detect.fusion.conftest import (
    SPACES,
    at,
    density,
    det,
    engine,
    feed,
    obs,
    of_type,
    silence,
)

ATTACK = "coordinated_attack"


def attack_stream(
    scan_at: float = 0.0, dark_at: float = 2.0, crowd_at: float = 5.0, scan_space: str = "plaza"
) -> list[Observation | Detection]:
    """A scan of the plaza's camera network, its cameras silent, the crowd next door growing."""
    scan = det(
        "cyber.horizontal_port_scan", at(scan_at), scan_space, Level.RED, 0.9,
        attacker_ip="203.0.113.9", target_ip="10.20.0.11",
    )  # fmt: skip
    events: list[Observation | Detection] = [
        scan,
        silence("cam-plaza-1", at(dark_at)),
        silence("cam-plaza-2", at(dark_at + 1)),
        det("crowd.density_rising_fast", at(crowd_at), "market", Level.AMBER, 0.8),
    ]
    return sorted(events, key=lambda e: e.observed_at)


def test_scan_then_cameras_dark_then_crowd_rising_is_a_coordinated_attack(
    fusion: FusionEngine,
) -> None:
    events = attack_stream()
    found = of_type(feed(fusion, events), ATTACK)
    assert len(found) == 1
    situation = found[0]
    assert situation.space_id == "plaza"
    assert (situation.jdl_level, situation.level) == (3, Level.CRITICAL)
    assert situation.started_at == at(5)
    assert set(situation.derived_from) == {e.id for e in events}
    # weight 0.9 x scan 0.9 x cameras (two readings worth 1 each) x crowd 0.8
    assert situation.confidence == round(0.9 * 0.9 * 1.0 * 0.8, 4)
    assert "network scan: cyber.horizontal_port_scan (red)" in situation.summary
    assert "cam-plaza-1 device_silence_s=95" in situation.summary
    assert "crowd.density_rising_fast (amber) in market" in situation.summary
    assert situation.location == SPACES[0].centroid


def test_a_scan_of_an_asset_serving_the_space_counts_there(fusion: FusionEngine) -> None:
    # the telecom node the plaza's cameras hang off is scanned; the finding is placed at the
    # station where the node stands, and the city model says it serves the plaza
    events = attack_stream(scan_space="station")
    assert of_type(feed(fusion, events), ATTACK) == []
    served = attack_stream(scan_space="station")
    served[0] = det(
        "cyber.vertical_port_scan", at(0), "station", Level.RED, 0.9, asset_id="telecom-3"
    )
    found = of_type(feed(engine(), served), ATTACK)
    assert [s.space_id for s in found] == ["plaza"]


def test_attack_near_misses(fusion: FusionEngine) -> None:
    fresh = engine
    # too far apart: the cameras go dark 20 minutes after the scan (window 15 minutes)
    assert of_type(feed(fresh(), attack_stream(dark_at=20.0, crowd_at=21.0)), ATTACK) == []
    # wrong order: the cameras went dark before the scan
    assert of_type(feed(fresh(), attack_stream(scan_at=4.0, dark_at=1.0)), ATTACK) == []
    # the scan was of another part of town
    assert of_type(feed(fresh(), attack_stream(scan_space="cathedral")), ATTACK) == []
    # counters, not cameras, went silent
    events = attack_stream()
    events[1] = silence("counter-plaza-1", at(2))
    events[2] = obs("counter-plaza-1", "device_silence_s", 120, at(3))  # not from edge.health
    assert of_type(feed(fresh(), events), ATTACK) == []
    # the crowd grows in a space that is no neighbour
    events = attack_stream()
    events[-1] = det("crowd.density_rising_fast", at(5), "cathedral")
    assert of_type(feed(fusion, events), ATTACK) == []


OBJECT = "unattended_object_in_dense_crowd"


def test_unattended_object_at_red_density(fusion: FusionEngine) -> None:
    # the plaza reached red an hour ago and stayed there: the crowd level is a state
    found = feed(fusion, [density(Level.RED, at(-60)), det("video.unattended_object", at(0))])
    (situation,) = of_type(found, OBJECT)
    assert (situation.space_id, situation.level, situation.jdl_level) == ("plaza", Level.RED, 2)
    assert "unattended object: video.unattended_object (amber)" in situation.summary
    assert "crowd density: crowd.density_level (red)" in situation.summary


def test_unattended_object_at_critical_density_is_critical(fusion: FusionEngine) -> None:
    found = feed(fusion, [density(Level.CRITICAL, at(0)), det("video.unattended_object", at(1))])
    assert [s.level for s in of_type(found, OBJECT)] == [Level.CRITICAL]


def test_unattended_object_near_misses(fusion: FusionEngine) -> None:
    fresh = engine
    # the crowd thinned to amber before the object was seen
    events = [
        density(Level.RED, at(0)),
        density(Level.AMBER, at(5)),
        det("video.unattended_object", at(6)),
    ]
    assert of_type(feed(fresh(), events), OBJECT) == []
    # red next door, not here
    events = [density(Level.RED, at(0), "market"), det("video.unattended_object", at(1))]
    assert of_type(feed(fresh(), events), OBJECT) == []
    # red density in a space nobody watches: no anchor
    events = [
        density(Level.RED, at(0), "nowhere"),
        det("video.unattended_object", at(1), "nowhere"),
    ]
    assert of_type(feed(fusion, events), OBJECT) == []


RUNNING = "diverging_running"


def running(second: float, heading: float, space: str = "plaza") -> Detection:
    return det("video.running", at(seconds=second), space, Level.AMBER, 0.7, heading_deg=heading)


def test_people_running_in_diverging_directions(fusion: FusionEngine) -> None:
    found = feed(fusion, [running(0, 350), running(4, 110), running(9, 230)])
    (situation,) = of_type(found, RUNNING)
    assert situation.level == Level.RED
    assert situation.confidence == round(0.7 * (1 - 0.3**3), 4)
    assert "heading 350 deg" in situation.summary


def test_running_near_misses() -> None:
    fresh = engine
    # same direction (a train about to leave): 80..100 degrees
    assert of_type(feed(fresh(), [running(0, 80), running(3, 90), running(6, 100)]), RUNNING) == []
    # across the wrap-around 340..20 degrees is a 40 degree spread, not 320
    assert of_type(feed(fresh(), [running(0, 340), running(3, 0), running(6, 20)]), RUNNING) == []
    # wide spread but over two minutes
    assert (
        of_type(feed(fresh(), [running(0, 0), running(60, 120), running(120, 240)]), RUNNING) == []
    )
    # only two people
    assert of_type(feed(fresh(), [running(0, 0), running(5, 180)]), RUNNING) == []
    # no heading reported: cannot tell diverging from not
    no_heading = [det("video.running", at(seconds=s)) for s in (0, 3, 6)]
    assert of_type(feed(fresh(), no_heading), RUNNING) == []


SPOOF = "counter_contradicts_camera"


def test_counter_contradicting_the_camera(fusion: FusionEngine) -> None:
    events = [
        obs("counter-plaza-1", "occupancy_persons", 2, at(0)),
        obs("cam-plaza-1", "occupancy_persons", 420, at(1)),
    ]
    (situation,) = of_type(feed(fusion, events), SPOOF)
    assert (situation.level, situation.confidence) == (Level.AMBER, 0.6)
    assert "counter-plaza-1 occupancy_persons=2" in situation.summary
    # the counter catches up with reality: the contradiction is over at once
    (ended,) = fusion.step(obs("counter-plaza-1", "occupancy_persons", 400, at(2)), at(2))
    assert ended.level == Level.NORMAL and ended.summary.startswith("Ended: ")
    assert ended.started_at == situation.started_at


def test_counter_contradiction_near_misses() -> None:
    fresh = engine
    # the empty counter is at the cathedral, the full camera at the plaza
    events = [
        obs("counter-cathedral-1", "occupancy_persons", 0, at(0)),
        obs("cam-plaza-1", "occupancy_persons", 420, at(1)),
    ]
    assert of_type(feed(fresh(), events), SPOOF) == []
    # the readings are six minutes apart (they count for five)
    events = [
        obs("counter-plaza-1", "persons_count", 0, at(0)),
        obs("cam-plaza-1", "persons_count", 420, at(6)),
    ]
    assert of_type(feed(fresh(), events), SPOOF) == []
    # both agree the plaza is nearly empty
    events = [
        obs("counter-plaza-1", "occupancy_persons", 3, at(0)),
        obs("cam-plaza-1", "occupancy_persons", 4, at(1)),
    ]
    assert of_type(feed(fresh(), events), SPOOF) == []


TAMPER = "telemetry_tampering_in_crowd"


def test_inconsistent_telemetry_where_a_crowd_is(fusion: FusionEngine) -> None:
    events = [
        density(Level.AMBER, at(0)),
        det("cyber.telemetry_replayed_timestamp", at(2), level=Level.RED),
    ]
    (situation,) = of_type(feed(fusion, events), TAMPER)
    assert situation.level == Level.RED  # raised to the level of the tampering detection
    events = [density(Level.AMBER, at(0)), det("cyber.telemetry_inconsistent", at(2), "cathedral")]
    assert of_type(feed(engine(), events), TAMPER) == []


POWER = "power_loss_to_crowded_space"


def test_substation_down_while_served_spaces_are_crowded(fusion: FusionEngine) -> None:
    events = [
        density(Level.AMBER, at(0), "market"),
        density(Level.NORMAL, at(0), "plaza"),
        # reported where the substation stands: the station; it feeds the plaza and the market
        det("infra.asset_down", at(3), "station", Level.RED, 1.0, asset_id="sub-north"),
    ]
    (situation,) = of_type(feed(fusion, events), POWER)
    assert (situation.space_id, situation.jdl_level) == ("market", 3)
    assert "substation down: infra.asset_down (red) in station on sub-north" in situation.summary
    # the plaza fills up while the power is still off: it is now exposed too
    (plaza,) = fusion.step(density(Level.RED, at(10), "plaza"), at(10))
    assert (plaza.space_id, plaza.situation_type) == ("plaza", POWER)
    # power back: both situations end
    restored = det("infra.asset_up", at(40), "station", Level.NORMAL, asset_id="sub-north")
    ended = fusion.step(restored, at(40))
    assert sorted(s.space_id for s in ended) == ["market", "plaza"]
    assert all(s.level == Level.NORMAL for s in ended)


def test_power_loss_near_misses() -> None:
    fresh = engine
    # a telecom node serving the crowded plaza went down, not a substation
    crowd = density(Level.RED, at(0), "plaza")
    down = det("infra.asset_down", at(1), "station", Level.RED, asset_id="telecom-3")
    assert of_type(feed(fresh(), [crowd, down]), POWER) == []
    crowd = density(Level.RED, at(0), "market")
    # the substation that went down feeds the cathedral, not the market
    down = det("infra.asset_down", at(1), "station", Level.RED, asset_id="sub-south")
    assert of_type(feed(fresh(), [crowd, down]), POWER) == []
    # power was restored before the crowd built up
    events = [
        det("infra.asset_down", at(0), "station", Level.RED, asset_id="sub-north"),
        det("infra.asset_up", at(5), "station", Level.NORMAL, asset_id="sub-north"),
        density(Level.RED, at(10), "market"),
    ]
    assert of_type(feed(fresh(), events), POWER) == []
