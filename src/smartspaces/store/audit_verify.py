"""Verification of the audit chain: every problem found, with the ids of the records concerned.

What each kind of tampering looks like from inside the chain:

- ``edited``: a record whose stored fields no longer give its stored hash (changed in place), or a
  link broken between two consecutive ids (a record rewritten together with its hash);
- ``deleted``: a link broken across a gap in the ids (records in between removed; a gap alone is
  no problem: PostgreSQL skips the id of a rolled-back insert);
- ``reordered``: a record that links to a record stored somewhere else in the log;
- ``truncated``: fewer records and another head than the anchor recorded;
- ``anchor``: the anchor is missing or disagrees with an otherwise intact chain;
- ``witness``: a head noted earlier (outside the database) is no longer in the chain.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal, NamedTuple

from sqlalchemy import select
from sqlalchemy.orm import Session

from smartspaces.store.audit import GENESIS, AuditAnchorRow, row_hash
from smartspaces.store.tables import AuditRow

if TYPE_CHECKING:
    from smartspaces.store.database import Store

ProblemKind = Literal["edited", "deleted", "reordered", "truncated", "anchor", "witness"]
_WITNESS = re.compile(r"^(\d{1,12}):([0-9a-f]{64})$")


class Witness(NamedTuple):
    """A head noted earlier: its position in the chain (1 = first record ever) and its hash."""

    position: int
    hash: str

    @classmethod
    def parse(cls, text: str) -> Witness:
        """``POSITION:HASH`` as ``verify`` prints it; ``ValueError`` otherwise."""
        match = _WITNESS.match(text.strip().lower())
        if match is None:
            raise ValueError("a witness is POSITION:HASH (64 hex digits), as `verify` prints it")
        return cls(int(match.group(1)), match.group(2))

    def __str__(self) -> str:
        return f"{self.position}:{self.hash}"


@dataclass(frozen=True, slots=True)
class AuditProblem:
    """One thing wrong with the log; ``record_id`` is the record where it shows."""

    kind: ProblemKind
    record_id: int | None
    message: str


@dataclass(frozen=True)
class AuditReport:
    """The result of one walk over the whole chain."""

    checked: int  # records read
    first_id: int | None
    last_id: int | None
    head: Witness  # the last stored record (the checkpoint if none is stored)
    appended: int | None  # records ever appended, as the anchor says (None: no anchor)
    pruned: int  # records removed by retention, as the anchor says
    problems: tuple[AuditProblem, ...]
    omitted: int = 0  # problems found beyond the ones listed
    notes: tuple[str, ...] = field(default=())

    @property
    def ok(self) -> bool:
        return not self.problems


@dataclass
class _Walk:
    expected: str
    previous_id: int
    position: int
    first_id: int | None = None
    last_id: int | None = None
    checked: int = 0
    witness_position: int | None = None
    breaks: list[tuple[int, int, bool, str]] = field(default_factory=list)
    problems: list[AuditProblem] = field(default_factory=list)
    omitted: int = 0

    def add(self, kind: ProblemKind, record_id: int | None, message: str, limit: int) -> None:
        if len(self.problems) < limit:
            self.problems.append(AuditProblem(kind, record_id, message))
        else:
            self.omitted += 1


def verify(store: Store, witness: Witness | None = None, max_problems: int = 1000) -> AuditReport:
    """Walk the chain oldest first and report every problem (at most ``max_problems`` listed).

    Reads only; streams the rows, so the log's size bounds time, not memory."""
    with Session(store.engine) as session:
        anchor = session.get(AuditAnchorRow, 1)
        walk = _Walk(
            expected=anchor.checkpoint_hash if anchor else GENESIS,
            previous_id=anchor.checkpoint_id if anchor else 0,
            position=anchor.pruned if anchor else 0,
        )
        query = select(AuditRow).order_by(AuditRow.id).execution_options(yield_per=1000)
        for row in session.scalars(query):
            walk.checked += 1
            walk.position += 1
            if walk.first_id is None:
                walk.first_id = row.id
            if row_hash(row) != row.hash:
                message = f"record {row.id} was edited: its fields do not give its hash"
                walk.add("edited", row.id, message, max_problems)
            if row.prev_hash != walk.expected and len(walk.breaks) < max_problems:
                walk.breaks.append((row.id, walk.previous_id, walk.last_id is None, row.prev_hash))
            if witness is not None and row.hash == witness.hash:
                walk.witness_position = walk.position
            walk.expected, walk.previous_id, walk.last_id = row.hash, row.id, row.id
        start = anchor.checkpoint_hash if anchor else GENESIS
        for record_id, previous_id, first, prev_hash in walk.breaks:
            kind, message = _explain(session, record_id, previous_id, first, prev_hash, start)
            walk.add(kind, record_id, message, max_problems)
        _check_anchor(session, walk, anchor, max_problems)
    notes = _check_witness(walk, anchor, witness, max_problems)
    # by record, the ones about the whole log last
    ordered = sorted(walk.problems, key=lambda p: (p.record_id is None, p.record_id or 0, p.kind))
    return AuditReport(
        checked=walk.checked,
        first_id=walk.first_id,
        last_id=walk.last_id,
        head=Witness(walk.position, walk.expected),
        appended=anchor.appended if anchor else None,
        pruned=anchor.pruned if anchor else 0,
        problems=tuple(ordered),
        omitted=walk.omitted,
        notes=notes,
    )


def _explain(
    session: Session, record_id: int, previous_id: int, first: bool, prev_hash: str, start: str
) -> tuple[ProblemKind, str]:
    source = _holder(session, prev_hash)
    after = "the start of the chain" if first else f"record {previous_id}"
    if source is not None or (prev_hash == start and not first):
        links = f"record {source}" if source is not None else "the start of the chain"
        return (
            "reordered",
            f"record {record_id} is out of order: it follows {after} but links to {links}",
        )
    if record_id - previous_id > 1 and first:
        return "deleted", (
            f"records before id {record_id} were deleted: it does not link to the start of the "
            "chain (the checkpoint)"
        )
    if record_id - previous_id > 1:
        return "deleted", (
            f"chain link broken after record {previous_id}: records between id {previous_id} "
            f"and id {record_id} were deleted"
        )
    if first:
        return "edited", f"record {record_id} does not link to the start of the chain (checkpoint)"
    return "edited", (
        f"chain link broken between records {previous_id} and {record_id}: record "
        f"{previous_id} was rewritten with a new hash, or record {record_id}'s link was changed"
    )


def _holder(session: Session, digest: str) -> int | None:
    return session.scalar(select(AuditRow.id).where(AuditRow.hash == digest))


def _check_anchor(session: Session, walk: _Walk, anchor: AuditAnchorRow | None, limit: int) -> None:
    if anchor is None:
        walk.add(
            "anchor", None, "the anchor is missing: a truncated end cannot be ruled out", limit
        )
        return
    end = f"record {walk.last_id}" if walk.last_id is not None else "no record"
    if walk.expected != anchor.head_hash:
        holder = _holder(session, anchor.head_hash)
        if holder is not None:  # the head is there, not at the end: the links already show it
            if not any(p.kind == "reordered" for p in walk.problems):
                message = f"the anchored head is record {holder}, but the log ends at {end}"
                walk.add("reordered", holder, message, limit)
        elif walk.position < anchor.appended:
            missing = anchor.appended - walk.position
            walk.add(
                "truncated",
                walk.last_id,
                f"the end of the log is missing: it stops at {end} (number {walk.position}) but "
                f"the anchor's head is number {anchor.appended} ({anchor.head_hash[:16]}...); "
                f"{missing} record(s) fewer than anchored in all",
                limit,
            )
        else:
            walk.add(
                "anchor",
                walk.last_id,
                f"the log ends at {end}, not at the anchored head ({anchor.head_hash[:16]}...): "
                "its end was replaced, or the anchor was changed",
                limit,
            )
    elif walk.position != anchor.appended and not any(p.kind == "deleted" for p in walk.problems):
        walk.add(
            "anchor",
            walk.last_id,
            f"the anchor counts {anchor.appended} records, the chain holds {walk.position}",
            limit,
        )


def _check_witness(
    walk: _Walk, anchor: AuditAnchorRow | None, witness: Witness | None, limit: int
) -> tuple[str, ...]:
    if witness is None:
        return ()
    if walk.witness_position == witness.position:
        return (f"witness {witness.position}:{witness.hash[:16]}... found in place",)
    if walk.witness_position is not None:
        walk.add(
            "witness",
            None,
            f"the witnessed record is number {walk.witness_position} in the chain, not "
            f"{witness.position}: records before it were added or removed",
            limit,
        )
        return ()
    if anchor is not None and witness == Witness(anchor.pruned, anchor.checkpoint_hash):
        return ("the witness is the checkpoint of the pruned records: it matches",)
    if anchor is not None and witness.position < anchor.pruned:
        return ("the witnessed record was pruned by retention: it cannot be checked any more",)
    walk.add(
        "witness",
        None,
        f"the witnessed record {witness.position}:{witness.hash[:16]}... is not in the chain: "
        "the log was rewritten since it was noted",
        limit,
    )
    return ()
