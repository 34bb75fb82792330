"""Ending and re-opening an escalation: the de-escalation and close-with-lessons modals, and the
messages that go with them (the agent's prompts by DM)."""

from __future__ import annotations

from datetime import datetime

from blocks import ids
from blocks.follow_through import button, escalation_modal, text_input
from blocks.kit import Block, Blocks, View
from blocks.text import escape, plain, slack_date
from bot.domain.lifecycle import DeescalationReason


def inline(text: str) -> str:
    """What someone typed, safe inside a one-line mrkdwn note (escaped, long text kept whole)."""
    return escape(" ".join(text.split()))


def when(moment: datetime) -> str:
    return slack_date(moment)


def _section(text: str) -> Block:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def deescalate_modal(*, escalation_id: int, ref: str) -> View:
    b = ids.DEESCALATE_BLOCKS
    reasons = [{"text": plain(r.label), "value": r.value} for r in DeescalationReason]
    reasons[2]["description"] = plain("The root cause is still required")
    return escalation_modal(
        callback_id=ids.VIEW_DEESCALATE,
        title="De-escalate",
        submit="De-escalate",
        escalation_id=escalation_id,
        blocks=[
            {
                "type": "context",
                "elements": [
                    {
                        "type": "mrkdwn",
                        "text": f"*{escape(ref)}* goes back to support: the receiving team is told, follow-ups stop, and what you found is kept for future agents.",
                    }
                ],
            },
            {
                "type": "input",
                "block_id": b["reason"],
                "label": plain("Why pull it back?"),
                "element": {"type": "radio_buttons", "action_id": b["reason"], "options": reasons},
            },
            text_input(b["findings"], "What was found", "e.g. A stale SSO certificate on the customer's side; renewing it fixed logins"),
            text_input(b["root_cause"], "Root cause", "Required when it self-resolved: what caused it", optional=True),
            {
                "type": "input",
                "block_id": b["customer_told"],
                "label": plain("Has the customer been told?"),
                "element": {
                    "type": "radio_buttons",
                    "action_id": b["customer_told"],
                    "options": [{"text": plain("Yes, they know the outcome"), "value": "yes"}, {"text": plain("Not yet"), "value": "no"}],
                },
            },
        ],
    )


def close_modal(*, escalation_id: int, ref: str) -> View:
    b = ids.CLOSE_BLOCKS
    return escalation_modal(
        callback_id=ids.VIEW_CLOSE,
        title=f"Close {ref}",
        submit="Close",
        escalation_id=escalation_id,
        blocks=[
            {
                "type": "context",
                "elements": [
                    {"type": "mrkdwn", "text": f"Close *{escape(ref)}* with what you learned. Future agents find it with `/escalate search` and in triage."}
                ],
            },
            {
                "type": "input",
                "block_id": b["confirmed"],
                "label": plain("With the customer"),
                "element": {
                    "type": "checkboxes",
                    "action_id": b["confirmed"],
                    "options": [{"text": plain("I confirmed the fix with the customer"), "value": "yes"}],
                },
            },
            text_input(b["what_happened"], "What happened", "e.g. Exports over 10k rows hit the 60 s gateway timeout after the 11-24 release"),
            text_input(b["root_cause"], "Root cause", "e.g. The new export worker loaded all rows in memory before streaming"),
            text_input(
                b["next_time"], "What future agents should do", "e.g. Check the release notes for export changes; split exports by month as a workaround"
            ),
        ],
    )


def deescalated_dm(*, ref: str, by: str, agent: str, reason: str, customer_told: bool, escalation_id: int) -> tuple[str, Blocks]:
    """To the agent, who owns the customer relationship: the outcome, and a prompt to tell the customer."""
    who = "You" if by == agent else f"<@{by}>"
    text = f":leftwards_arrow_with_hook: {who} de-escalated *{ref}*: {escape(reason)}."
    if customer_told:
        return text, [_section(text)]
    text += " *Tell the customer the outcome*, then log it."
    return text, [
        _section(text),
        {"type": "actions", "elements": [button("Log customer update", ids.ACTION_LOG_CUSTOMER_UPDATE, str(escalation_id), "primary")]},
    ]


def fixed_dm(*, ref: str, by: str, escalation_id: int) -> tuple[str, Blocks]:
    text = f":white_check_mark: <@{by}> marked *{ref}* fixed. Confirm the fix with the customer, then close the escalation with what you learned."
    return text, [_section(text), {"type": "actions", "elements": [button("Close with lessons learned", ids.ACTION_CLOSE, str(escalation_id), "primary")]}]


def reopen_button(escalation_id: int) -> Block:
    reopen = button("Re-open", ids.ACTION_REOPEN, str(escalation_id))
    reopen["confirm"] = {
        "title": plain("Re-open this escalation?"),
        "text": plain("Follow-ups resume from now, on its severity's cadence."),
        "confirm": plain("Re-open"),
        "deny": plain("Cancel"),
    }
    return reopen
