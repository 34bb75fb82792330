"""File now, complete later: the *Incomplete* marker on a brief posted with *Post now*, the agent's
*Complete the brief* prompt and reminders, and the form that completes it (the brief form, pre-filled,
without the destination and severity, which stay as they are)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from blocks import ids
from blocks.brief_modal import brief_modal, initial_from_state
from blocks.kit import Block, Blocks, View
from blocks.text import escape, plain, slack_date
from bot.domain.brief import Brief, Destination, Severity
from bot.domain.complete_brief import missing_text

TITLE = "Complete the brief"
# Blocks of the brief form the completion form leaves out: what it is and where it went are settled.
_LEFT_OUT = {"destination", "severity", ids.BLOCK_POST_NOW}


def complete_button(escalation_id: int, *, primary: bool = True) -> Block:
    button = {"type": "button", "action_id": ids.ACTION_COMPLETE_BRIEF, "text": plain(TITLE), "value": str(escalation_id)}
    return {**button, "style": "primary"} if primary else button


def marker_text(missing: tuple[str, ...] | list[str]) -> str:
    return f":construction: *Incomplete: {escape(missing_text(missing))} missing.*"


def incomplete_blocks(brief: Brief, *, escalation_id: int, agent_user_id: str, complete_by: datetime | None, closed: bool = False) -> Blocks:
    """On the posted brief while it is incomplete: what is missing, who completes it by when, and the
    button (for the agent; the permission guard refuses anyone else)."""
    if not brief.missing:
        return []
    by = f" by {slack_date(complete_by)}" if complete_by else ""
    text = f"{marker_text(brief.missing)}\nPosted at once ({brief.severity.label}). <@{agent_user_id}> completes it{by}; this message is then updated in place."
    block: Block = {"type": "section", "block_id": ids.BLOCK_INCOMPLETE, "text": {"type": "mrkdwn", "text": text}}
    if not closed:
        block["accessory"] = complete_button(escalation_id, primary=False)
    return [block]


def complete_prompt(*, ref: str, escalation_id: int, missing: tuple[str, ...] | list[str], complete_by: datetime | None) -> Blocks:
    """In the agent's confirmation (DM and the form's result): posted now, complete it later."""
    by = f" by {slack_date(complete_by)}" if complete_by else ""
    return [
        {
            "type": "section",
            "block_id": ids.BLOCK_INCOMPLETE,
            "text": {"type": "mrkdwn", "text": f"{marker_text(missing)}\nComplete {escape(ref)}{by}: the posted message is updated in place."},
            "accessory": complete_button(escalation_id),
        }
    ]


def complete_reminder(*, ref: str, escalation_id: int, missing: list[str], complete_by: datetime | None, final: bool) -> tuple[str, Blocks]:
    """The agent's DM reminder (a nudge of kind COMPLETE): 15 and 30 minutes after the post."""
    if final:
        text = f":alarm_clock: {ref} is still incomplete and its time to complete it is up: {missing_text(missing)} missing."
    else:
        by = f" by {slack_date(complete_by)}" if complete_by else ""
        text = f":construction: {ref} was posted incomplete: {missing_text(missing)} missing. Complete it{by}."
    blocks: Blocks = [
        {"type": "section", "text": {"type": "mrkdwn", "text": text}},
        {"type": "actions", "elements": [complete_button(escalation_id)]},
    ]
    return text, blocks


def complete_modal(
    *,
    escalation_id: int,
    ref: str,
    destination: Destination,
    severity: Severity,
    initial: dict[str, Any],
    missing: list[str],
    filed_at: datetime | None = None,
    deadline: str | None = None,
    notice: str | None = None,
) -> View:
    """The brief form pre-filled with what was given, every required field required again. The
    metadata keeps when it was filed and its deadline: a deadline left as it was counts as given then
    (it was in the future when the brief was filed; a Critical one may be near by now)."""
    meta = {
        "escalation_id": escalation_id,
        "ref": ref,
        "destination": destination.value,
        "severity": severity.value,
        "missing": missing,
        "filed_at": int(filed_at.timestamp()) if filed_at else None,
        "deadline": deadline if deadline is not None else initial.get("deadline"),
    }
    head = notice or f"{marker_text(missing)} Fill in what is missing and press *Complete*: {escape(ref)} is updated in place."
    form = brief_modal(destination=destination, eng_kind=initial.get("eng_kind"), initial={**initial, "destination": destination.value}, notice=head)
    blocks = [b for b in form["blocks"] if b.get("block_id") not in _LEFT_OUT and not _is_triage(b)]
    blocks.insert(1, {"type": "context", "elements": [{"type": "mrkdwn", "text": f"*{escape(ref)}* · {severity.label} · {destination.label}"}]})
    form.pop("notify_on_close", None)  # nothing to keep as a draft: what was given is in the brief
    return {
        **form,
        "callback_id": ids.VIEW_COMPLETE_BRIEF,
        "title": plain(TITLE),
        "submit": plain("Complete"),
        "private_metadata": json.dumps(meta),
        "blocks": blocks,
    }


def complete_modal_again(view: View, notice: str | None = None) -> View | None:
    """The completion form re-rendered from its own state (a choice that shows other fields, such as
    the kind of engineering problem), or None if its metadata is unreadable."""
    meta = load_meta(view.get("private_metadata"))
    try:
        destination, severity = Destination(meta.get("destination")), Severity(meta.get("severity"))
    except ValueError:
        return None
    return complete_modal(
        escalation_id=meta["escalation_id"],
        ref=str(meta.get("ref") or ""),
        destination=destination,
        severity=severity,
        initial=initial_from_state((view.get("state") or {}).get("values") or {}),
        missing=[str(m) for m in meta.get("missing") or []],
        filed_at=datetime.fromtimestamp(meta["filed_at"], UTC) if isinstance(meta.get("filed_at"), int) else None,
        deadline=meta.get("deadline"),
        notice=notice,
    )


def _is_triage(block: Block) -> bool:
    return block.get("type") == "actions" and any(e.get("action_id") == ids.ACTION_TRIAGE_FIRST for e in block.get("elements", []))


def load_meta(raw: str | None) -> dict[str, Any]:
    """The completion form's private_metadata; {} when unreadable (a forged or garbled payload)."""
    try:
        meta = json.loads(raw or "")
    except (TypeError, ValueError):
        return {}
    return meta if isinstance(meta, dict) and isinstance(meta.get("escalation_id"), int) else {}


def completed_view(*, ref: str, permalink: str | None, text: str | None = None) -> View:
    """The completion form's result: done (the posted brief updated), or `text` (a refusal, "complete already")."""
    link = f" <{permalink}|Open {escape(ref)}>." if permalink else ""
    body = text or f":white_check_mark: *{escape(ref)}* is complete: the posted brief is updated.{link}"
    return {
        "type": "modal",
        "callback_id": ids.VIEW_BRIEF_RESULT,
        "title": plain(TITLE if text or not ref else f"{ref} complete"[:24]),
        "close": plain("Done"),
        "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": body[:3000]}}],
    }


def completing_view(ref: str) -> View:
    return {
        "type": "modal",
        "callback_id": ids.VIEW_BRIEF_RESULT,
        "title": plain(TITLE),
        "close": plain("Close"),
        "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": f":hourglass_flowing_sand: Saving the rest of *{escape(ref)}*…"}}],
    }
