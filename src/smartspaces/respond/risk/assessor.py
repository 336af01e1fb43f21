"""Risk per smart space and per infrastructure asset, cascading over the city's dependencies.

Pure: ``step(event, now)`` takes a detection or a situation and returns the RiskLevels it calls
for; ``tick(now)`` returns what time alone brings (a dependent going down when its supplier's
loss reaches it or its backup runs out, evidence fading). ``step`` first lets time move on to the
event's time, so the outcome does not depend on how often ``tick`` ran. Time only moves forward.

Infrastructure events are detections with ``attributes["asset_id"]``: ``infra.asset_down``
fails the asset at its ``observed_at``, ``infra.asset_up`` restores it. Asset RiskLevels carry
``asset_id`` and the asset's main space as ``space_id``; space RiskLevels have no ``asset_id``
and are the ones alerts are raised on.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime

from smartspaces.city import CityModel, load_city_model
from smartspaces.config.risk import RiskSettings
from smartspaces.events import Detection, Level, RiskLevel, Situation, SmartSpace
from smartspaces.respond.risk import scoring
from smartspaces.respond.risk.infra import AssetChange, Failure, InfraState
from smartspaces.respond.risk.space_risk import InfraView, SpaceBook

ASSET_SOURCE = "risk.asset"
ASSET_DOWN = "infra.asset_down"
ASSET_UP = "infra.asset_up"
_EPOCH = datetime.fromisoformat("1970-01-01T00:00:00+00:00")


class RiskAssessor:
    """Space and asset risk; ``city`` None: spaces from detections and situations only."""

    def __init__(
        self,
        spaces: Mapping[str, SmartSpace],
        city: CityModel | None = None,
        settings: RiskSettings | None = None,
    ) -> None:
        self.settings = settings or RiskSettings()
        self.city = city
        self._book = SpaceBook(spaces, self.settings)
        self._infra = InfraState(city) if city is not None else None
        self._clock = _EPOCH
        self._swept = _EPOCH

    @classmethod
    def from_settings(
        cls, settings: RiskSettings, spaces: Mapping[str, SmartSpace]
    ) -> RiskAssessor:
        """Load the configured city model (raises CityModelError if it is unusable)."""
        path = settings.city_model
        city = load_city_model(path, spaces.values()) if path is not None else None
        return cls(spaces, city, settings)

    def level(self, space_id: str) -> Level:
        """The space's current level (normal before anything was seen)."""
        return self._book.level(space_id)

    def space_risk(self, space_id: str) -> RiskLevel | None:
        """The space's latest published risk."""
        return self._book.published(space_id)

    def asset_state(self, asset_id: str) -> scoring.AssetState:
        return self._infra.state(asset_id) if self._infra else "up"

    def step(self, event: Detection | Situation, now: datetime) -> list[RiskLevel]:
        """The RiskLevels this event calls for (what came due before it first), in order."""
        at = event.observed_at
        found = self._advance(at, now)
        self._clock = max(self._clock, at)
        changes = self._apply(event)
        spaces = [event.space_id]
        for change in changes:
            found.extend(self._asset_risk(change, now, event))
            spaces.extend(self._spaces_of(change.asset_id))
        for space_id in dict.fromkeys(spaces):
            trigger = event if space_id == event.space_id else None
            risk = self._evaluate(space_id, at, now, trigger)
            if risk is not None:
                found.append(risk)
        return _last_per_id(found)

    def tick(self, now: datetime) -> list[RiskLevel]:
        """What the passing of time calls for by ``now``, in time order."""
        return _last_per_id(self._advance(now, now))

    def restore(self, events: Iterable[Detection | Situation]) -> None:
        """Start from events an earlier run stored (the latest of each kind per space): the
        state is rebuilt without publishing what was published then."""
        ordered = sorted(events, key=lambda e: e.observed_at)
        for event in ordered:
            self._clock = max(self._clock, event.observed_at)
            self._apply(event)  # what it hands out now was handed out then
        if self._infra is not None:
            self._infra.settle(self._clock)
        for space_id in dict.fromkeys(e.space_id for e in ordered):
            self._evaluate(space_id, self._clock, self._clock, None, publish=False)
        self._swept = self._clock

    def _apply(self, event: Detection | Situation) -> list[AssetChange]:
        infra = self._infra
        raw = event.attributes.get("asset_id") if isinstance(event, Detection) else None
        kind = event.detection_type if isinstance(event, Detection) else ""
        asset_id = str(raw) if raw is not None else ""
        if (
            infra is None
            or kind not in (ASSET_DOWN, ASSET_UP)
            or asset_id not in infra.model.assets
        ):
            self._book.observe(event)  # an asset the model does not know: plain evidence
            return []
        key = f"asset:{asset_id}"
        if kind == ASSET_DOWN:
            self._book.observe(event, key)  # the outage stands as evidence until it is up
            failure = Failure(event.observed_at, event.id, event.space_id)
            return infra.fail(asset_id, failure, self._clock)
        held = infra.failure(asset_id)
        self._book.forget(held.space_id if held else event.space_id, key)
        return infra.restore(asset_id, event.observed_at, self._clock)

    def _advance(self, until: datetime, now: datetime) -> list[RiskLevel]:
        found: list[RiskLevel] = []
        infra = self._infra
        # one instant at a time, so each space is judged with what stood at that instant
        while infra is not None and (due := infra.next_due()) is not None and due <= until:
            spaces: list[str] = []
            for change in infra.advance(due):
                found.extend(self._asset_risk(change, now, None))
                spaces.extend(self._spaces_of(change.asset_id))
            for space_id in dict.fromkeys(spaces):
                risk = self._evaluate(space_id, due, now, None)
                if risk is not None:
                    found.append(risk)
        self._clock = max(self._clock, until)
        # Fading evidence changes the risk slowly: a look every tenth of a half-life is enough.
        if (self._clock - self._swept).total_seconds() >= self.settings.half_life_s / 10:
            self._swept = self._clock
            for space_id in self._book.fading():
                risk = self._evaluate(space_id, self._clock, now, None)
                if risk is not None:
                    found.append(risk)
        return found

    def _spaces_of(self, asset_id: str) -> tuple[str, ...]:
        return self._infra.model.assets[asset_id].serves if self._infra else ()

    def _evaluate(
        self,
        space_id: str,
        at: datetime,
        now: datetime,
        trigger: Detection | Situation | None,
        publish: bool = True,
    ) -> RiskLevel | None:
        return self._book.evaluate(
            space_id, at, now, self._infra_view(space_id), trigger, publish=publish
        )

    def _infra_view(self, space_id: str) -> InfraView:
        infra = self._infra
        if infra is None:
            return InfraView()
        weights: list[float] = []
        reasons: list[str] = []
        causes: list[str] = []
        states: list[tuple[str, str]] = []
        for asset_id in infra.model.serving(space_id):
            state = infra.state(asset_id)
            if state == "up":
                continue
            asset = infra.model.assets[asset_id]
            weights.append(scoring.asset_weight(asset.criticality, state, self.settings))
            states.append((asset_id, state))
            outlook = infra.outlook(asset_id)
            why = outlook.why(state) if outlook else state
            reasons.append(f"{asset.name}, which serves it, is {state}: {why}.")
            failure = infra.failure(asset_id)
            if failure is not None:
                causes.append(failure.event_id)
        return InfraView(scoring.combine(weights), tuple(reasons), tuple(causes), tuple(states))

    def _asset_risk(
        self, change: AssetChange, now: datetime, event: Detection | Situation | None
    ) -> list[RiskLevel]:
        """The asset's RiskLevel for this change (none if no space can be named for it)."""
        model = self.city
        if model is None:
            return []
        asset = model.assets[change.asset_id]
        weight = round(scoring.asset_weight(asset.criticality, change.state, self.settings), 2)
        # its main space; for a model built without spaces, the space the report came from
        space_id = (
            model.main_space.get(change.asset_id)
            or (change.cause.space_id if change.cause else None)
            or (event.space_id if event else None)
        )
        if space_id is None:
            return []
        cause = change.cause.event_id if change.cause else (event.id if event else None)
        kind = asset.kind.replace("_", " ")
        return [
            RiskLevel(
                source=ASSET_SOURCE,
                space_id=space_id,
                observed_at=change.at,
                received_at=now,
                location=asset.location,
                derived_from=(cause,) if cause else (),
                level=scoring.asset_level(change.state, asset.criticality),
                score=weight,
                grade=scoring.grade(weight, self.settings),
                asset_id=change.asset_id,
                reasons=(f"{asset.name} ({kind}) is {change.state}: {change.why}.",),
            )
        ]


def _last_per_id(found: list[RiskLevel]) -> list[RiskLevel]:
    # Two changes of one space or asset at one instant and level share an id (ids come from
    # what identifies an event): the later one stands, the earlier would be dropped as a
    # duplicate downstream anyway.
    last = {risk.id: i for i, risk in enumerate(found)}
    return [risk for i, risk in enumerate(found) if last[risk.id] == i]
