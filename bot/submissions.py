"""What follows an accepted brief submission: store, post, and show the result in the agent's modal.

Synchronous, so the same code runs on a worker thread of the serving process (tests, Socket Mode,
`ESCALATION_BRIEF_PROCESSES=0`) and in a brief worker process (bot.brief_worker). Idempotent by the
modal's view id: a job handed over twice (a worker died mid-way) stores and posts one brief.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from blocks.brief_modal import ModalContext, brief_modal, draft_from_state, initial_from_state
from blocks.notices import not_delivered_view, posted_view
from bot.domain.brief import Brief
from bot.domain.routing import Tier

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class BriefJob:
    """A validated submission, as the ack left it (picklable: it may cross to a worker process)."""

    team_id: str | None
    user_id: str | None
    view_id: str  # the modal: where the result is shown, and the brief's submission key
    brief: Brief
    context: ModalContext
    values: dict  # the modal's state, to give everything back if storing fails
    tier: Tier


def file_brief(services, job: BriefJob) -> None:
    """Store and post the brief, then replace the modal's "saving" view with the outcome."""
    gateway = services.escalations.gateway
    try:
        delivery = services.escalations.escalate(
            team_id=job.team_id,
            agent_user_id=job.user_id,
            brief=job.brief,
            source_channel_id=job.context.source_channel_id,
            submission_key=job.view_id,
            tier=job.tier,
        )
    except Exception:  # noqa: BLE001 - the brief must come back to the agent whatever failed
        from bot.slack.app import error_reference  # noqa: PLC0415 - bot.slack.app builds the services that call this

        ref = error_reference()
        log.exception("storing a brief failed [%s]", ref)
        notice = (f":x: *Your brief was not saved* (the database did not answer). Everything you typed is below: press *Escalate* again. "
                  f"If it keeps failing, tell your Slack admin and quote `{ref}`.")
        restored = brief_modal(destination=job.brief.destination, eng_kind=draft_from_state(job.values).get("eng_kind"), context=job.context,
                               initial=initial_from_state(job.values), notice=notice)
        gateway.update_view(job.view_id, restored)
        return
    if delivery.duplicate or delivery.in_progress:
        return  # the first submission reports the result in this same modal
    if delivery.posted:
        result = posted_view(ref=delivery.ref, channel_id=delivery.channel_id, permalink=delivery.permalink, note=delivery.route_note, flags=delivery.flags)
    else:
        result = not_delivered_view(ref=delivery.ref, error=delivery.error or "unknown_error", channel_id=delivery.channel_id)
    gateway.update_view(job.view_id, result)
