"""Asset map: network address -> device -> infrastructure asset -> the smart spaces it serves."""

from __future__ import annotations

import ipaddress
import json
from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from smartspaces.detect.cyber.errors import AssetMapError
from smartspaces.events import Identifier, SpaceId

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
_CACHE_LIMIT = 65_536  # resolved addresses remembered; a scan of a /16 must not grow it forever
MAX_FILE_BYTES = 10_000_000


class _Entry(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Segment(_Entry):
    """A subnet (the camera VLAN, the SCADA LAN) and the spaces it serves as a whole."""

    id: Identifier
    network: str = Field(description="CIDR, e.g. 10.0.2.0/24")
    protected: bool = Field(default=False, description="Unknown devices here are detections")
    spaces: tuple[SpaceId, ...] = ()


class Device(_Entry):
    """One known device, by address, and the asset it belongs to."""

    id: Identifier
    address: str
    asset_id: Identifier | None = None
    mac: str | None = None


class Asset(_Entry):
    """Infrastructure (a CCTV system, a people-counting gateway) and the spaces it serves."""

    id: Identifier
    name: str = Field(default="", max_length=200)
    spaces: tuple[SpaceId, ...] = ()


class AssetMapFile(_Entry):
    """The asset map file's content (JSON)."""

    default_space_id: SpaceId = "city-network"
    segments: tuple[Segment, ...] = ()
    devices: tuple[Device, ...] = ()
    assets: tuple[Asset, ...] = ()

    @model_validator(mode="after")
    def _consistent(self) -> AssetMapFile:
        assets = {a.id for a in self.assets}
        for device in self.devices:
            if device.asset_id is not None and device.asset_id not in assets:
                raise ValueError(f"device {device.id} names unknown asset {device.asset_id}")
            ipaddress.ip_address(device.address)
        for segment in self.segments:
            ipaddress.ip_network(segment.network, strict=False)
        return self


@dataclass(frozen=True, slots=True)
class Placement:
    """Where an address sits: which device, asset and segment, and the spaces they serve."""

    address: str
    spaces: tuple[str, ...]
    device_id: str | None = None
    asset_id: str | None = None
    segment_id: str | None = None
    protected: bool = False

    @property
    def known(self) -> bool:
        return self.device_id is not None

    def describe(self) -> str:
        """The address with what it is, for detection summaries."""
        parts = [p for p in (self.device_id, self.asset_id) if p]
        return f"{self.address} ({', '.join(parts)})" if parts else self.address


class AssetMap:
    """Resolves addresses to placements (longest matching segment; exact device address)."""

    def __init__(self, content: AssetMapFile | None = None) -> None:
        content = content or AssetMapFile()
        self.default_space_id = content.default_space_id
        assets = {a.id: a for a in content.assets}
        self._devices = {str(ipaddress.ip_address(d.address)): d for d in content.devices}
        self._device_assets = {d.id: d.asset_id for d in content.devices}
        self._asset_spaces = {d_id: a.spaces for d_id, a in assets.items()}
        # most specific first, so the first match is the longest prefix
        self._segments: list[tuple[IPNetwork, Segment]] = sorted(
            ((ipaddress.ip_network(s.network, strict=False), s) for s in content.segments),
            key=lambda pair: -pair[0].prefixlen,
        )
        self._cache: dict[str, Placement] = {}

    def locate(self, address: str) -> Placement:
        placement = self._cache.get(address)
        if placement is None:
            if len(self._cache) >= _CACHE_LIMIT:
                self._cache.clear()
            placement = self._cache[address] = self._resolve(address)
        return placement

    def _resolve(self, address: str) -> Placement:
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return Placement(address, ())
        segment = next((s for net, s in self._segments if ip in net), None)
        device = self._devices.get(str(ip))
        spaces: tuple[str, ...] = ()
        if device is not None and device.asset_id is not None:
            spaces = self._asset_spaces[device.asset_id]
        if not spaces and segment is not None:
            spaces = segment.spaces
        return Placement(
            address=address,
            spaces=spaces,
            device_id=device.id if device else None,
            asset_id=device.asset_id if device else None,
            segment_id=segment.id if segment else None,
            protected=segment.protected if segment else False,
        )

    def expected_mac(self, address: str) -> str | None:
        """The MAC address the map lists for a device address, lower case (None if unlisted)."""
        device = self._devices.get(address)
        return device.mac.lower() if device is not None and device.mac else None

    def asset_of_device(self, device_id: str) -> str | None:
        """The asset a device (a sensor sending telemetry, by its id) belongs to, if mapped."""
        return self._device_assets.get(device_id)

    def is_internal(self, address: str) -> bool:
        """Whether the address is in a mapped segment or is a mapped device."""
        placement = self._cache.get(address) or self.locate(address)
        return placement.segment_id is not None or placement.device_id is not None


def load_asset_map(path: Path) -> AssetMap:
    """Read an asset map JSON file; errors name the file and the problem."""
    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            raise AssetMapError(f"asset map {path} is larger than {MAX_FILE_BYTES} bytes")
        content = AssetMapFile.model_validate_json(path.read_bytes())
    except OSError as error:
        raise AssetMapError(f"cannot read asset map {path}: {error.strerror}") from error
    except ValidationError as error:
        raise AssetMapError(f"invalid asset map {path}: {error}") from error
    return AssetMap(content)


def asset_map_from_dict(data: object) -> AssetMap:
    """Build an asset map from already-parsed JSON (tests, the scenario)."""
    try:
        return AssetMap(AssetMapFile.model_validate_json(json.dumps(data)))
    except ValidationError as error:
        raise AssetMapError(f"invalid asset map: {error}") from error
