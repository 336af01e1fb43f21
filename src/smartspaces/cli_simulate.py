"""``smartspaces simulate``: pedestrian what-ifs on the real València spaces (JuPedSim).

- ``exits``: a space's exits, where its boundary meets the neighbouring spaces;
- ``egress``: the time to empty a space of N people, all exits open and with some blocked
  (results are kept in DATA_DIR/simulation/egress.jsonl for evacuation support);
- ``buildup``: a space filling through its exits, written as a per-second occupancy table or
  as the people-counter observations ``smartspaces replay`` plays through the pipeline;
- ``advise``: evacuation advice for an occupancy and a hazard (exits ranked, egress time).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from smartspaces.cli_options import ConfigOption
from smartspaces.config import Settings, load_settings
from smartspaces.errors import SmartspacesError

if TYPE_CHECKING:
    from smartspaces.simulation.space import SimSpace

simulate = typer.Typer(
    help="Pedestrian simulation (JuPedSim) of the smart spaces: egress and build-up what-ifs.",
    no_args_is_help=True,
)
console = Console(stderr=True)
out = Console()

SpaceOption = Annotated[
    str, typer.Option("--space", help="Smart space id, e.g. plaza-ayuntamiento")
]


@contextmanager
def _bar(label: str) -> Iterator[Callable[[float], None]]:
    """A rich progress bar; yields the callback the runs report their share done to."""
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.percentage:>3.0f}%"),
    )
    with Progress(*columns, TimeElapsedColumn(), console=console, transient=True) as progress:
        task = progress.add_task(label, total=1.0)
        yield lambda share: progress.update(task, completed=share)


def _space(
    settings: Settings, space_id: str, near_exit: str | None = None, depth_m: float = 6.0
) -> SimSpace:
    from smartspaces.scenarios.valencia.scenario import load_layout
    from smartspaces.simulation.space import from_layout, near

    layout, _ = load_layout(settings.scenario)
    space = from_layout(layout, space_id)
    return near(space, near_exit, depth_m) if near_exit else space


def _fail(error: SmartspacesError) -> typer.Exit:
    console.print(f"[red]{error}[/red]")
    return typer.Exit(1)


@simulate.command()
def exits(space: SpaceOption, config: ConfigOption = None) -> None:
    """List a space's exits: where its boundary meets the neighbouring spaces."""
    try:
        sim_space = _space(load_settings(config), space)
    except SmartspacesError as error:
        raise _fail(error) from error
    out.print(f"{sim_space.space.name} ({sim_space.area_m2:,.0f} m2)")
    for item in sim_space.exits:
        out.print(f"  {item.id:<32} {item.width_m:5.1f} m  {item.name}")


@simulate.command()
def egress(
    space: SpaceOption,
    persons: Annotated[int, typer.Option(min=1, max=200_000, help="People in the space")],
    block: Annotated[
        list[str] | None, typer.Option(help="An exit to block (repeat for several)")
    ] = None,
    save: Annotated[bool, typer.Option(help="Keep the results for evacuation support")] = True,
    json_lines: Annotated[bool, typer.Option("--json", help="Results as JSON lines")] = False,
    config: ConfigOption = None,
) -> None:
    """Time to empty a space: with every exit open, then with the --block exits closed."""
    from smartspaces.respond.evacuation.egress import EvacuationExit, flow_capacity_egress_s
    from smartspaces.simulation.egress import run_egress

    settings = load_settings(config)
    try:
        sim_space = _space(settings, space)
        cases = [()] + ([tuple(block)] if block else [])
        results = []
        for blocked in cases:
            label = "all exits open" if not blocked else f"{', '.join(blocked)} blocked"
            with _bar(f"egress, {label}") as progress:
                results.append(
                    run_egress(sim_space, persons, settings.simulation, blocked, progress)
                )
    except SmartspacesError as error:
        raise _fail(error) from error
    if save:
        path = settings.simulation.results_path(settings.store.data_dir)
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a", encoding="utf-8") as handle:
            handle.writelines(r.to_json() + "\n" for r in results)
    if json_lines:
        for result in results:
            print(result.to_json())
        return
    door = [EvacuationExit(e.id, e.name, e.edge) for e in sim_space.exits]
    width = sum(e.width_m for e in sim_space.exits)
    out.print(f"{sim_space.space.name}: {persons} persons, {len(door)} exits ({width:.1f} m)")
    for result in results:
        label = "all exits open" if not result.blocked else f"{', '.join(result.blocked)} blocked"
        bound = flow_capacity_egress_s(
            persons, door, settings.simulation.exit_flow_p_m_s, result.blocked
        )
        time = (
            f"{result.egress_s:.1f} s ({result.egress_s / 60:.1f} min)"
            if result.completed
            else f"not empty after {settings.simulation.max_simulated_s:.0f} s "
            f"({result.persons - result.evacuated} left)"
        )
        out.print(f"  {label}: {time}; flow-capacity bound {bound:.1f} s")


@simulate.command()
def buildup(
    space: SpaceOption,
    output: Annotated[Path, typer.Option("--out", help="File to write")],
    peak_density: Annotated[float, typer.Option(help="Persons/m2 the plan fills to")] = 5.0,
    ramp_s: Annotated[float, typer.Option(help="Seconds from empty to the peak")] = 900.0,
    hold_s: Annotated[float, typer.Option(help="Seconds held at the peak")] = 0.0,
    turnover: Annotated[float, typer.Option(help="Share leaving (and replaced) per min")] = 0.0,
    near_exit: Annotated[
        str | None, typer.Option("--near", help="Simulate only the part near this exit")
    ] = None,
    depth_m: Annotated[float, typer.Option(help="Depth of the --near part (m)")] = 6.0,
    file_format: Annotated[
        str, typer.Option("--format", help="csv (occupancy per second) or jsonl (observations)")
    ] = "csv",
    start: Annotated[
        str | None, typer.Option(help="ISO time of the first second (jsonl); default the demo's")
    ] = None,
    config: ConfigOption = None,
) -> None:
    """Fill a space through its exits and write the per-second occupancy or the observations."""
    from smartspaces.edge.observations import wire_item
    from smartspaces.scenarios.valencia.script import Mascleta
    from smartspaces.simulation.buildup import ArrivalPlan, run_buildup

    if file_format not in ("csv", "jsonl"):
        raise typer.BadParameter("--format is csv or jsonl")
    try:
        begin = datetime.fromisoformat(start) if start else Mascleta().start
    except ValueError as error:
        raise typer.BadParameter("--start must be an ISO time with its offset") from error
    if begin.tzinfo is None:
        raise typer.BadParameter("--start must carry its UTC offset")
    settings = load_settings(config)
    try:
        sim_space = _space(settings, space, near_exit, depth_m)
        plan = ArrivalPlan(peak_density, ramp_s, hold_s, turnover)
        with _bar(f"build-up of {sim_space.space.id}") as progress:
            result = run_buildup(sim_space, plan, settings.simulation, progress)
    except SmartspacesError as error:
        raise _fail(error) from error
    if file_format == "csv":
        output.write_text(result.occupancy_csv(), encoding="utf-8")
    else:
        observations = result.observations(begin, settings.simulation.counter_interval_s)
        lines = [json.dumps(wire_item(o)) for o in observations]
        output.write_text("\n".join(lines) + "\n", encoding="utf-8")
    peak = max(result.density(), default=0.0)
    console.print(
        f"wrote {output}: {len(result.occupancy)} s of {sim_space.space.id} "
        f"({sim_space.area_m2:.0f} m2), peak {peak:.2f} persons/m2"
    )


@simulate.command()
def advise(
    space: SpaceOption,
    persons: Annotated[float, typer.Option(min=0, help="People in the space now")],
    hazard: Annotated[str | None, typer.Option(help="Hazard position as lon,lat (WGS84)")] = None,
    hazard_radius_m: Annotated[float, typer.Option(help="Radius of the hazard area")] = 0.0,
    clearance_m: Annotated[float, typer.Option(help="Exits this close are avoided")] = 25.0,
    config: ConfigOption = None,
) -> None:
    """Evacuation advice: exits ranked around the hazard and the egress time through them."""
    from shapely.geometry import Point

    from smartspaces.respond.evacuation.advice import advise as evacuation_advice
    from smartspaces.respond.evacuation.egress import EvacuationExit, SimulatedEgress
    from smartspaces.scenarios.valencia.geometry import to_metric
    from smartspaces.simulation.results import read_egress_results

    settings = load_settings(config)
    place = None
    if hazard:
        try:
            lon, lat = (float(v) for v in hazard.split(","))
        except ValueError as error:
            raise typer.BadParameter("--hazard is lon,lat, e.g. -0.3764,39.4702") from error
        place = to_metric(Point(lon, lat))
        place = place.buffer(hazard_radius_m) if hazard_radius_m > 0 else place
    try:
        sim_space = _space(settings, space)
        path = settings.simulation.results_path(settings.store.data_dir)
        stored = read_egress_results(path.read_text("utf-8")) if path.is_file() else []
        runs = [
            SimulatedEgress(r.persons, frozenset(r.blocked), r.egress_s)
            for r in stored
            if r.space_id == sim_space.space.id and r.completed
        ]
        door = [EvacuationExit(e.id, e.name, e.edge) for e in sim_space.exits]
        advice = evacuation_advice(
            space, persons, door, place, runs, clearance_m, settings.simulation.exit_flow_p_m_s
        )
    except (SmartspacesError, ValueError) as error:
        console.print(f"[red]{error}[/red]")
        raise typer.Exit(1) from error
    for line in advice.lines():
        out.print(line)
