"""The brief modal: the method's document structure as a form, and reading its state back.

The agent picks the destination first; choosing it (dispatch_action) re-renders the modal with that
destination's package fields. Every input's block_id and action_id is its `Draft` field name, so
values survive views.update and validation errors land on the field.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterable
from typing import Any, Protocol

from pydantic import BaseModel

from blocks import ids
from blocks.facts import actions_label, package_title
from blocks.kit import Block, Blocks, Labelled, View
from blocks.text import plain, truncate
from bot.domain.brief import (
    Depth,
    Destination,
    EngineeringKind,
    Frequency,
    Growth,
    Likelihood,
    ReputationRisk,
    RequestKind,
    Severity,
    SlaPosition,
    Urgency,
)
from bot.domain.complete_brief import PostNow
from bot.domain.product_areas import choices
from bot.domain.validation import PACKAGE_FIELDS, SUMMARY_MAX, TEXT_MAX, required_fields

TITLE = "Escalation brief"
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
REFERENCE_ACCOUNT = "reference_account"
POST_NOW = ids.BLOCK_POST_NOW  # the Draft field of the *Post now* checkbox
POST_NOW_DEFAULT = PostNow()  # Critical only, reminders at 15 and 30 min (the settings' defaults)


class ModalContext(BaseModel):
    """What must survive the modal's round trips (private_metadata, ≤ 3000 characters)."""

    source_channel_id: str | None = None
    origin: str = "command"  # command | shortcut
    prefill: dict[str, str] = {}
    tier_warned: bool = False  # an L1 agent was told about the tier rule and may submit again
    # ESCALATION_PRODUCT_AREAS as the form was opened with (the listeners set it): every re-render
    # of the form offers the same choices, wherever it is rendered from. Empty: no product-area field.
    product_areas: tuple[str, ...] = ()

    def dump(self) -> str:
        text = self.model_dump_json(exclude_defaults=True)
        if len(text) <= 3000:
            return text
        # Pre-filled text can be long (a whole message); keep the round trip within Slack's limit by
        # trimming the prefill only: the values already sit in the inputs as initial values.
        slim = self.model_copy(update={"prefill": {}})
        text = slim.model_dump_json(exclude_defaults=True)
        if len(text) <= 3000:
            return text
        return slim.model_copy(update={"product_areas": ()}).model_dump_json(exclude_defaults=True)  # re-renders set them again

    @classmethod
    def load(cls, raw: str | None) -> ModalContext:
        if not raw:
            return cls()
        try:
            return cls.model_validate(json.loads(raw))
        except (ValueError, TypeError):
            return cls()


def _option(value: str, text: str, description: str | None = None) -> Block:
    opt = {"text": plain(truncate(text, 75)), "value": value}
    if description:
        opt["description"] = plain(truncate(description, 75))
    return opt


def _enum_options(enum: Iterable[Labelled]) -> Blocks:
    return [_option(member.value, member.label) for member in enum]


def _input(field: str, label: str, element: Block, *, required: set[str], hint: str | None = None, dispatch: bool = False) -> Block:
    element = {**element, "action_id": field}
    block = {"type": "input", "block_id": field, "label": plain(label), "element": element, "optional": field not in required}
    if hint:
        block["hint"] = plain(hint)
    if dispatch:
        block["dispatch_action"] = True
    return block


def _text(placeholder: str | None = None, *, multiline: bool = False, max_length: int = TEXT_MAX, initial: str | None = None) -> Block:
    el: dict[str, Any] = {"type": "plain_text_input", "multiline": multiline, "max_length": max_length}
    if placeholder:
        el["placeholder"] = plain(placeholder)
    if initial:
        el["initial_value"] = initial[:max_length]
    return el


def _select(options: Blocks, placeholder: str, initial: str | None = None) -> Block:
    el: dict[str, Any] = {"type": "static_select", "placeholder": plain(placeholder), "options": options}
    chosen = next((o for o in options if o["value"] == initial), None)
    if chosen:
        el["initial_option"] = chosen
    return el


def _header(text: str) -> Block:
    return {"type": "header", "text": plain(text)}


def _context(text: str) -> Block:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": text}]}


def brief_modal(
    *,
    destination: Destination | None = None,
    eng_kind: str | None = None,
    context: ModalContext | None = None,
    initial: dict[str, Any] | None = None,
    notice: str | None = None,
    post_now: PostNow = POST_NOW_DEFAULT,
) -> View:
    """The modal for a destination (None: not chosen yet, common fields only). `post_now`: which
    severities offer *Post now, complete within 30 min* (choosing the severity re-renders the form).

    `initial` restores values (after a failed save, or a re-render); `notice` is shown on top.
    """
    context = context or ModalContext()
    initial = {**context.prefill, **(initial or {})}
    if destination is not None:
        initial.setdefault("destination", destination.value)
    # The blank form (what a bare /escalate opens) is built once: it was 17 % of the event loop's
    # time per /escalate under load. Its blocks are shared between views and never mutated.
    blocks = (
        list(_blank_blocks())
        if not initial and not notice and destination is None and eng_kind is None
        else _blocks(destination, eng_kind, initial, notice, post_now)
    )
    if context.product_areas:
        blocks = _with_product_area(blocks, context.product_areas, initial.get("product_area"))
    return {
        "type": "modal",
        "callback_id": ids.VIEW_BRIEF,
        "title": plain(TITLE),
        "submit": plain("Escalate"),
        "close": plain("Cancel"),
        "notify_on_close": True,  # view_closed: what was typed is kept as a draft (bot.usecases.drafts)
        "private_metadata": context.dump(),
        "blocks": blocks,
    }


def _with_product_area(blocks: Blocks, areas: tuple[str, ...], initial: Any) -> Blocks:
    """The product-area select (the configured areas, then "Other"), just after the summary."""
    options = [_option(area, area) for area in choices(areas)]
    select = _input(
        "product_area",
        "Product area",
        _select(options, "Choose the product area", initial if isinstance(initial, str) else None),
        required=set(),
        hint="Where in the product the problem is; pick Other if none fits. Search and stats use it.",
    )
    at = next((i + 1 for i, b in enumerate(blocks) if b.get("block_id") == "summary"), len(blocks))
    return [*blocks[:at], select, *blocks[at:]]


@functools.cache
def _blank_blocks() -> tuple[Block, ...]:
    return tuple(_blocks(None, None, {}, None))


def _blocks(destination: Destination | None, eng_kind: str | None, initial: dict[str, Any], notice: str | None, post_now: PostNow = POST_NOW_DEFAULT) -> Blocks:
    offered = post_now.offered_for(initial.get("severity"))
    req = required_fields(destination, eng_kind, post_now=offered and initial.get(POST_NOW) in (True, "yes", "true"))

    def txt(field: str, label: str, placeholder: str | None = None, hint: str | None = None, multiline: bool = False, max_length: int = TEXT_MAX) -> Block:
        return _input(field, label, _text(placeholder, multiline=multiline, max_length=max_length, initial=initial.get(field)), required=req, hint=hint)

    def sel(field: str, label: str, options: Blocks, placeholder: str = "Choose", hint: str | None = None, dispatch: bool = False) -> Block:
        return _input(field, label, _select(options, placeholder, initial.get(field)), required=req, hint=hint, dispatch=dispatch)

    def date(field: str, label: str, hint: str | None = None) -> Block:
        el: dict[str, Any] = {"type": "datepicker", "placeholder": plain("Pick a date")}
        if _ISO_DATE.fullmatch(str(initial.get(field) or "")):
            el["initial_date"] = initial[field]
        return _input(field, label, el, required=req, hint=hint)

    deadline: dict[str, Any] = {"type": "datetimepicker"}
    if str(initial.get("deadline") or "").isdigit():
        deadline["initial_date_time"] = int(initial["deadline"])
    reference_account: dict[str, Any] = {"type": "checkboxes", "options": [_option("yes", "A reference account is involved")]}
    if initial.get(REFERENCE_ACCOUNT) in (True, "yes", "true"):
        reference_account["initial_options"] = reference_account["options"]

    blocks: Blocks = [
        *([{"type": "section", "text": {"type": "mrkdwn", "text": notice}}] if notice else []),
        {
            "type": "actions",
            "elements": [{"type": "button", "action_id": ids.ACTION_TRIAGE_FIRST, "text": plain("Not sure? Triage first"), "value": "triage"}],
        },
        _context("Numbers, not adjectives: measurable escalations get faster attention. Fields marked optional can stay empty."),
        sel(
            "destination",
            "Escalate to",
            [_option(d.value, d.label, d.when) for d in Destination],
            "Choose the receiving team",
            hint="Security skips tiers: any agent may escalate to it directly.",
            dispatch=True,
        ),
        sel("severity", "Severity", [_option(s.value, s.label, s.definition) for s in Severity], "Choose a severity", dispatch=True),
        *([post_now_input(post_now, chosen=initial.get(POST_NOW) in (True, "yes", "true"))] if offered else []),
        txt("summary", "Summary", "One line: what is broken, for whom", max_length=SUMMARY_MAX),
        _header("Business impact"),
        txt("affected_customers", "Affected customers (count)", "e.g. 12 or 1,200"),
        txt("affected_names", "Which customers", "Names where relevant, e.g. Acme Corp, Globex"),
        sel("growth", "Is the number growing?", _enum_options(Growth)),
        sel("depth", "How blocked are they?", _enum_options(Depth)),
        txt("operational_effect", "Operational effect", "What is broken for them", multiline=True),
        date("since", "Since when", hint="When the problem began."),
        txt("critical_when", "When does it become critical?", "e.g. Friday's payroll run, 2026-12-01"),
        txt("arr_exposed", "Revenue exposure (ARR)", "e.g. $48k, 48000 EUR, €1.2m"),
        txt("pipeline_at_risk", "Pipeline at risk", "e.g. $250k in open deals"),
        sel("reputation", "Press or social media risk", _enum_options(ReputationRisk)),
        _input(REFERENCE_ACCOUNT, "Reference account", reference_account, required=req),
        sel("sla_position", "SLA position", _enum_options(SlaPosition)),
        txt("penalties", "Contractual penalties", "e.g. 10% service credit after 4 h outage"),
        _header("Problem narrative"),
        txt(
            "narrative",
            "What is happening",
            "What is happening, when it began, how it presents, how wide the blast radius is",
            hint="3–5 sentences.",
            multiline=True,
        ),
    ]
    if destination is None:
        blocks.append(_context(":point_up: Choose where this goes to see what that team needs (reproduction steps, use case, containment…)."))
    else:
        blocks += _package_blocks(destination, req, txt, sel)
    blocks += [
        _header(actions_label(destination) if destination else "Actions already taken"),
        txt(
            "actions_taken",
            "What was tried, and the outcome",
            "Cleared cache and re-logged in -> same error",
            hint="One per line: what you tried -> what happened.",
            multiline=True,
        ),
        _header("Customer communication"),
        date("last_update_on", "Most recent update to the customer"),
        txt("last_update", "What you told them", multiline=True),
        txt("expectation", "What the customer expects, and by when", "e.g. a fix or workaround by Friday 17:00 their time"),
        sel("escalation_risk", "Risk the customer escalates further", _enum_options(Likelihood)),
        _header("Request"),
        sel("request_kind", "What you need", _enum_options(RequestKind), hint="Investigate, fix and decide are different asks with different owners."),
        txt("ask", "The precise ask", "e.g. Find why exports over 10k rows time out and ship a fix", multiline=True),
        _input("deadline", "Hard deadline", deadline, required=req, hint="In your time zone. Urgency without a timeline is ambiguous."),
        _header("Attachments and references"),
        txt("references", "Tickets, threads, logs", "One per line: ticket IDs or URLs, thread links, log files", multiline=True),
    ]
    return blocks


def post_now_input(post_now: PostNow, *, chosen: bool) -> Block:
    """*Post now, complete within 30 min* (Critical): ticking it re-renders the form with only the
    essentials required, so Slack lets it be sent; the bot's own validation decides what is required."""
    option = _option("yes", f"Post now, complete within {post_now.within_minutes} min", "Only summary, affected count, the ask and the deadline now")
    element: dict[str, Any] = {"type": "checkboxes", "action_id": POST_NOW, "options": [option]}
    if chosen:
        element["initial_options"] = [option]
    return {
        "type": "input",
        "block_id": POST_NOW,
        "label": plain("Service down or data at risk?"),
        "element": element,
        "optional": True,
        "dispatch_action": True,
        "hint": plain("The team sees it at once; you get a Complete the brief button and reminders until the rest is in."),
    }


class _TextInput(Protocol):
    """`txt` in `_blocks`: a text input for a Draft field, with that field's initial value."""

    def __call__(
        self, field: str, label: str, placeholder: str | None = None, hint: str | None = None, multiline: bool = False, max_length: int = TEXT_MAX
    ) -> Block: ...


class _SelectInput(Protocol):
    """`sel` in `_blocks`: a static select for a Draft field, with that field's initial option."""

    def __call__(self, field: str, label: str, options: Blocks, placeholder: str = "Choose", hint: str | None = None, dispatch: bool = False) -> Block: ...


def _package_blocks(destination: Destination, req: set[str], txt: _TextInput, sel: _SelectInput) -> Blocks:
    title = package_title(destination)
    blocks = [_header(f"For {destination.label}: {title.lower()}")]
    if destination is Destination.ENGINEERING:
        blocks += [
            sel(
                "eng_kind",
                "Kind of problem",
                _enum_options(EngineeringKind),
                dispatch=True,
                hint="A confirmed defect needs reproduction steps, expected and observed outcome.",
            ),
            txt("repro_baseline", "Baseline state", "Account type, configuration, permissions, prerequisites", multiline=True),
            txt(
                "repro_steps",
                "Steps to reproduce",
                "1. Open Reports\n2. Click Export CSV (upper right)\n3. Enter 10500 rows",
                multiline=True,
                hint="One step per line, with the literal inputs used.",
            ),
            txt("repro_expected", "Expected outcome", multiline=True),
            txt("repro_observed", "Observed outcome", "Exact error text", multiline=True),
            txt("repro_environment", "Environment", "Browser and version, OS, plan tier, feature flags"),
            sel("repro_frequency", "How often", _enum_options(Frequency)),
            txt("repro_ruled_out", "Ruled out", "e.g. Reproduced in Chrome 122 and Safari 17; staging and production", multiline=True),
            txt("logs", "Logs and error output", "Paste the relevant lines, or link the files below", multiline=True),
            txt("timeline_commitments", "Customer-facing timeline commitments", "What was promised to the customer, and when"),
        ]
    elif destination is Destination.PRODUCT:
        blocks += [
            txt("use_case", "Customer use case", "What they are trying to do and why the product gets in the way", multiline=True),
            txt("request_frequency", "Request frequency", "e.g. 14 customers asked in the last 90 days"),
            txt("competitive_context", "Competitive context", "e.g. Evaluating a competitor that has this", multiline=True),
        ]
    elif destination is Destination.SECURITY:
        blocks += [
            txt("observations", "Observations", "What you saw, when, and how you came across it", multiline=True),
            txt("affected_parties", "Affected parties and systems", multiline=True),
            txt("containment", "Containment already taken", "e.g. API key revoked at 14:02 UTC; or “none yet”", multiline=True),
            sel("urgency", "Urgency", _enum_options(Urgency)),
        ]
    elif destination is Destination.LEADERSHIP:
        blocks += [
            _context("Leadership needs the revenue exposure: fill in *Revenue exposure (ARR)* above."),
            txt("business_context", "Complete business context", "Account history, renewal date, relationships, what is at stake", multiline=True),
            txt("decision_needed", "Decision or intervention needed", "e.g. Approve a 2-month service credit", multiline=True),
        ]
    else:
        blocks += [txt("customer_context", "Customer context", "Plan, setup, who is affected, history with this issue", multiline=True)]
    assert {b["block_id"] for b in blocks if b.get("type") == "input"} <= set(PACKAGE_FIELDS[destination])
    return blocks


def draft_from_state(values: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """`view.state.values` → raw Draft fields. Tolerant of anything: unknown shapes become None."""
    draft: dict[str, Any] = {}
    if not isinstance(values, dict):
        return draft
    for block_id, actions in values.items():
        if not isinstance(actions, dict):
            continue
        state = actions.get(block_id)
        if not isinstance(state, dict):
            continue
        kind = state.get("type")
        if kind == "plain_text_input":
            draft[block_id] = state.get("value")
        elif kind in ("static_select", "radio_buttons"):
            option = state.get("selected_option")
            draft[block_id] = option.get("value") if isinstance(option, dict) else None
        elif kind == "checkboxes":
            options = state.get("selected_options")
            draft[block_id] = bool(options) if isinstance(options, list) else False
        elif kind == "datepicker":
            draft[block_id] = state.get("selected_date")
        elif kind == "datetimepicker":
            draft[block_id] = state.get("selected_date_time")
    return draft


def initial_from_state(values: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Everything the agent entered, as initial values for a re-rendered modal. A value of the wrong
    type (a forged or garbled payload) is left out: its field error asks for it again."""
    # The deadline (a datetimepicker) arrives as epoch seconds, an int: it is kept like the text.
    return {k: v for k, v in draft_from_state(values).items() if v is True or (isinstance(v, str) and v) or (type(v) is int and v > 0)}


def package_inputs(destination: Destination, initial: dict[str, Any], *, eng_kind: str | None = None) -> Blocks:
    """One destination's package inputs as the brief modal shows them, with `initial` values, for
    forms that ask for a package alone (moving a brief: blocks.move). Leadership's revenue exposure
    comes first. Choices re-render nothing here (no dispatch_action): the submission is validated whole."""
    req = required_fields(destination, eng_kind or initial.get("eng_kind"))

    def txt(field: str, label: str, placeholder: str | None = None, hint: str | None = None, multiline: bool = False, max_length: int = TEXT_MAX) -> Block:
        return _input(field, label, _text(placeholder, multiline=multiline, max_length=max_length, initial=initial.get(field)), required=req, hint=hint)

    def sel(field: str, label: str, options: Blocks, placeholder: str = "Choose", hint: str | None = None, dispatch: bool = False) -> Block:
        return _input(field, label, _select(options, placeholder, initial.get(field)), required=req, hint=hint)

    first = [txt("arr_exposed", "Revenue exposure (ARR)", "e.g. $48k, 48000 EUR, €1.2m")] if destination is Destination.LEADERSHIP else []
    blocks = _package_blocks(destination, req, txt, sel)
    return blocks[:1] + first + [b for b in blocks[1:] if not (destination is Destination.LEADERSHIP and b.get("type") == "context")]
