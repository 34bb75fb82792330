"""`escalation-bot check`: is the token good, and can the bot post in every destination channel?"""

from __future__ import annotations

from typing import TextIO

from bot.settings import Settings, env_name
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
    print(f"{'All checks passed.' if not problems else f'{problems} problem(s) to fix.'}", file=out)
    return 0 if not problems else 1
