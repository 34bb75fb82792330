"""Pattern links (issue 18, items 1 and 2): "possibly the same problem" suggestions people confirm or
reject, `/escalate link` and `unlink`, transitive groups, and a recurring-pattern flag that counts only
confirmed links and high-confidence automatic ones. Over Slack's protocol (signed requests, the
stand-in Web API); the flows run on SQLite and on PostgreSQL when it is configured.

Matching's scores are not what these tests are about (bot.storage.search is tuned elsewhere), so the
flows that need "suggested but not trusted" raise search.AUTO_LINK_SCORE out of reach: identical
symptoms are then suggested, and count only once a person confirms them.
"""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta

import pytest

from blocks import ids
from bot.domain import patterns as rules
from bot.domain.brief import Destination
from bot.domain.patterns import Link, LinkKind, Report
from bot.domain.validation import validate_draft
from bot.storage import escalations, pattern_links, running_log, search
from tests.conftest import AGENT, CHANNELS, TEAM
from tests.e2e import escalate, wait_until
from tests.factories import draft
from tests.support.slack_requests import block_actions

ENG = CHANNELS[Destination.ENGINEERING][0]
SEC = CHANNELS[Destination.SECURITY][0]
OTHER_AGENT = "U0OTHERAGENT"  # files briefs too, involved in none of AGENT's
OTHER_TEAM = "T0OTHER"
PREFIX = ids.BLOCK_PATTERN_SUGGESTION_PREFIX
EXPORT = dict(
    summary="CSV export times out for large reports",
    narrative="Exporting a report with more than 10,000 rows fails after 60 seconds with a 504 gateway timeout. Smaller exports work.",
    repro_observed="504 Gateway Timeout after 60 s on Export CSV",
)


# --- the rules (pure) ------------------------------------------------------------------------------


def _fetcher(links):
    return lambda ids_, automatic: [link for link in links if (link.low in ids_ or link.high in ids_) and (automatic or link.kind is LinkKind.CONFIRMED)]


def test_groups_are_transitive_over_confirmed_links_with_one_automatic_hop_at_most():
    links = [
        Link(1, 2, LinkKind.CONFIRMED),
        Link(2, 3, LinkKind.AUTOMATIC, 0.9),  # high confidence: trusted
        Link(3, 4, LinkKind.AUTOMATIC, 0.3),  # a suggestion, not evidence
        Link(1, 5, LinkKind.REJECTED, 0.95),  # a person said not related
        Link(6, 7, LinkKind.CONFIRMED),
    ]
    assert rules.group(1, _fetcher(links), 0.6) == {2: True, 3: False}
    assert rules.group(3, _fetcher(links), 0.6) == {1: False, 2: False}
    assert rules.group(5, _fetcher(links), 0.6) == {}
    assert rules.group(1, _fetcher(links[1:]), 0.6) == {}  # without 1–2 nothing joins 1
    # Automatic matches never chain: one automatic link at most on the way (confirmed ones are transitive).
    chain = [Link(1, 2, LinkKind.AUTOMATIC, 0.9), Link(2, 3, LinkKind.AUTOMATIC, 0.9), Link(3, 4, LinkKind.CONFIRMED)]
    assert rules.group(1, _fetcher(chain), 0.6) == {2: False}
    assert rules.group(2, _fetcher(chain), 0.6) == {1: False, 3: False, 4: False}
    assert rules.group(4, _fetcher(chain), 0.6) == {3: True, 2: False}


def test_independent_reports_are_distinct_customers_and_say_which_are_confirmed():
    t0 = datetime(2026, 1, 1, tzinfo=UTC)

    def rep(i, customers, severity="high", resolved=False):
        return Report(i, t0 + timedelta(days=i), customers, severity, resolved)

    this = rep(5, ("umbrella",), "critical")
    others = [rep(1, ("acme",), "medium", resolved=True), rep(2, ("acme",)), rep(3, ("globex",), "high"), rep(4, ())]
    facts = rules.group_facts(this, others, confirmed={1, 2})
    assert (facts.independent_reports, facts.confirmed, facts.automatic) == (4, 1, 2)  # acme once, globex, unnamed, umbrella
    assert facts.recurring and facts.resurfaced == (1,) and facts.trending_up
    assert not rules.trending_up([rep(1, (), "high"), rep(2, (), "medium"), rep(3, (), "critical")])
    assert rules.pair(7, 3) == (3, 7)
    with pytest.raises(ValueError):
        rules.pair(3, 3)


# --- helpers ---------------------------------------------------------------------------------------


def file(bot, customer: str, *, agent: str = AGENT, team: str = TEAM, destination: Destination = Destination.ENGINEERING, days_later: float = 1, **symptom):
    bot.clock.advance(timedelta(days=days_later))
    brief = validate_draft(draft(destination, now=bot.clock.now(), severity="high", affected_names=customer, **(symptom or EXPORT)), now=bot.clock.now())
    delivery = bot.services.escalations.escalate(team_id=team, agent_user_id=agent, brief=brief, source_channel_id="C0SUPPORT")
    assert delivery.posted
    return delivery


def row(bot, escalation_id: int):
    with bot.db.session() as s:
        return escalations.get_escalation(s, escalation_id)


def brief_text(bot, escalation_id: int) -> str:
    r = row(bot, escalation_id)
    return json.dumps(bot.slack.message(r.channel_id, r.message_ts)["blocks"])


def dm_of(bot, delivery, agent: str = AGENT):
    return [c for c in bot.slack.calls("chat.postMessage") if c.args["channel"] == agent and f"{delivery.ref} is posted" in c.args["text"]][-1]


def thread_offer(bot, delivery):
    """The suggestions reply in the brief's thread, or None."""
    found = [c for c in bot.slack.calls("chat.postMessage") if c.args.get("thread_ts") == delivery.ts and PREFIX in json.dumps(c.args.get("blocks"))]
    return found[-1] if found else None


def suggested(blocks) -> list[str]:
    """The refs suggested in these blocks, in order."""
    text = json.dumps(blocks)
    return [f"ESC-{n}" for n in _numbers(text)]


def _numbers(text: str) -> list[int]:
    import re

    return [int(n) for n in re.findall(r"\|ESC-(\d+)>\*", text)]


def click(bot, call, action_id: str, other_id: int, user: str = AGENT, *, team: str = TEAM):
    """Click a suggestion's button in a message the bot posted (a DM or the thread reply)."""
    message, channel = call.response["message"], call.response["channel"]
    block_id = f"{PREFIX}{other_id}"
    [value] = [e["value"] for b in message["blocks"] if b.get("block_id") == block_id for e in b["elements"] if e["action_id"] == action_id]
    body, ctype = block_actions(
        action_id,
        value=value,
        block_id=block_id,
        message=message,
        channel_id=channel,
        user_id=user,
        team_id=team,
        response_url=f"{bot.slack.hooks_url}{user}/x",
    )
    assert bot.sender.post(body, ctype).status_code == 200
    return body, ctype


def log_of(bot, escalation_id: int) -> list[tuple[str, str]]:
    with bot.db.session() as s:
        return [(e.kind, e.text) for e in running_log.log_entries(s, escalation_id)]


def link_of(bot, a: int, b: int):
    with bot.db.session() as s:
        return pattern_links.get(s, a, b)


def command(bot, text: str, user: str = AGENT) -> str:
    before = len(bot.slack.calls("response_url"))
    bot.sender.command(command="/escalate", text=text, user_id=user, team_id=TEAM, channel_id="C0SUPPORT")
    reply = wait_until(lambda: bot.slack.calls("response_url")[before:], what=f"the answer to /escalate {text}")[-1]
    assert reply.args["response_type"] == "ephemeral"
    return reply.args["text"]


@pytest.fixture
def untrusted(monkeypatch):
    """No automatic link is high-confidence: matches are suggestions until a person confirms them."""
    monkeypatch.setattr(search, "AUTO_LINK_SCORE", 1.01)


# --- suggestions when a brief is filed ---------------------------------------------------------------


def test_filing_suggests_earlier_briefs_of_other_customers_in_the_result_view_dm_and_thread(bot_any_db):
    bot = bot_any_db
    acme = file(bot, "Acme Corp")
    globex = file(bot, "Globex")
    file(bot, "Initech", summary="SSO login loops back to the sign-in page", narrative="Okta SAML users are redirected to the login page endlessly.")
    again = file(bot, "acme corp")  # the same customer again: never suggested to Acme's next brief
    _, response = escalate(bot, Destination.ENGINEERING, affected_names="Acme Corp", **EXPORT)
    assert response.status_code == 200
    result = wait_until(lambda: [c for c in bot.slack.calls("views.update") if "is posted in" in json.dumps(c.args["view"])], what="the result view")[-1]
    view_refs = suggested(result.args["view"]["blocks"])
    # Ranked, best first: the same symptom from Globex leads; Acme's own earlier briefs never appear.
    assert view_refs[0] == globex.ref and acme.ref not in view_refs and again.ref not in view_refs
    assert "Possibly the same problem" in json.dumps(result.args["view"])
    new = max(r for r in range(1, 10) if row(bot, r) is not None)
    dm = [c for c in bot.slack.calls("chat.postMessage") if c.args["channel"] == AGENT and f"ESC-{new} is posted" in c.args["text"]][-1]
    assert suggested(dm.args["blocks"]) == view_refs
    line = json.dumps(dm.args["blocks"])
    assert "Globex" in line and "ago" in line and "CSV export times out" in line and "Waiting for acknowledgement" in line
    r = row(bot, new)
    offer = [c for c in bot.slack.calls("chat.postMessage") if c.args.get("thread_ts") == r.message_ts and PREFIX in json.dumps(c.args.get("blocks"))]
    assert [suggested(c.args["blocks"]) for c in offer] == [view_refs]
    # An earlier brief from another customer that was filed for Globex's brief too: both Acme briefs are suggested there.
    assert suggested(dm_of(bot, globex).args["blocks"]) == [acme.ref]


def test_at_most_five_suggestions_best_first(bot):
    for i in range(7):
        file(bot, f"Customer {i}")
    last = file(bot, "Customer last")
    refs = suggested(dm_of(bot, last).args["blocks"])
    assert len(refs) == search.SUGGESTIONS == 5 and len(set(refs)) == 5


# --- Same problem: the flag counts it, the group's briefs are updated, notes go out -------------------


def test_same_problem_confirms_updates_the_group_and_notes_the_threads(bot_any_db, untrusted):
    bot = bot_any_db
    acme, globex = file(bot, "Acme Corp"), file(bot, "Globex")
    third = file(bot, "Initech")
    assert "Recurring pattern" not in brief_text(bot, third.escalation_id)  # nothing trusted yet
    # No note in the earlier threads: only trusted evidence (confirmed, or high-confidence) sends one.
    assert not [c for c in bot.slack.calls("chat.postMessage") if "reports the same symptom" in c.args["text"] or "as the same problem" in c.args["text"]]
    dm = dm_of(bot, third)
    assert set(suggested(dm.args["blocks"])) == {acme.ref, globex.ref}

    updates = len(bot.slack.calls("chat.update"))
    click(bot, dm, ids.ACTION_PATTERN_SAME, acme.escalation_id)
    wait_until(lambda: link_of(bot, acme.escalation_id, third.escalation_id).kind is LinkKind.CONFIRMED, what="the link")
    click(bot, dm, ids.ACTION_PATTERN_SAME, globex.escalation_id)
    wait_until(lambda: "Recurring pattern: 3 independent reports" in brief_text(bot, third.escalation_id), what="the flag")
    assert "2 confirmed" in brief_text(bot, third.escalation_id)
    # Every posted brief of the group shows it (chat.update), the earlier ones too.
    for earlier in (acme, globex):
        wait_until(lambda: "Recurring pattern: 3 independent reports" in brief_text(bot, earlier.escalation_id), what="the earlier briefs updated")  # noqa: B023
    assert {c.args["ts"] for c in bot.slack.calls("chat.update")[updates:]} >= {acme.ts, globex.ts, third.ts}

    # The notes: in the threads of the group, once the evidence is confirmed.
    def noted() -> set[str]:
        calls = bot.slack.calls("chat.postMessage")
        return {c.args["thread_ts"] for c in calls if c.args.get("thread_ts") and "as the same problem" in c.args["text"] and "3 independent" in c.args["text"]}

    wait_until(lambda: {acme.ts, globex.ts} <= noted(), what="the notes in both earlier threads")
    # The clicked suggestion reads as decided; both briefs' logs say who linked them.
    settled = [c for c in bot.slack.calls("response_url") if c.args.get("replace_original")]
    assert settled and "Same problem" in json.dumps(settled[-1].args["blocks"]) and f"<@{AGENT}>" in json.dumps(settled[-1].args["blocks"])
    assert ("pattern_linked", f"Same problem as {third.ref} (confirmed by <@{AGENT}>)") in log_of(bot, acme.escalation_id)
    assert ("pattern_linked", f"Same problem as {acme.ref} (confirmed by <@{AGENT}>)") in log_of(bot, third.escalation_id)


def test_the_flag_says_which_reports_are_confirmed_and_which_automatic(bot):
    file(bot, "Acme Corp")
    file(bot, "Globex")
    third = file(bot, "Initech")  # identical symptoms: high-confidence automatic links
    assert "Recurring pattern: 3 independent reports* (2 automatic)" in brief_text(bot, third.escalation_id)
    assert command(bot, "link ESC-1 ESC-3").startswith("ESC-1 and ESC-3 are linked as the same problem")
    wait_until(lambda: "(1 confirmed, 1 automatic)" in brief_text(bot, third.escalation_id), what="the flag re-rendered")


def test_a_confirmation_in_the_result_view_settles_it_there(bot, untrusted):
    earlier = file(bot, "Globex")
    escalate(bot, Destination.ENGINEERING, affected_names="Acme Corp", **EXPORT)
    result = wait_until(lambda: [c for c in bot.slack.calls("views.update") if "is posted in" in json.dumps(c.args["view"])], what="the result view")[-1]
    view = bot.slack.view(result.args["view_id"])
    block_id = f"{PREFIX}{earlier.escalation_id}"
    [value] = [e["value"] for b in view["blocks"] if b.get("block_id") == block_id for e in b["elements"] if e["action_id"] == ids.ACTION_PATTERN_SAME]
    before = len(bot.slack.calls("views.update"))
    bot.sender.action(ids.ACTION_PATTERN_SAME, value=value, block_id=block_id, view=view, user_id=AGENT, team_id=TEAM)
    update = bot.slack.wait_for("views.update", count=before + 1)[-1]
    text = json.dumps(update.args["view"])
    assert "Same problem" in text and ids.ACTION_PATTERN_SAME not in json.dumps([b for b in update.args["view"]["blocks"] if b.get("block_id") == block_id])
    assert link_of(bot, earlier.escalation_id, earlier.escalation_id + 1).kind is LinkKind.CONFIRMED


def test_the_receiving_team_confirms_from_the_thread(bot, untrusted):
    acme = file(bot, "Acme Corp")
    globex = file(bot, "Globex")
    offer = thread_offer(bot, globex)
    assert offer is not None and suggested(offer.args["blocks"]) == [acme.ref]
    bot.slack.channel(ENG).members.append("U0ENGINEER")
    click(bot, offer, ids.ACTION_PATTERN_SAME, acme.escalation_id, user="U0ENGINEER")
    wait_until(lambda: (link_of(bot, acme.escalation_id, globex.escalation_id) or Link(0, 1, LinkKind.AUTOMATIC)).kind is LinkKind.CONFIRMED, what="the link")


# --- Not related: remembered, never suggested again ------------------------------------------------------


def test_not_related_is_remembered_and_never_suggested_or_linked_again(bot_any_db):
    bot = bot_any_db
    acme = file(bot, "Acme Corp")
    globex = file(bot, "Globex")  # identical: linked automatically, high confidence
    assert link_of(bot, acme.escalation_id, globex.escalation_id).kind is LinkKind.AUTOMATIC
    click(bot, dm_of(bot, globex), ids.ACTION_PATTERN_NOT_RELATED, acme.escalation_id)
    wait_until(lambda: link_of(bot, acme.escalation_id, globex.escalation_id).kind is LinkKind.REJECTED, what="the rejection")
    assert ("pattern_unlinked", f"Not related to {globex.ref} (<@{AGENT}>)") in log_of(bot, acme.escalation_id)
    with bot.db.session() as s:
        # Matching finding the pair again changes nothing, and it is no longer a suggestion.
        assert pattern_links.add_automatic(s, globex.escalation_id, [(acme.escalation_id, 0.99)], at=bot.clock.now()) == 0
        assert [sg.ref for sg, *_ in bot.services.patterns.suggestions(s, globex.escalation_id)] == []
    assert link_of(bot, acme.escalation_id, globex.escalation_id).kind is LinkKind.REJECTED
    # A third report: the rejected pair does not join the group through it either way round.
    third = file(bot, "Initech")
    with bot.db.session() as s:
        pattern = bot.services.patterns.recorded(s, third.escalation_id)
    assert {r.ref for r in pattern.related} == {acme.ref, globex.ref}  # each linked to the third; the pair itself stays rejected
    assert link_of(bot, acme.escalation_id, globex.escalation_id).kind is LinkKind.REJECTED


# --- /escalate link and unlink -------------------------------------------------------------------------


def test_link_and_unlink_commands_and_their_bad_input(bot_any_db, untrusted):
    bot = bot_any_db
    acme = file(bot, "Acme Corp")
    file(bot, "Globex", summary="SSO login loops back to the sign-in page", narrative="Okta SAML users are redirected to the login page endlessly.")
    for n in range(3):  # another workspace's ESC-1..3: unknown here beyond this workspace's own numbers
        file(bot, f"Other {n}", team=OTHER_TEAM, agent="U0ELSEWHERE")
    assert command(bot, "link ESC-1 ESC-2") == "ESC-1 and ESC-2 are linked as the same problem. 2 independent reports so far."
    assert command(bot, "link esc-2 1") == "ESC-2 and ESC-1 are already linked as the same problem."
    assert command(bot, "link ESC-1 ESC-3") == "There is no ESC-3 in this workspace."  # ESC-3 exists only in another workspace
    assert command(bot, "link ESC-1 ESC-99") == "There is no ESC-99 in this workspace."
    assert command(bot, "link ESC-1 ESC-1").startswith("That is ESC-1 twice: name two different escalations.")
    assert command(bot, "link ESC-1").startswith("Name two escalations:")
    assert command(bot, "unlink ESC-1 foo").startswith("`foo` is not an escalation ID like ESC-12.")
    assert command(bot, "link").startswith("Name two escalations:")
    assert command(bot, "unlink ESC-1 ESC-2") == "ESC-1 and ESC-2 are not related: they will not be suggested or linked automatically again."
    assert link_of(bot, 1, 2).kind is LinkKind.REJECTED
    kinds = [k for k, _ in log_of(bot, acme.escalation_id)]
    assert kinds.count("pattern_linked") == 1 and kinds.count("pattern_unlinked") == 1
    # Words after "link" that are no ID are a summary: the brief form opens with them.
    opened = len(bot.slack.calls("views.open"))
    bot.sender.command(command="/escalate", text="link sharing is broken", user_id=AGENT, team_id=TEAM, channel_id="C0SUPPORT")
    bot.slack.wait_for("views.open", count=opened + 1)


def test_links_are_transitive(bot_any_db, untrusted):
    bot = bot_any_db
    a = file(bot, "Acme Corp")
    b = file(bot, "Globex", summary="Exports of big reports fail", narrative="Report export errors out after a minute.")
    c = file(bot, "Initech", summary="Download of the revenue report never finishes", narrative="The file download spins and gives up.")
    command(bot, f"link {a.ref} {b.ref}")
    assert command(bot, f"link {b.ref} {c.ref}").endswith("*Recurring pattern: 3 independent reports* (2 confirmed).")
    wait_until(lambda: "Recurring pattern: 3 independent reports" in brief_text(bot, a.escalation_id), what="a's flag")
    assert c.ref in brief_text(bot, a.escalation_id) and a.ref in brief_text(bot, c.escalation_id)  # never linked directly
    # Unlinking the middle splits the group; a is told it stands alone again.
    command(bot, f"unlink {b.ref} {c.ref}")
    wait_until(lambda: "Recurring pattern" not in brief_text(bot, a.escalation_id), what="a's flag gone")


def test_a_bystander_who_is_involved_in_neither_brief_is_refused(bot, untrusted):
    file(bot, "Acme Corp")
    file(bot, "Globex")
    told = command(bot, "link ESC-1 ESC-2", user="U0BYSTANDER")
    assert told.startswith(":no_entry: Only the escalating agent, the receiving owner, members of") and "link briefs to ESC-1" in told
    assert link_of(bot, 1, 2).kind is LinkKind.AUTOMATIC
    assert ("refused", "Refused: tried to link briefs to") in log_of(bot, 1)


# --- security briefs ---------------------------------------------------------------------------------------


SECRET = dict(
    summary="CSV export times out for large reports",
    narrative="Exporting a report with more than 10,000 rows fails after 60 seconds with a 504 gateway timeout. Smaller exports work.",
)


def test_a_security_brief_is_never_suggested_to_nor_linked_by_a_bystander(bot_any_db):
    bot = bot_any_db
    secret = file(bot, "Acme Corp", destination=Destination.SECURITY, **SECRET)
    # Someone not involved in the security brief files the same symptom: it is not suggested to them,
    # not offered in the Engineering thread, not counted on their brief.
    theirs = file(bot, "Globex", agent=OTHER_AGENT, **SECRET)
    assert secret.ref not in json.dumps(dm_of(bot, theirs, OTHER_AGENT).args["blocks"])
    offer = thread_offer(bot, theirs)
    assert offer is None or secret.ref not in json.dumps(offer.args["blocks"])
    assert secret.ref not in brief_text(bot, theirs.escalation_id)
    # The agent of the security brief is involved: it is suggested to them (their DM), still not in the Engineering thread.
    mine = file(bot, "Initech", **SECRET)
    assert secret.ref in suggested(dm_of(bot, mine).args["blocks"])
    offer = thread_offer(bot, mine)
    assert offer is None or secret.ref not in json.dumps(offer.args["blocks"])
    # The bystander cannot link it, by command or by a forged button: the answer is an unknown ID's.
    assert command(bot, f"link {theirs.ref} {secret.ref}", user=OTHER_AGENT) == command(bot, f"link {theirs.ref} ESC-999", user=OTHER_AGENT).replace(
        "ESC-999", secret.ref
    )
    assert command(bot, f"link {theirs.ref} {secret.ref}", user=OTHER_AGENT) == f"There is no {secret.ref} in this workspace."
    r = row(bot, theirs.escalation_id)
    before = len(bot.slack.calls("response_url"))
    body, ctype = block_actions(
        ids.ACTION_PATTERN_SAME,
        value=f"{theirs.escalation_id}:{secret.escalation_id}",
        message=bot.slack.message(r.channel_id, r.message_ts),
        channel_id=r.channel_id,
        user_id=OTHER_AGENT,
        team_id=TEAM,
        response_url=f"{bot.slack.hooks_url}{OTHER_AGENT}/x",
    )
    assert bot.sender.post(body, ctype).status_code == 200
    told = wait_until(lambda: bot.slack.calls("response_url")[before:], what="the answer")[-1]
    assert told.args["text"] == "That escalation does not exist in this workspace."
    link = link_of(bot, theirs.escalation_id, secret.escalation_id)
    assert link is None or link.kind is LinkKind.AUTOMATIC
    # The agent involved in both may link them; the ordinary brief's log and flag never name the security one.
    assert command(bot, f"link {mine.ref} {secret.ref}").startswith(f"{mine.ref} and {secret.ref} are linked")
    assert not [t for k, t in log_of(bot, mine.escalation_id) if secret.ref in t]
    assert ("pattern_linked", f"Same problem as {mine.ref} (confirmed by <@{AGENT}>)") in log_of(bot, secret.escalation_id)
    assert secret.ref not in brief_text(bot, mine.escalation_id)


# --- replay ----------------------------------------------------------------------------------------------


def test_a_replayed_click_has_one_effect(bot_any_db, untrusted):
    bot = bot_any_db
    acme, globex = file(bot, "Acme Corp"), file(bot, "Globex")
    body, ctype = click(bot, dm_of(bot, globex), ids.ACTION_PATTERN_SAME, acme.escalation_id)
    # The settled suggestion is the click's last effect (after the link, the updates and the notes).
    wait_until(lambda: [c for c in bot.slack.calls("response_url") if c.args.get("replace_original")], what="the first click's last effect")
    counts = {m: len(bot.slack.calls(m)) for m in ("chat.postMessage", "chat.update", "response_url")}
    logs = (log_of(bot, acme.escalation_id), log_of(bot, globex.escalation_id))
    for _ in range(2):
        assert bot.sender.post(body, ctype).status_code == 200
    time.sleep(0.5)
    assert {m: len(bot.slack.calls(m)) for m in counts} == counts
    assert (log_of(bot, acme.escalation_id), log_of(bot, globex.escalation_id)) == logs
    assert [k for k, _ in logs[0]].count("pattern_linked") == 1


def test_resurfaced_and_trending_up_rest_on_the_group_not_on_raw_scores(bot, untrusted):
    old = file(bot, "Acme Corp")
    with bot.db.session() as s:
        r = escalations.get_escalation(s, old.escalation_id)
        r.status, r.resolution = "resolved", "Raised the export worker timeout to 300 s"
        s.add(r)
    new = file(bot, "Globex")
    text = brief_text(bot, new.escalation_id)
    assert "Resurfaced" not in text and "Trending up" not in text  # a suggestion is no evidence
    command(bot, f"link {new.ref} {old.ref}")
    wait_until(lambda: "Resurfaced" in brief_text(bot, new.escalation_id), what="the flag")
    assert "Raised the export worker timeout" in brief_text(bot, new.escalation_id)
