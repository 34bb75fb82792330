"""`escalation-bot check`: is the token good, can the bot post in every destination channel, which pattern matcher is on?"""

from __future__ import annotations

from typing import TextIO

from bot.embeddings import EmbeddingsError
from bot.embeddings.factory import build_embedder, describe
from bot.settings import Settings, SettingsError, env_name
from bot.slack_api.gateway import SlackCallFailed, SlackGateway, make_web_client

_FIELD_OF = {
    "support_l2": "channel_support_l2",
    "engineering": "channel_engineering",
    "product": "channel_product",
    "security": "channel_security",
    "leadership": "channel_leadership",
}


def run_check(settings: Settings, *, out: TextIO, gateway: SlackGateway | None = None) -> int:
    """Print one line per check; exit 0 when all pass, 1 when any needs fixing, 2 when Slack refuses the token."""
    token = settings.slack_bot_token
    if gateway is None and not token:  # several workspaces: each has its own token
        print(
            "FAIL  token: several workspaces (OAuth) keep a token per workspace; to check one, run with SLACK_BOT_TOKEN set to its Bot User OAuth Token.",
            file=out,
        )
        return 2
    gateway = gateway or SlackGateway(make_web_client(token or "", settings.slack_api_url))
    try:
        identity = gateway.auth_test()
    except SlackCallFailed as exc:
        fix = {
            "invalid_auth": "SLACK_BOT_TOKEN is wrong or revoked: copy the Bot User OAuth Token again from OAuth & Permissions.",
            "not_authed": "SLACK_BOT_TOKEN is empty: set it.",
            "account_inactive": "the app was uninstalled or its workspace deactivated: reinstall it.",
            "connection_error": f"cannot reach Slack at {settings.slack_api_url}: check the network or SLACK_API_URL.",
        }.get(exc.error, f"Slack refused the token ({exc.error}).")
        print(f"FAIL  token: {fix}", file=out)
        return 2
    bot_user = identity.get("user_id", "")
    print(f"ok    token: bot @{identity.get('user', '?')} ({bot_user}) in workspace {identity.get('team', '?')} ({identity.get('team_id', '?')})", file=out)

    problems = 0
    for destination, channel_id in settings.channels.items():
        setting = env_name(_FIELD_OF[destination.value])
        label = f"{destination.label:<12}"
        status = gateway.channel_status(channel_id)
        if not status.exists:
            problems += 1
            if status.error == "missing_scope":
                fix = "the app lacks channels:read/groups:read: reinstall it from app_manifest.yml."
            else:
                fix = (
                    f"channel {channel_id} not found ({status.error}). If it is private, invite the bot first "
                    f"(/invite @{identity.get('user', 'Escalation Brief')}); otherwise fix {setting}."
                )
            print(f"FAIL  {label} {fix}", file=out)
        elif status.is_archived:
            problems += 1
            print(f"FAIL  {label} #{status.name} ({channel_id}) is archived: unarchive it or point {setting} at another channel.", file=out)
        elif not status.is_member:
            problems += 1
            print(
                f"FAIL  {label} #{status.name} ({channel_id}): the bot is not in it. In #{status.name}, type /invite @{identity.get('user', 'Escalation Brief')}",
                file=out,
            )
        else:
            kind = "private" if status.is_private else "public"
            print(f"ok    {label} #{status.name} ({channel_id}, {kind}): exists, bot is a member", file=out)
    problems += check_matcher(settings, out=out)
    print(f"{'All checks passed.' if not problems else f'{problems} problem(s) to fix.'}", file=out)
    return 0 if not problems else 1


PROBE_TEXT = "escalation-bot check: can this text be embedded?"


def check_matcher(settings: Settings, *, out: TextIO) -> int:
    """One line: which pattern matcher is active (ESCALATION_EMBEDDINGS), after embedding one short text
    with it (for an endpoint, a live request). Returns 1 when it cannot embed, else 0."""
    try:
        embedder = build_embedder(settings)
    except SettingsError as exc:
        print(f"FAIL  matcher: {exc}", file=out)
        return 1
    if embedder is None:
        why = "ESCALATION_EMBEDDINGS=none" if settings.embeddings_choice == "none" else "the wordllama package is not installed"
        print(f"ok    matcher: lexical only ({why})", file=out)
        return 0
    active = describe(embedder)
    try:
        vectors = embedder.embed([PROBE_TEXT])
        if vectors.ndim != 2 or vectors.shape[0] != 1 or vectors.shape[1] == 0:
            raise EmbeddingsError(f"it returned an array of shape {vectors.shape} for one text")
    except EmbeddingsError as exc:
        fix = (
            "fix ESCALATION_EMBEDDINGS_URL, _MODEL or _KEY, or set ESCALATION_EMBEDDINGS=none"
            if settings.embeddings_choice == "http"
            else "set ESCALATION_EMBEDDINGS=none"
        )
        print(f"FAIL  matcher: {active}: {exc}. Until this works, briefs are matched lexically; {fix}.", file=out)
        return 1
    except Exception as exc:  # noqa: BLE001 - a model that fails to load: one line for the admin, not a traceback
        print(f"FAIL  matcher: {active}: cannot embed ({type(exc).__name__}: {exc}); set ESCALATION_EMBEDDINGS=none to match lexically.", file=out)
        return 1
    answered = f": answered, {vectors.shape[1]} dims" if settings.embeddings_choice == "http" else ""
    print(f"ok    matcher: {active}{answered}", file=out)
    return 0
