"""Product areas of stored briefs (escalation.product_area): what `/escalate search area:…` lists
and which spellings a workspace's briefs use."""

from __future__ import annotations

from sqlmodel import Session, select

from bot.storage.models import Escalation


def areas_in_use(session: Session, team_id: str) -> list[str]:
    """The distinct product areas this workspace's briefs were filed under (an area an admin has since
    removed from ESCALATION_PRODUCT_AREAS is still found)."""
    query = select(Escalation.product_area).where(Escalation.team_id == team_id, Escalation.product_area.is_not(None)).distinct()
    return sorted(a for a in session.exec(query) if a)


def recent_in_area(session: Session, team_id: str, area: str, *, limit: int = 20) -> list[int]:
    """The newest briefs of one product area, newest first (ids)."""
    query = (
        select(Escalation.id)
        .where(Escalation.team_id == team_id, Escalation.product_area == area)
        .order_by(Escalation.created_at.desc(), Escalation.id.desc())
        .limit(limit)
    )
    return list(session.exec(query))
