"""The brief as posted in the destination channel, in the method's document structure.

Nothing the agent wrote is ever cut: long text is split across sections, and what does not fit one
message (50 blocks, and Slack's undocumented ~13k characters of block text) continues as replies in
the brief's thread. The first message always keeps the headline, impact, request and deadline.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from blocks import facts, ids
from blocks.complete_brief import incomplete_blocks
from blocks.facts import NOT_GIVEN
from blocks.kit import Block, Blocks
from blocks.lifecycle import reopen_button
from blocks.text import FIELD_TEXT_MAX, SECTION_TEXT_MAX, chunks, escape, slack_date
from blocks.tickets import TicketsView, linked, ticket_blocks
from bot.domain.brief import Brief, Destination, SlaPosition

MESSAGE_BLOCKS_MAX = 50
# Slack rejects messages with about 13.2k characters of block text (msg_blocks_too_long, seen but
# undocumented); stay well below it.
MESSAGE_TEXT_BUDGET = 11_000


@dataclass(frozen=True)
class BriefState:
    """Where the escalation stands, shown on the brief and kept current with chat.update."""

    status: str = "Waiting for acknowledgement"
    acknowledged: bool = False
    owner: str | None = None
    last_update_at: datetime | None = None
    last_update_by: str | None = None
    last_update_text: str | None = None
    next_checkin_at: datetime | None = None
    deadline_state: str | None = None  # at_risk | breached
    # Which buttons fit: "active" (the receiving team works on it), "fixed" (the agent confirms and
    # closes), "closed" (de-escalated or resolved: it can be re-opened).
    phase: str = "active"
    parts_missing: int = 0  # thread parts of a long brief Slack has not taken yet (the tick posts them)
    complete_by: datetime | None = None  # posted with *Post now*: when the agent should have completed it (blocks.complete_brief)
    history: str | None = None  # moved from another team: by whom, why, and a link to the earlier message (blocks.move)


@dataclass
class RenderedBrief:
    text: str  # fallback: notifications, screen readers, old clients
    blocks: Blocks
    continuations: list[Blocks] = field(default_factory=list)  # thread replies, in order


def _section(text: str) -> Block:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def _sections(title: str, body: str) -> Blocks:
    """A titled section, split into as many sections as Slack's 3,000-character limit needs."""
    head = f"*{title}*\n"
    parts = chunks(body, SECTION_TEXT_MAX - len(head))
    return [_section(head + parts[0])] + [_section(p) for p in parts[1:]]


def _fields(pairs: list[tuple[str, str]]) -> tuple[Blocks, Blocks]:
    """Short facts as section fields (≤ 10 per section, ≤ 2,000 chars each); long ones as sections."""
    short, long_blocks = [], []
    for label, value in pairs:
        text = f"*{label}*\n{escape(value)}"
        if len(text) <= FIELD_TEXT_MAX:
            short.append({"type": "mrkdwn", "text": text})
        else:
            long_blocks += _sections(label, escape(value))
    blocks = [{"type": "section", "fields": short[i : i + 10]} for i in range(0, len(short), 10)]
    return blocks, long_blocks


def headline(number_ref: str, brief: Brief) -> str:
    return f"{number_ref} · {brief.severity.label} · {brief.destination.label}"


def request_label(brief: Brief) -> str:
    return brief.request.kind.label if brief.request.kind else "Request"


def fallback_text(number_ref: str, brief: Brief) -> str:
    """The notification text: Slack parses it for mentions too, so the typed summary is escaped."""
    return f"{number_ref} [{brief.severity.label}] to {brief.destination.label}: {escape(brief.summary)}"


def _state_context(state: BriefState) -> Block:
    parts = [f"*Status:* {state.status}"]
    parts.append(f"*Receiving owner:* <@{state.owner}>" if state.owner else "*Receiving owner:* none yet")
    if state.last_update_at:
        by = f" by <@{state.last_update_by}>" if state.last_update_by else ""
        text = f": {escape(' '.join(state.last_update_text.split())[:200])}" if state.last_update_text else ""
        parts.append(f"*Last update* {slack_date(state.last_update_at)}{by}{text}")
    if state.next_checkin_at:
        parts.append(f"*Next check-in due* {slack_date(state.next_checkin_at)}")
    if state.deadline_state:
        parts.append({"at_risk": ":warning: *Deadline at risk*", "breached": ":red_circle: *Deadline breached*"}[state.deadline_state])
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": " · ".join(parts)[:3000]}]}


def _buttons(escalation_id: int, state: BriefState) -> Block:
    value = str(escalation_id)

    def button(text: str, action_id: str, style: str | None = None) -> Block:
        b = {"type": "button", "action_id": action_id, "text": {"type": "plain_text", "text": text}, "value": value}
        return {**b, "style": style} if style else b

    elements = []
    if state.phase == "closed":
        elements.append(reopen_button(escalation_id))
    elif state.phase == "fixed":
        elements += [
            button("Close with lessons learned", ids.ACTION_CLOSE, "primary"),
            button("Post update", ids.ACTION_POST_UPDATE),
            button("Ask for info", ids.ACTION_ASK_INFO),
        ]
    else:
        if not state.acknowledged:
            elements.append(button("Acknowledge", ids.ACTION_ACKNOWLEDGE, "primary"))
        elements += [
            button("Ask for info", ids.ACTION_ASK_INFO),
            button("Post update", ids.ACTION_POST_UPDATE),
            button("Mark fixed", ids.ACTION_MARK_FIXED),
            button("Change severity", ids.ACTION_CHANGE_SEVERITY),
            button("De-escalate", ids.ACTION_DEESCALATE),
            button("Move", ids.ACTION_MOVE),
        ]
    elements += [button("View log", ids.ACTION_VIEW_LOG), button("Export as text", ids.ACTION_EXPORT)]
    return {"type": "actions", "block_id": ids.BLOCK_BRIEF_ACTIONS, "elements": elements}


def brief_message(
    *,
    ref: str,
    brief: Brief,
    agent_user_id: str,
    escalation_id: int,
    today: date | None = None,
    state: BriefState | None = None,
    routed_to: Destination | None = None,
    flags: list[str] | None = None,
    tickets: TicketsView | None = None,
    now: datetime | None = None,
) -> RenderedBrief:
    """`routed_to`: where the tier rules sent it, when that differs from the destination asked for.
    `tickets`: the linked tickets' facts and the link templates (ticket references become links)."""
    state = state or BriefState()
    via = routed_to if routed_to is not None and routed_to is not brief.destination else None
    impact = brief.impact
    deadline = slack_date(brief.request.deadline)
    top: Blocks = [
        {
            "type": "header",
            "text": {"type": "plain_text", "text": f"{brief.severity.emoji} {headline(ref, brief)}" + (f" (via {via.label})" if via else ""), "emoji": True},
        },
        _section(f"*ESCALATION:* {linked(escape(brief.summary), tickets)}"),
        {
            "type": "context",
            "elements": [{"type": "mrkdwn", "text": f"Escalated by <@{agent_user_id}> · *{request_label(brief)}* · Hard deadline {deadline}" + _area(brief)}],
        },
        *(
            [
                {
                    "type": "context",
                    "elements": [
                        {
                            "type": "mrkdwn",
                            "text": f":leftwards_arrow_with_hook: Asked for {brief.destination.label}; routed to {via.label} first by the tier rules. L2: confirm and forward it.",
                        }
                    ],
                }
            ]
            if via
            else []
        ),
        *([{"type": "context", "elements": [{"type": "mrkdwn", "text": state.history[:3000]}]}] if state.history else []),
        _state_context(state),
        *incomplete_blocks(brief, escalation_id=escalation_id, agent_user_id=agent_user_id, complete_by=state.complete_by, closed=state.phase == "closed"),
        *ticket_blocks(tickets, now=now),
        *([_section("\n".join(flags))] if flags else []),
        {"type": "divider"},
    ]
    sla = facts.sla(impact)
    if state.deadline_state == "breached":
        sla = f"Breached (hard deadline passed); reported: {sla}"
    elif state.deadline_state == "at_risk" and impact.sla_position is SlaPosition.COMPLIANT:
        sla = f"At risk (hard deadline near); reported: {sla}"
    impact_pairs = [
        ("Affected customers", facts.affected(impact)),
        ("Depth", impact.depth.label if impact.depth else NOT_GIVEN),
        ("Operational effect", impact.operational_effect or NOT_GIVEN),
        ("Duration", facts.duration(impact, today)),
        ("Revenue exposure", facts.revenue(impact) or "None stated"),
        ("Reputation", facts.reputation(impact) or "None stated"),
        ("SLA position", sla),
    ]
    impact_fields, impact_long = _fields(impact_pairs)
    top += [_section("*BUSINESS IMPACT*"), *impact_fields, *impact_long]
    request = _sections("REQUEST", f"*{request_label(brief)}:* {escape(brief.request.ask)}\n*Hard deadline:* {deadline}")

    body: Blocks = _sections("PROBLEM NARRATIVE", linked(escape(brief.narrative), tickets) if brief.narrative else f"_{NOT_GIVEN}_")
    body += _package(brief)
    actions = "\n".join(f"{i}. {escape(a.what)} → {escape(a.outcome)}" for i, a in enumerate(brief.actions_taken, 1))
    body += _sections(facts.actions_label(brief.destination).upper(), actions or f"_{NOT_GIVEN}_")
    comms = brief.communication
    comm_text = (
        f"*Most recent update ({comms.last_update_on.isoformat() if comms.last_update_on else NOT_GIVEN}):* {escape(comms.last_update or NOT_GIVEN)}"
        f"\n*Customer expectation:* {escape(comms.expectation or NOT_GIVEN)}"
    )
    if comms.escalation_risk:
        comm_text += f"\n*Further escalation risk:* {comms.escalation_risk.label}"
    body += _sections("CUSTOMER COMMUNICATION STATUS", comm_text)
    if brief.references:
        body += _sections("ATTACHMENTS AND REFERENCES", "\n".join(f"• {linked(escape(r), tickets)}" for r in brief.references))

    buttons = _buttons(escalation_id, state)
    # The request is what the receiving team acts on: it stays in the first message, just after impact.
    main, overflow = _fit(top + request, body, tail=[buttons])
    continuations = _paginate(ref, overflow)
    if continuations:
        n = len(continuations)
        text = f"Continued in the thread ({n} more part{'s' if n > 1 else ''})."
        missing = min(n, (state or BriefState()).parts_missing)
        if missing:
            first = n - missing + 1
            which = f"part {first}" if missing == 1 else f"parts {first}–{n}"
            text += f" :hourglass_flowing_sand: {which.capitalize()} of {n} not in the thread yet: being posted again."
        main.insert(-1, {"type": "context", "elements": [{"type": "mrkdwn", "text": text}]})
    return RenderedBrief(text=fallback_text(ref, brief), blocks=main, continuations=continuations)


def _area(brief: Brief) -> str:
    """The product area on the brief's context line (ESCALATION_PRODUCT_AREAS), or nothing."""
    return f" · Product area: {escape(brief.product_area)}" if brief.product_area else ""


def _package(brief: Brief) -> Blocks:
    pairs = facts.package_lines(brief)
    blocks: Blocks = []
    title = facts.package_title(brief.destination).upper()
    if brief.engineering:
        steps = brief.engineering.reproduction.steps
        lines = [f"{i}. {escape(s)}" for i, s in enumerate(steps, 1)]
        lines += [f"*{label}:* {escape(text)}" for label, text in pairs]
        blocks += _sections(f"{title} (for defects)" if steps else title, "\n".join(lines))
        if brief.engineering.logs:
            blocks += [_section(f"```{p}```") for p in chunks(escape(brief.engineering.logs), SECTION_TEXT_MAX - 6)]
    else:
        blocks += _sections(title, "\n".join(f"*{label}:* {escape(text)}" for label, text in pairs))
    return blocks


def _size(block: Block) -> int:
    text = block.get("text", {}).get("text", "") if isinstance(block.get("text"), dict) else ""
    text_len = len(text) + sum(len(f.get("text", "")) for f in block.get("fields", []))
    return text_len + sum(len(e.get("text", "")) for e in block.get("elements", []) if isinstance(e, dict))


def _fit(head: Blocks, body: Blocks, tail: Blocks) -> tuple[Blocks, Blocks]:
    """Keep as much of the body in the first message as its limits allow (one block spare for the note)."""
    used_blocks = len(head) + len(tail) + 1
    used_chars = sum(_size(b) for b in head + tail) + 100
    kept: Blocks = []
    for i, block in enumerate(body):
        if used_blocks + 1 > MESSAGE_BLOCKS_MAX or used_chars + _size(block) > MESSAGE_TEXT_BUDGET:
            return head + kept + tail, body[i:]
        kept.append(block)
        used_blocks += 1
        used_chars += _size(block)
    return head + kept + tail, []


def _paginate(ref: str, blocks: Blocks) -> list[Blocks]:
    pages: list[Blocks] = []
    current: Blocks = []
    chars = 0
    for block in blocks:
        if current and (len(current) + 1 >= MESSAGE_BLOCKS_MAX or chars + _size(block) > MESSAGE_TEXT_BUDGET):
            pages.append(current)
            current, chars = [], 0
        current.append(block)
        chars += _size(block)
    if current:
        pages.append(current)
    total = len(pages)
    return [[{"type": "context", "elements": [{"type": "mrkdwn", "text": continuation_text(ref, n, total)}]}, *page] for n, page in enumerate(pages, 1)]


def continuation_text(ref: str, part: int, total: int) -> str:
    return f"{ref}, continued ({part}/{total})"
