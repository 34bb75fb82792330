"""Workspaces Slack no longer serves the app in: their reminders and deliveries wait, unsent.

How the bot learns a workspace is gone:

* OAuth (several workspaces): Slack's `app_uninstalled` and `tokens_revoked` events. Bolt's
  listeners delete the installation, and the installation store pauses the workspace in the same
  transaction (bot.slack_api.installations); the OAuth callback's new installation resumes it.
* Either mode: a Slack call for the workspace answers that its token no longer works
  (bot.slack_api.backoff.WORKSPACE_GONE: invalid_auth, token_revoked, account_inactive…). The tick
  pauses it at the first such answer, so it costs one failed call, not one per due reminder per tick.

A workspace paused by an error is probed with `auth.test` (its own token) every PROBE_EVERY, and by
the first tick of every process: with one bot token (SLACK_BOT_TOKEN), a new token means a restart,
so reminders resume at once after it. A probe that succeeds resumes the workspace; its reminders
then fire once each (a catch-up) and go on a full interval later (bot.domain.follow_through).
"""

from __future__ import annotations

import logging
from datetime import timedelta

from bot.clock import Clock
from bot.slack_api.gateway import SlackCallFailed, SlackGateway
from bot.slack_api.workspace import serving_team
from bot.storage import workspaces
from bot.storage.db import Database

log = logging.getLogger(__name__)

PROBE_EVERY = timedelta(minutes=15)  # one auth.test per paused workspace per quarter hour, across replicas


class Workspaces:
    def __init__(self, db: Database, gateway: SlackGateway, clock: Clock, *, probe_every: timedelta = PROBE_EVERY) -> None:
        self.db = db
        self.gateway = gateway
        self.clock = clock
        self.probe_every = probe_every
        self._started = False  # this process has not probed yet: its first tick asks about every paused workspace

    def pause(self, team_id: str, error: str) -> bool:
        """Slack answered `error` (a WORKSPACE_GONE one) for this workspace: hold its work back. False
        when the refused token was only this process's stale copy (a reinstall it had not seen): the
        next call uses the new one."""
        if self.gateway.token_renewed(team_id):
            log.info("workspace %s: Slack refused an old token (%s); a newer installation is stored", team_id, error)
            return False
        now = self.clock.now()
        with self.db.session() as session:
            workspaces.pause(session, team_id, reason=error, at=now, probe_at=now + self.probe_every)
        log.warning("workspace %s paused: Slack answered %s; its reminders and deliveries wait until it is back", team_id, error)
        return True

    def probe(self) -> list[str]:
        """Ask Slack about the paused workspaces whose probe is due; the ones resumed."""
        now = self.clock.now()
        with self.db.session() as session:
            due = workspaces.claim_probes(session, now=now, next_at=now + self.probe_every, all_due=not self._started)
        self._started = True
        resumed = []
        for team_id in due:
            try:
                with serving_team(team_id):
                    self.gateway.auth_test()
            except SlackCallFailed as exc:
                log.info("workspace %s still paused: auth.test answered %s", team_id, exc.error)
                continue
            with self.db.session() as session:
                if workspaces.resume(session, team_id):
                    resumed.append(team_id)
                    log.info("workspace %s resumed: its token works again", team_id)
        return resumed
