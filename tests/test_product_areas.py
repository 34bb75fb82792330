"""The product-area field (issue 18, item 4) over Slack's protocol: the select shows the areas the
admin configured (ESCALATION_PRODUCT_AREAS) plus "Other"; the choice is stored in
escalation.product_area, shown on the posted brief, found by `/escalate search area:…`, and
counted by `/escalate stats`. SQLite and PostgreSQL (bot on `database_url`)."""

from __future__ import annotations

import json

import pytest
from sqlmodel import select

from blocks import ids
from bot.domain.brief import Destination
from bot.domain.product_areas import ProductAreasError, find_area, parse_areas, split_area_filter
from bot.storage.models import Escalation
from tests.conftest import AGENT, CHANNELS, TEAM, _run_bot, make_settings
from tests.e2e import choose, open_modal, posts_to, response_json, submit, wait_until
from tests.factories import draft
from tests.support import blockkit_limits
from tests.support.slack_requests import view_submission
from tests.test_triage_flow import open_triage, triage_values

AREAS = "Billing, Mobile app, SSO & SAML"


@pytest.fixture
def area_bot(fake_slack, database_url, clock):
    yield from _run_bot(fake_slack, database_url, clock, ESCALATION_PRODUCT_AREAS=AREAS)


def area_select(view: dict) -> dict | None:
    return next((b for b in view["blocks"] if b.get("block_id") == "product_area"), None)


def file_with_area(bot, area: str | None, destination: Destination = Destination.SUPPORT_L2, **overrides) -> Escalation:
    before = len(posts_to(bot, CHANNELS[destination][0]))
    view = choose(bot, open_modal(bot), "destination", destination.value)
    values = draft(destination, now=bot.clock.now(), product_area=area, **overrides)
    assert response_json(submit(bot, view, values))["response_action"] == "update"
    wait_until(lambda: len(posts_to(bot, CHANNELS[destination][0])) > before, what="the brief posted")
    # The modal shows the result last: only then is this brief's work done (and the next /escalate's
    # views.update is the next one counted).
    wait_until(lambda: (bot.slack.view(view["id"]) or {}).get("callback_id") == ids.VIEW_BRIEF_RESULT, what="the result shown")
    with bot.db.session() as session:
        return session.exec(select(Escalation).order_by(Escalation.id.desc())).first()  # type: ignore[union-attr]


def command_reply(bot, text: str) -> dict:
    before = len(bot.slack.calls("response_url"))
    response = bot.sender.command(command="/escalate", text=text, user_id=AGENT, team_id=TEAM, channel_id="C0SUPPORT")
    assert response.status_code == 200, response.text
    return wait_until(lambda: bot.slack.calls("response_url")[before:], what=f"/escalate {text}")[0].args


def test_the_form_offers_the_configured_areas_then_other_and_keeps_the_choice_across_re_renders(area_bot):
    view = open_modal(area_bot)
    select_block = area_select(view)
    assert select_block is not None and select_block["optional"] is True
    assert [o["value"] for o in select_block["element"]["options"]] == ["Billing", "Mobile app", "SSO & SAML", "Other"]
    order = [b.get("block_id") for b in view["blocks"]]
    assert order.index("product_area") == order.index("summary") + 1
    # Choosing a destination re-renders the form: the select is still there, with the choice made.
    view = choose(area_bot, view, "destination", "engineering", {"product_area": {"product_area": "Mobile app"}})
    assert area_select(view)["element"]["initial_option"]["value"] == "Mobile app"
    assert blockkit_limits.check_view(view) == []


def test_the_form_written_from_triage_offers_the_areas_too(area_bot):
    view = open_triage(area_bot)
    body, ctype = view_submission(view, triage_values(view, {"confirmed_defect", "core_blocked"}, "CSV export times out"), user_id=AGENT, team_id=TEAM)
    result = response_json(area_bot.sender.post(body, ctype))
    area_bot.sender.action(ids.ACTION_TRIAGE_WRITE, view={**result["view"], "id": view["id"]}, user_id=AGENT, team_id=TEAM)
    update = wait_until(lambda: [c for c in area_bot.slack.calls("views.update") if c.args["view"]["callback_id"] == ids.VIEW_BRIEF], what="brief")[-1]
    assert [o["value"] for o in area_select(update.args["view"])["element"]["options"]][-1] == "Other"


def test_the_form_opened_from_a_message_offers_the_areas_too(area_bot):
    area_bot.slack.seed_message("C0SUPPORT", "Invoices show another tenant's data", user="U0CUSTOMER", ts="1700000000.000200")
    response = area_bot.sender.shortcut(
        ids.SHORTCUT_ESCALATE_MESSAGE, "Invoices show another tenant's data", "1700000000.000200", "C0SUPPORT", user_id=AGENT, team_id=TEAM
    )
    assert response.status_code == 200
    view = wait_until(lambda: [c for c in area_bot.slack.calls("views.open") if c.args["view"]["callback_id"] == ids.VIEW_BRIEF], what="brief")[-1]
    assert area_select(view.args["view"]) is not None


def test_without_the_setting_the_form_has_no_area_field(bot):
    view = choose(bot, open_modal(bot), "destination", "product")
    assert area_select(view) is None


def test_the_choice_is_stored_and_shown_on_the_posted_brief(area_bot):
    row = file_with_area(area_bot, "SSO & SAML")
    assert row.product_area == "SSO & SAML" and row.brief["product_area"] == "SSO & SAML"
    post = posts_to(area_bot, CHANNELS[Destination.SUPPORT_L2][0])[-1]
    assert "Product area: SSO &amp; SAML" in json.dumps(post.args["blocks"], ensure_ascii=False)  # escaped for mrkdwn
    _ref, text = area_bot.services.escalations.export_text(row.id)
    assert "Product area: SSO & SAML" in text
    nothing = file_with_area(area_bot, None, summary="Invoices show the wrong tax rate")
    assert nothing.product_area is None and "Product area" not in json.dumps(posts_to(area_bot, CHANNELS[Destination.SUPPORT_L2][0])[-1].args["blocks"])


def test_stats_count_briefs_by_product_area(area_bot):
    for area in ("Billing", "Mobile app", "Billing", "Other", None):
        file_with_area(area_bot, area)
    args = command_reply(area_bot, "stats 7d")
    text = json.dumps(args["blocks"], ensure_ascii=False)
    assert "*By product area:* Billing 2 · Mobile app 1 · Other 1" in text
    assert blockkit_limits.check_message(args) == []


def test_search_shows_the_area_and_filters_by_it(area_bot):
    said = "Reported by the customer this morning; details in the ticket."  # the factory's narrative is about exports
    file_with_area(area_bot, "Billing", summary="Invoice export times out for big accounts", narrative=said)
    file_with_area(area_bot, "Mobile app", summary="Export from the mobile app times out", narrative=said)
    file_with_area(area_bot, "Mobile app", summary="Push notifications arrive twice on Android", narrative=said)

    everything = json.dumps(command_reply(area_bot, "search export times out")["blocks"], ensure_ascii=False)
    assert "ESC-1" in everything and "ESC-2" in everything and "· Billing" in everything and "· Mobile app" in everything

    mobile = json.dumps(command_reply(area_bot, 'search area:"mobile app" export')["blocks"], ensure_ascii=False)
    assert "ESC-2" in mobile and "ESC-1" not in mobile and "· Billing" not in mobile

    listed = json.dumps(command_reply(area_bot, "search area:mobile-app")["blocks"], ensure_ascii=False)
    assert "ESC-2" in listed and "ESC-3" in listed and "ESC-1" not in listed

    assert "No past escalations" in command_reply(area_bot, "search area:Payroll export")["text"]


def test_the_setting_is_read_and_checked(fake_slack, tmp_path):
    url = f"sqlite:///{tmp_path / 'x.db'}"
    assert make_settings(fake_slack, url, ESCALATION_PRODUCT_AREAS=" Billing ,billing, Other,Mobile  app,").product_areas == ("Billing", "Mobile app")
    assert make_settings(fake_slack, url).product_areas == ()
    with pytest.raises(ProductAreasError):
        parse_areas("Billing," + "x" * 41)
    with pytest.raises(ProductAreasError):
        parse_areas(",".join(f"Area {i}" for i in range(51)))


def test_area_filters_are_read_from_the_search_words():
    assert split_area_filter("area:Billing export timeout") == ("Billing", "export timeout")
    assert split_area_filter('export area:"Mobile app" push') == ("Mobile app", "export push")
    assert split_area_filter("export timeout") == (None, "export timeout")
    assert find_area("sso-&-saml", ("SSO & SAML",)) == "SSO & SAML" and find_area("other", ()) is None
