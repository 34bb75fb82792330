"""Drafts: the brief form survives being closed.

The brief modal is opened with `notify_on_close`; its view_closed, and every re-render Slack reports
(the destination or the Engineering kind changed), keep what was typed as the agent's draft, one per
agent and workspace. `/escalate` and the shortcut then open a small first view (*Continue the draft
from 14:02* / *Start fresh*); the Home tab mentions it. A draft is deleted when its brief is filed
(bot.usecases.escalate.file_job), on *Start fresh*, and ESCALATION_DRAFT_DAYS after it was saved
(the tick, or the next read).

A draft is read only by its own agent, by the ids of the request (team and user), never by an id a
payload carries: security briefs' drafts included, nobody else ever sees one, and no list, search,
count, pattern or digest reads the table (bot/storage/drafts.py is its only reader).

Sync (through `Services.run_sync`): short sessions, and the one Slack call (the agent's time zone,
cached by the gateway) outside them.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from blocks.brief_modal import ModalContext, brief_modal
from blocks.drafts import GONE_NOTICE, draft_offer_view, draft_time, fields_from_state, home_draft_blocks, restored_form, restored_notice
from blocks.kit import Blocks, View
from bot.clock import Clock
from bot.slack_api.gateway import SlackGateway
from bot.storage import drafts
from bot.storage.db import Database

log = logging.getLogger(__name__)


class Drafts:
    def __init__(self, db: Database, gateway: SlackGateway, clock: Clock, *, keep: timedelta = timedelta(days=7), form_options: dict | None = None) -> None:
        self.form_options = form_options or {}  # brief_modal's settings, as the listeners render the form (post_now)
        self.db = db
        self.gateway = gateway
        self.clock = clock
        self.keep = keep  # ESCALATION_DRAFT_DAYS

    # --- keeping ---------------------------------------------------------------------------------

    def save(self, team_id: str, user_id: str, view_id: str, values: object, *, final: bool = False) -> bool:
        """Keep the brief modal's `view.state.values` as the agent's draft; False when nothing was
        kept (nothing typed, a state no form has, a view already submitted, or a re-render of a view
        already closed). `final`: the state the view closed with."""
        fields = fields_from_state(values)
        if not fields or not (team_id and user_id and view_id):
            if fields is None:
                log.warning("draft from %s not kept: the state is larger than any form's", user_id)
            return False
        tz = self.gateway.user_timezone(user_id)  # before the session: it may call Slack
        with self.db.session() as s:
            return drafts.save(s, team_id=team_id, user_id=user_id, view_id=view_id, fields=fields, tz=tz, now=self.clock.now(), final=final)

    def purge(self) -> int:
        """Delete the expired drafts (the tick); the number deleted."""
        with self.db.session() as s:
            return drafts.purge(s, saved_after=self.clock.now() - self.keep)

    # --- offering --------------------------------------------------------------------------------

    def _current(self, team_id: str, user_id: str, *, adopt: str | None = None) -> tuple[dict, str] | None:
        """The agent's live draft as (its stored fields, "14:02"), or None; `adopt`: it now lives in that view."""
        if not (team_id and user_id):
            return None
        now = self.clock.now()
        with self.db.session() as s:
            row = drafts.get(s, team_id, user_id, saved_after=now - self.keep)
            if row is None:
                return None
            if adopt:
                drafts.adopt(s, team_id, user_id, adopt)
            return dict(row.fields or {}), draft_time(row.saved_at, now=now, tz=row.tz)

    def offer_view(self, team_id: str, user_id: str, context: ModalContext) -> View | None:
        """What `/escalate` opens first when the agent has a draft (None: no draft, open the form)."""
        current = self._current(team_id, user_id)
        if current is None:
            return None
        fields, when = current
        _form, restored = restored_form(fields, context=context, **self.form_options)
        if not restored:  # nothing in it the form can show (a row from an older form): gone
            self.discard(team_id, user_id)
            return None
        return draft_offer_view(fields=restored, when=when, context=context)

    def resumed_form(self, team_id: str, user_id: str, view_id: str | None, context: ModalContext) -> View:
        """*Continue*: the brief modal with every field of the draft restored (a fresh form, saying
        so, when the draft is gone meanwhile). The draft now belongs to `view_id`."""
        current = self._current(team_id, user_id, adopt=view_id)
        if current is None:
            return brief_modal(context=context, notice=GONE_NOTICE, **self.form_options)
        fields, when = current
        form, _restored = restored_form(fields, context=context, notice=restored_notice(when), **self.form_options)
        return form

    def adopt(self, team_id: str, user_id: str, view_id: str) -> None:
        """The draft was reopened in a new modal (from the Home tab): filing that one deletes it."""
        with self.db.session() as s:
            drafts.adopt(s, team_id, user_id, view_id)

    def fresh_form(self, team_id: str, user_id: str, context: ModalContext) -> View:
        """*Start fresh*: the draft is deleted and the form opens as `/escalate` would have opened it."""
        self.discard(team_id, user_id)
        return brief_modal(context=context, **self.form_options)

    def discard(self, team_id: str, user_id: str) -> bool:
        with self.db.session() as s:
            return drafts.delete(s, team_id, user_id)

    def home_blocks(self, team_id: str, user_id: str, context: ModalContext | None = None) -> Blocks:
        """The Home tab's line about the viewer's own draft ([] when none)."""
        current = self._current(team_id, user_id)
        if current is None:
            return []
        fields, when = current
        _form, restored = restored_form(fields, context=context or ModalContext(), **self.form_options)
        return home_draft_blocks(fields=restored, when=when) if restored else []
