"""The triage decision helper: the method's criteria as checkboxes, and its answer."""

from __future__ import annotations

import json
from typing import Any, cast

from blocks import ids
from blocks.brief_modal import ModalContext
from blocks.kit import Block, Blocks, View
from blocks.text import escape, plain, truncate
from bot.domain.brief import Destination, Severity
from bot.domain.triage import CRITERIA, GROUPS, Decision


def _section(text: str) -> Block:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def triage_view(context: ModalContext | None = None) -> View:
    context = context or ModalContext()
    blocks: Blocks = [
        {
            "type": "context",
            "elements": [{"type": "mrkdwn", "text": "Tick what is true. The answer says escalate or keep it in support, why, where to and how severe."}],
        },
        {
            "type": "input",
            "block_id": ids.BLOCK_TRIAGE_SYMPTOM,
            "optional": True,
            "label": plain("The symptom, in a few words"),
            "hint": plain("Used to find similar past escalations."),
            "element": {
                "type": "plain_text_input",
                "action_id": ids.BLOCK_TRIAGE_SYMPTOM,
                "max_length": 150,
                "initial_value": context.prefill.get("summary", "")[:150],
            }
            if context.prefill.get("summary")
            else {"type": "plain_text_input", "action_id": ids.BLOCK_TRIAGE_SYMPTOM, "max_length": 150},
        },
    ]
    for index, group in enumerate(GROUPS):
        options = [{"text": plain(c.text), "value": c.id} for c in CRITERIA if c.group == group]
        blocks.append(
            {
                "type": "input",
                "block_id": f"{ids.BLOCK_TRIAGE_GROUP_PREFIX}{index}",
                "optional": True,
                "label": plain(group),
                "element": {"type": "checkboxes", "action_id": f"{ids.BLOCK_TRIAGE_GROUP_PREFIX}{index}", "options": options},
            }
        )
    return {
        "type": "modal",
        "callback_id": ids.VIEW_TRIAGE,
        "title": plain("Escalate or not?"),
        "submit": plain("Decide"),
        "close": plain("Cancel"),
        "private_metadata": context.dump(),
        "blocks": blocks,
    }


def checked_and_symptom(values: dict[str, Any]) -> tuple[set[str], str]:
    """view.state.values → (criterion ids ticked, symptom text). Unknown shapes are ignored."""
    checked: set[str] = set()
    symptom = ""
    for block_id, actions in (values or {}).items():
        state = (actions or {}).get(block_id) if isinstance(actions, dict) else None
        if not isinstance(state, dict):
            continue
        if block_id == ids.BLOCK_TRIAGE_SYMPTOM:
            symptom = (state.get("value") or "").strip()
        elif block_id.startswith(ids.BLOCK_TRIAGE_GROUP_PREFIX):
            checked |= {cast(str, o.get("value")) for o in state.get("selected_options") or [] if isinstance(o, dict) and o.get("value")}
    return checked, symptom


def result_view(decision: Decision, *, context: ModalContext, symptom: str, similar: list[tuple[str, str, str]] | None = None) -> View:
    """The answer. `similar`: (ref, summary, resolution) of past briefs support resolved."""
    if decision.escalate:
        # decide() always names both when it escalates.
        destination, severity = cast(Destination, decision.destination), cast(Severity, decision.severity)
        head = f":arrow_up: *Escalate* to *{destination.label}* as *{severity.label}*."
        reasons = "\n".join(f"• *{c.group}:* {c.text}" for c in decision.reasons)
        blocks = [
            _section(head),
            _section(f"*Because*\n{reasons}"),
            _section(f"*Why {destination.label}:* {escape(decision.destination_why)}\n*Why {severity.label}:* {escape(decision.severity_why)}"),
        ]
        if decision.cautions:
            blocks.append(
                {"type": "context", "elements": [{"type": "mrkdwn", "text": "Also true, but outweighed: " + "; ".join(c.text for c in decision.cautions)}]}
            )
        button = {
            "type": "button",
            "style": "primary",
            "action_id": ids.ACTION_TRIAGE_WRITE,
            "text": plain("Write the brief"),
            "value": json.dumps({"destination": destination.value, "severity": severity.value, "symptom": symptom[:150]}),
        }
    else:
        why = "\n".join(f"• {c.text}" for c in decision.reasons) or "• Nothing ticked calls for escalation yet."
        blocks = [
            _section(":house: *Keep it in support.*"),
            _section(f"*Because*\n{why}"),
            {
                "type": "context",
                "elements": [{"type": "mrkdwn", "text": "If that changes (a defect confirmed, more customers hit, progress stalls), triage again."}],
            },
        ]
        if similar:
            lines = [
                f"• *{escape(ref)}* {escape(truncate(summary, 120))}\n   _Resolved:_ {escape(truncate(resolution, 300))}"
                for ref, summary, resolution in similar[:5]
            ]
            blocks.append(
                {
                    "type": "section",
                    "block_id": ids.BLOCK_TRIAGE_SIMILAR,
                    "text": {"type": "mrkdwn", "text": "*Similar past escalations support resolved*\n" + "\n".join(lines)},
                }
            )
        button = {"type": "button", "action_id": ids.ACTION_TRIAGE_WRITE, "text": plain("Escalate anyway"), "value": json.dumps({"symptom": symptom[:150]})}
    blocks.append({"type": "actions", "elements": [button]})
    return {
        "type": "modal",
        "callback_id": ids.VIEW_TRIAGE_RESULT,
        "title": plain("Triage"),
        "close": plain("Done"),
        "private_metadata": context.dump(),
        "blocks": blocks,
    }
