"""Pattern links: which briefs people confirmed (or rejected) as the same problem, and the automatic
links matching found, with their score (bot.domain.patterns has the rules; this is the SQL)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import and_, bindparam, or_, select, union_all, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from bot.domain.patterns import Link, LinkKind, pair
from bot.storage.models import Escalation, PatternLink
from bot.storage.types import UTCDateTime

BOT_ACTOR = "bot"


def _link(row: Any) -> Link:
    return Link(row.low_id, row.high_id, LinkKind(row.kind), row.score)


# Built once: a brief's filing runs these inside its write transaction, where building a statement
# (SQLAlchemy's coercions) cost more than running it.
_LINK_COLUMNS = (PatternLink.low_id, PatternLink.high_id, PatternLink.kind, PatternLink.score)
_GET = select(*_LINK_COLUMNS).where(PatternLink.low_id == bindparam("low"), PatternLink.high_id == bindparam("high"))
_CONFIRMED = PatternLink.kind == LinkKind.CONFIRMED.value
_TRUSTED = or_(_CONFIRMED, and_(PatternLink.kind == LinkKind.AUTOMATIC.value, PatternLink.score >= bindparam("auto")))
_ENDS_IN = or_(PatternLink.low_id.in_(bindparam("ids", expanding=True)), PatternLink.high_id.in_(bindparam("ids", expanding=True)))
_TOUCHING = {automatic: select(*_LINK_COLUMNS).where(_ENDS_IN, _TRUSTED if automatic else _CONFIRMED) for automatic in (False, True)}
_INSERT = PatternLink.__table__.insert()


def get(session: Session, a: int, b: int) -> Link | None:
    low, high = pair(a, b)
    row = session.execute(_GET, {"low": low, "high": high}).first()
    return _link(row) if row is not None else None


def add_automatic(session: Session, escalation_id: int, matches: Iterable[tuple[int, float]], *, at: datetime, fresh: bool = False) -> int:
    """Store matching's links of a brief (other id, score); a pair already known (a person's decision,
    or an earlier automatic link) is left as it is. `fresh`: the brief was just stored, so no pair of
    it can be known yet (one query fewer). The number stored."""
    scores = {other: float(score) for other, score in matches if other != escalation_id}
    if not scores:
        return 0
    known: set[tuple[int, int]] = set()
    if not fresh:
        known = {(r.low_id, r.high_id) for r in touching_rows(session, {escalation_id}, kinds=None)}
    rows = [
        {"low_id": low, "high_id": high, "kind": LinkKind.AUTOMATIC.value, "score": score, "actor": BOT_ACTOR, "at": at}
        for other, score in scores.items()
        for low, high in [pair(escalation_id, other)]
        if (low, high) not in known
    ]
    if rows:
        session.execute(_INSERT, rows)
    return len(rows)


def touching_rows(session: Session, ids: set[int], *, kinds: tuple[str, ...] | None) -> list[Any]:
    """Every link with an end in `ids` (`kinds`: only those kinds)."""
    query = select(*_LINK_COLUMNS).where(or_(PatternLink.low_id.in_(ids), PatternLink.high_id.in_(ids)))
    if kinds is not None:
        query = query.where(PatternLink.kind.in_(kinds))
    return list(session.execute(query).all())


def decide(session: Session, a: int, b: int, kind: LinkKind, *, actor: str, at: datetime) -> Link | None:
    """A person's decision on a pair (confirmed or rejected): replaces whatever was known; the score
    matching gave is kept. Returns the link as it was before (None: none)."""
    low, high = pair(a, b)
    before = get(session, low, high)
    values = {"kind": kind.value, "actor": actor, "at": at}
    if before is not None:
        session.execute(update(PatternLink).where(PatternLink.low_id == low, PatternLink.high_id == high).values(**values))
        return before
    try:
        with session.begin_nested():  # two people deciding the same new pair at once: the second updates
            session.execute(_INSERT, [{"low_id": low, "high_id": high, "score": None, **values}])
    except IntegrityError:
        before = get(session, low, high)
        session.execute(update(PatternLink).where(PatternLink.low_id == low, PatternLink.high_id == high).values(**values))
    return before


def touching(session: Session, ids: set[int], *, auto_score: float | None) -> list[Link]:
    """The confirmed links with an end in `ids`, and the automatic ones scoring at least `auto_score`
    (None: confirmed only)."""
    if not ids:
        return []
    return [_link(r) for r in session.execute(_TOUCHING[auto_score is not None], {"ids": list(ids), "auto": auto_score}).all()]


_NAMES = Escalation.brief[("impact", "affected_names")].as_string().label("affected_names")
_CANDIDATE_COLUMNS = (
    Escalation.id,
    Escalation.number,
    Escalation.summary,
    Escalation.status,
    Escalation.created_at,
    Escalation.channel_id,
    Escalation.message_ts,
    Escalation.destination,
    Escalation.agent_user_id,
    Escalation.receiving_owner_id,
    PatternLink.score,
    _NAMES,
)
_UNDECIDED = union_all(
    *(
        select(*_CANDIDATE_COLUMNS)
        .join(PatternLink, other == Escalation.id)
        .where(
            own == bindparam("id"),
            PatternLink.kind == LinkKind.AUTOMATIC.value,
            PatternLink.score >= bindparam("min_score"),
            Escalation.created_at >= bindparam("since", type_=UTCDateTime()),
            Escalation.created_at <= bindparam("before", type_=UTCDateTime()),
        )
        for own, other in ((PatternLink.low_id, PatternLink.high_id), (PatternLink.high_id, PatternLink.low_id))
    )
)
_FILED = select(Escalation.id, Escalation.created_at, _NAMES).where(Escalation.id == bindparam("id"))


def filed(session: Session, escalation_id: int) -> Any | None:
    """(id, created_at, affected_names) of a brief: what its suggestions are chosen by."""
    return session.execute(_FILED, {"id": escalation_id}).first()


def undecided(session: Session, escalation_id: int, *, min_score: float, since: datetime, before: datetime, limit: int) -> list[Any]:
    """The briefs matching linked automatically to this one, created in [since, before], scoring at
    least `min_score`, best first: the candidates for "possibly the same problem" (nobody decided yet)."""
    params = {"id": escalation_id, "min_score": min_score, "since": since, "before": before}
    rows = session.execute(_UNDECIDED, params).all()
    return sorted(rows, key=lambda r: (-(r.score or 0.0), -r.id))[:limit]
