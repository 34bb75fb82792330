"""All configuration in one typed object, read from the environment and `.env`.

Every name here is documented in `.env.example`. A missing or malformed value stops start-up with
one line that names it and says what to do (see `SettingsError`), never a traceback.
"""

from __future__ import annotations

import re
from pathlib import Path

from pydantic import Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from bot.domain.brief import Destination, Severity
from bot.domain.cadence import Cadence, DurationError, parse_interval, parse_range
from bot.domain.complete_brief import PostNow, parse_reminders
from bot.domain.product_areas import ProductAreasError, parse_areas
from bot.domain.quantities import CURRENCIES
from bot.domain.tickets import TemplateError, TicketSystem, default_templates, parse_templates

CHANNEL_ID = re.compile(r"^[CG][A-Z0-9]{6,}$")
EMBEDDINGS_CHOICES = ("auto", "wordllama", "http", "none")

# What to do about each setting when it is missing or wrong, in the admin's words.
_HELP = {
    "SLACK_BOT_TOKEN": "set it to the Bot User OAuth Token (xoxb-…) from your app's OAuth & Permissions page",
    "SLACK_SIGNING_SECRET": "set it to the Signing Secret from your app's Basic Information page",
    "SLACK_APP_TOKEN": "create an app-level token with connections:write (Basic Information → App-Level Tokens) and set it (xapp-…), or run with --http",
    "SLACK_API_URL": "leave it unset for Slack, or give a URL such as https://slack.com/api/",
    "DATABASE_URL": "use sqlite:///path/to/file.db or postgresql+psycopg://user:password@host:5432/dbname",
    "ESCALATION_DEFAULT_CURRENCY": "use a three-letter ISO currency code such as USD, EUR or GBP",
    "ESCALATION_PRODUCT_AREAS": 'list the areas separated by commas, such as Billing,Mobile app,SSO (at most 50, each at most 40 characters; "Other" is added by the form)',
    "LOG_LEVEL": "use DEBUG, INFO, WARNING or ERROR",
    "PORT": "use a port number between 1 and 65535",
    "ESCALATION_SCHEDULER_TICK": "use a number of seconds between 1 and 3600 (default 30)",
    "ESCALATION_ACK_EMOJI": "use an emoji name such as eyes (without colons)",
    "ESCALATION_L2_USERGROUP": "use the user group's ID (like S0123ABCDEF, not @name): in Slack, People → User groups → the group → copy its ID",
    "ESCALATION_ENFORCE_TIERS": "use true or false",
    "ESCALATION_FIXED_EMOJI": "use an emoji name such as white_check_mark (without colons)",
    "ESCALATION_ADMINS": "use Slack user IDs separated by commas, like U0123ABCDEF,U0456GHIJKL (profile → ⋮ → Copy member ID)",
    "ESCALATION_DIGEST_TZ": "use an IANA time zone name such as UTC, Europe/Paris or America/New_York",
    "ESCALATION_DIGEST_ENABLED": "use true or false",
    "ESCALATION_TICKET_URL_TEMPLATE": "use zendesk=https://acme.zendesk.com/agent/tickets/{id},jira=https://acme.atlassian.net/browse/{key}",
    "ZENDESK_URL": "use your Zendesk address such as https://acme.zendesk.com, with ZENDESK_EMAIL and ZENDESK_API_TOKEN",
    "JIRA_BASE_URL": "use your Jira site such as https://acme.atlassian.net, with JIRA_EMAIL and JIRA_API_TOKEN",
    "ESCALATION_WEBHOOK_URL": "use an http(s) URL, with ESCALATION_WEBHOOK_SECRET (a long random string) to sign each request",
    "JIRA_ORGANIZATION_FIELD": "use the custom field id of Jira Service Management's Organizations field, such as customfield_10002",
    "ESCALATION_POST_INTERVAL": "use a number of seconds between 0 and 10 (default 1)",
    "ESCALATION_POST_NOW_SEVERITIES": "list severities separated by commas: critical, or critical,high (empty: never offered)",
    "ESCALATION_COMPLETE_REMINDERS": "use increasing minutes after the post, separated by commas, such as 15,30 (the last is the time to complete it)",
    "ESCALATION_DRAFT_DAYS": "use a whole number of days between 1 and 365 (default 7)",
    "SLACK_CLIENT_ID": "copy the Client ID from your app's Basic Information page (with SLACK_CLIENT_SECRET and SLACK_STATE_SECRET)",
    "ESCALATION_EMBEDDINGS": "use auto, wordllama, http or none",
    "ESCALATION_EMBEDDINGS_URL": "use the API's base URL, such as https://api.openai.com/v1 or http://localhost:11434/v1 (the bot posts to …/embeddings)",
    "ESCALATION_EMBEDDINGS_TIMEOUT": "use a number of seconds above 0 and at most 60 (default 3)",
}
_DURATION_HELP = "use a duration such as 45s, 90m, 2h, 1d or 1bd (business days)"
_RANGE_HELP = "use a duration or a range such as 2h-4h or 1bd-2bd (business days)"
_CHANNEL_HELP = (
    "set it to the channel ID (like C0123ABCDEF, not #name): open the channel, click its name, and copy the Channel ID at the bottom of the About tab"
)


class SettingsError(Exception):
    """One line for the admin: which setting, what is wrong, what to do."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore", case_sensitive=False)

    slack_bot_token: str | None = Field(default=None, validation_alias="SLACK_BOT_TOKEN")  # required unless OAuth is on
    slack_signing_secret: str | None = Field(default=None, validation_alias="SLACK_SIGNING_SECRET")
    slack_app_token: str | None = Field(default=None, validation_alias="SLACK_APP_TOKEN")
    slack_api_url: str = Field(default="https://slack.com/api/", validation_alias="SLACK_API_URL")
    database_url: str = Field(default="sqlite:///escalation-brief.db", validation_alias="DATABASE_URL")

    channel_support_l2: str = Field(validation_alias="ESCALATION_CHANNEL_SUPPORT_L2")
    channel_engineering: str = Field(validation_alias="ESCALATION_CHANNEL_ENGINEERING")
    channel_product: str = Field(validation_alias="ESCALATION_CHANNEL_PRODUCT")
    channel_security: str = Field(validation_alias="ESCALATION_CHANNEL_SECURITY")
    channel_leadership: str = Field(validation_alias="ESCALATION_CHANNEL_LEADERSHIP")

    default_currency: str = Field(default="USD", validation_alias="ESCALATION_DEFAULT_CURRENCY")
    # The brief form's product-area select (bot.domain.product_areas): comma-separated; empty: no such field.
    product_areas_setting: str = Field(default="", validation_alias="ESCALATION_PRODUCT_AREAS")

    # Follow-through cadence by severity (the method's table); durations like 45s, 90m, 2h, 1d, 1bd.
    checkin_critical: str = Field(default="2h", validation_alias="ESCALATION_CHECKIN_CRITICAL")
    checkin_high: str = Field(default="4h", validation_alias="ESCALATION_CHECKIN_HIGH")
    checkin_medium: str = Field(default="1d", validation_alias="ESCALATION_CHECKIN_MEDIUM")
    customer_update_critical: str = Field(default="2h-4h", validation_alias="ESCALATION_CUSTOMER_UPDATE_CRITICAL")
    customer_update_high: str = Field(default="4h-8h", validation_alias="ESCALATION_CUSTOMER_UPDATE_HIGH")
    customer_update_medium: str = Field(default="1bd-2bd", validation_alias="ESCALATION_CUSTOMER_UPDATE_MEDIUM")
    ack_window_critical: str = Field(default="15m", validation_alias="ESCALATION_ACK_WINDOW_CRITICAL")
    ack_window_high: str = Field(default="1h", validation_alias="ESCALATION_ACK_WINDOW_HIGH")
    ack_window_medium: str = Field(default="1bd", validation_alias="ESCALATION_ACK_WINDOW_MEDIUM")
    scheduler_tick: int = Field(default=30, ge=1, le=3600, validation_alias="ESCALATION_SCHEDULER_TICK")
    ack_emoji: str = Field(default="eyes", validation_alias="ESCALATION_ACK_EMOJI")
    l2_usergroup: str | None = Field(default=None, validation_alias="ESCALATION_L2_USERGROUP")
    enforce_tiers: bool = Field(default=True, validation_alias="ESCALATION_ENFORCE_TIERS")
    fixed_emoji: str = Field(default="white_check_mark", validation_alias="ESCALATION_FIXED_EMOJI")
    # Who may act on any brief besides its agent, receiving owner and destination channel's members.
    escalation_admins: str = Field(default="", validation_alias="ESCALATION_ADMINS")
    # *Post now, complete within 30 min* (bot.domain.complete_brief): the severities that offer it, and
    # the agent's reminders in minutes after the post (the last one: the time to complete the brief).
    post_now_severities: str = Field(default="critical", validation_alias="ESCALATION_POST_NOW_SEVERITIES")
    complete_reminders: str = Field(default="15,30", validation_alias="ESCALATION_COMPLETE_REMINDERS")
    # Weekly digest to the leadership channel, Monday 09:00 in this zone (bot.usecases.digest).
    digest_tz: str = Field(default="UTC", validation_alias="ESCALATION_DIGEST_TZ")
    digest_enabled: bool = Field(default=True, validation_alias="ESCALATION_DIGEST_ENABLED")
    # Ticketing (bot/ticketing): each system is on when its URL, email and token are all set.
    ticket_url_template: str | None = Field(default=None, validation_alias="ESCALATION_TICKET_URL_TEMPLATE")
    zendesk_url: str | None = Field(default=None, validation_alias="ZENDESK_URL")
    zendesk_email: str | None = Field(default=None, validation_alias="ZENDESK_EMAIL")
    zendesk_api_token: str | None = Field(default=None, validation_alias="ZENDESK_API_TOKEN")
    jira_base_url: str | None = Field(default=None, validation_alias="JIRA_BASE_URL")
    jira_email: str | None = Field(default=None, validation_alias="JIRA_EMAIL")
    jira_api_token: str | None = Field(default=None, validation_alias="JIRA_API_TOKEN")
    jira_organization_field: str | None = Field(default=None, validation_alias="JIRA_ORGANIZATION_FIELD")
    webhook_url: str | None = Field(default=None, validation_alias="ESCALATION_WEBHOOK_URL")
    webhook_secret: str | None = Field(default=None, validation_alias="ESCALATION_WEBHOOK_SECRET")
    # Off: ticket notes and webhook calls about a security brief carry its ID, severity, status and
    # Slack link only. On: the same details as any other brief (summary, typed text, user IDs).
    security_details_outside_slack: bool = Field(default=False, validation_alias="ESCALATION_SECURITY_DETAILS_OUTSIDE_SLACK")
    # Seconds between two posts to one channel (Slack allows about one a second); 0 turns pacing off.
    post_interval: float = Field(default=1.0, ge=0, le=10, validation_alias="ESCALATION_POST_INTERVAL")
    # HTTP mode: processes that store and post briefs beside the one that answers Slack (0: on its threads).
    brief_processes: int = Field(default=0, ge=0, le=16, validation_alias="ESCALATION_BRIEF_PROCESSES")
    # Days a closed brief form's draft is kept for its agent (bot.usecases.drafts).
    draft_days: int = Field(default=7, ge=1, le=365, validation_alias="ESCALATION_DRAFT_DAYS")
    # Pattern matching's semantic signal (bot/embeddings): auto, wordllama, http or none (lexical only).
    embeddings: str = Field(default="auto", validation_alias="ESCALATION_EMBEDDINGS")
    embeddings_url: str | None = Field(default=None, validation_alias="ESCALATION_EMBEDDINGS_URL")
    embeddings_model: str | None = Field(default=None, validation_alias="ESCALATION_EMBEDDINGS_MODEL")
    embeddings_key: str | None = Field(default=None, validation_alias="ESCALATION_EMBEDDINGS_KEY")
    embeddings_timeout: float = Field(default=3.0, gt=0, le=60, validation_alias="ESCALATION_EMBEDDINGS_TIMEOUT")
    log_level: str = Field(default="INFO", validation_alias="LOG_LEVEL")
    port: int = Field(default=3000, ge=1, le=65535, validation_alias="PORT")
    # Several workspaces: all three set turns Bolt's OAuth install flow on (bot.slack.oauth).
    slack_client_id: str | None = Field(default=None, validation_alias="SLACK_CLIENT_ID")
    slack_client_secret: str | None = Field(default=None, validation_alias="SLACK_CLIENT_SECRET")
    slack_state_secret: str | None = Field(default=None, validation_alias="SLACK_STATE_SECRET")

    @field_validator("slack_bot_token")
    @classmethod
    def _bot_token(cls, v: str | None) -> str | None:
        v = (v or "").strip() or None
        if v is not None and not v.startswith("xoxb-"):
            raise ValueError("must be a bot token starting with xoxb-")
        return v

    @field_validator("slack_app_token")
    @classmethod
    def _app_token(cls, v: str | None) -> str | None:
        v = (v or "").strip() or None
        if v is not None and not v.startswith("xapp-"):
            raise ValueError("must be an app-level token starting with xapp-")
        return v

    @field_validator("slack_signing_secret")
    @classmethod
    def _secret(cls, v: str | None) -> str | None:
        v = (v or "").strip() or None
        if v is not None and not re.fullmatch(r"[0-9a-fA-F]{16,}", v):
            raise ValueError("does not look like a signing secret (a long hexadecimal string)")
        return v

    @field_validator("slack_client_id", "slack_client_secret", "slack_state_secret")
    @classmethod
    def _oauth_value(cls, v: str | None) -> str | None:
        return (v or "").strip() or None

    @property
    def oauth(self) -> bool:
        """Several workspaces: installs through Slack's OAuth flow, a bot token per workspace."""
        return bool(self.slack_client_id and self.slack_client_secret and self.slack_state_secret)

    @field_validator("slack_api_url")
    @classmethod
    def _api_url(cls, v: str) -> str:
        v = v.strip()
        if not re.match(r"^https?://[^\s/]+", v):
            raise ValueError("must be an http(s) URL")
        return v if v.endswith("/") else v + "/"

    @field_validator("database_url")
    @classmethod
    def _database_url(cls, v: str) -> str:
        v = v.strip()
        # Hosting providers hand out postgres:// URLs; SQLAlchemy needs the driver named.
        for prefix in ("postgres://", "postgresql://"):
            if v.startswith(prefix):
                v = "postgresql+psycopg://" + v[len(prefix) :]
        if not (v.startswith("sqlite:///") or v.startswith("postgresql+psycopg://")):
            raise ValueError("must start with sqlite:/// or postgresql+psycopg://")
        return v

    @field_validator("channel_support_l2", "channel_engineering", "channel_product", "channel_security", "channel_leadership")
    @classmethod
    def _channel(cls, v: str) -> str:
        v = v.strip()
        if not CHANNEL_ID.match(v):
            raise ValueError(f"{v!r} is not a channel ID")
        return v

    @field_validator(
        "checkin_critical",
        "checkin_high",
        "checkin_medium",
        "ack_window_critical",
        "ack_window_high",
        "ack_window_medium",
        "customer_update_critical",
        "customer_update_high",
        "customer_update_medium",
    )
    @classmethod
    def _duration(cls, v: str, info) -> str:
        parse = parse_range if info.field_name.startswith("customer_update_") else parse_interval
        try:
            parse(v)
        except DurationError as exc:
            raise ValueError(str(exc)) from None
        return v.strip()

    @field_validator("l2_usergroup")
    @classmethod
    def _usergroup(cls, v: str | None) -> str | None:
        v = (v or "").strip() or None
        if v is not None and not re.fullmatch(r"S[A-Z0-9]{6,}", v):
            raise ValueError(f"{v!r} is not a user group ID")
        return v

    @field_validator("escalation_admins")
    @classmethod
    def _admins(cls, v: str | None) -> str:
        ids = [part.strip() for part in (v or "").split(",") if part.strip()]
        bad = [i for i in ids if not re.fullmatch(r"[UW][A-Z0-9]{6,}", i)]
        if bad:
            raise ValueError(f"{bad[0]!r} is not a user ID")
        return ",".join(ids)

    @property
    def admins(self) -> frozenset[str]:
        return frozenset(i for i in self.escalation_admins.split(",") if i)

    @field_validator("ack_emoji", "fixed_emoji")
    @classmethod
    def _emoji(cls, v: str) -> str:
        v = v.strip().strip(":")
        if not re.fullmatch(r"[a-z0-9_+\-']+", v):
            raise ValueError(f"{v!r} is not an emoji name")
        return v

    @field_validator("product_areas_setting")
    @classmethod
    def _product_areas(cls, v: str | None) -> str:
        try:
            return ",".join(parse_areas(v))
        except ProductAreasError as exc:
            raise ValueError(str(exc)) from None

    @property
    def product_areas(self) -> tuple[str, ...]:
        """The configured areas, in order ("Other" is not among them: the form adds it)."""
        return parse_areas(self.product_areas_setting)

    @field_validator("post_now_severities")
    @classmethod
    def _post_now_severities(cls, v: str | None) -> str:
        names = [n.strip().lower() for n in (v or "").split(",") if n.strip()]
        try:
            return ",".join(Severity(n).value for n in names)
        except ValueError:
            raise ValueError(f"{v!r} names a severity other than critical, high or medium") from None

    @field_validator("complete_reminders")
    @classmethod
    def _complete_reminders(cls, v: str) -> str:
        parse_reminders(v)
        return v

    @property
    def post_now(self) -> PostNow:
        severities = frozenset(Severity(n) for n in self.post_now_severities.split(",") if n)
        return PostNow(severities=severities, reminders=parse_reminders(self.complete_reminders))

    @field_validator("default_currency")
    @classmethod
    def _currency(cls, v: str) -> str:
        v = v.strip().upper()
        if v not in CURRENCIES:
            raise ValueError(f"{v!r} is not a currency code")
        return v

    @field_validator("digest_tz")
    @classmethod
    def _digest_tz(cls, v: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        v = v.strip() or "UTC"
        try:
            ZoneInfo(v)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"{v!r} is not a time zone") from None
        return v

    @field_validator("log_level")
    @classmethod
    def _log_level(cls, v: str) -> str:
        v = v.strip().upper()
        if v not in {"DEBUG", "INFO", "WARNING", "ERROR"}:
            raise ValueError(f"{v!r} is not a log level")
        return v

    @field_validator("zendesk_url", "jira_base_url", "webhook_url")
    @classmethod
    def _http_url(cls, v: str | None) -> str | None:
        v = (v or "").strip() or None
        if v is not None and not re.match(r"^https?://[^\s/]+", v):
            raise ValueError("must be an http(s) URL")
        return v.rstrip("/") if v else None

    @field_validator("zendesk_email", "zendesk_api_token", "jira_email", "jira_api_token", "webhook_secret", "ticket_url_template", "jira_organization_field")
    @classmethod
    def _optional_text(cls, v: str | None) -> str | None:
        return (v or "").strip() or None

    @field_validator("ticket_url_template")
    @classmethod
    def _ticket_template(cls, v: str | None) -> str | None:
        try:
            parse_templates(v)
        except TemplateError as exc:
            raise ValueError(str(exc)) from None
        return v

    @model_validator(mode="after")
    def _ticketing_complete(self) -> Settings:
        # Half a configuration is a mistake to report, not a silent "off".
        for url, email, token, names in (
            (self.zendesk_url, self.zendesk_email, self.zendesk_api_token, ("ZENDESK_URL", "ZENDESK_EMAIL", "ZENDESK_API_TOKEN")),
            (self.jira_base_url, self.jira_email, self.jira_api_token, ("JIRA_BASE_URL", "JIRA_EMAIL", "JIRA_API_TOKEN")),
            (self.webhook_url, self.webhook_url, self.webhook_secret, ("ESCALATION_WEBHOOK_URL", "", "ESCALATION_WEBHOOK_SECRET")),
        ):
            given = [bool(url), bool(email), bool(token)]
            if any(given) and not all(given):
                missing = [n for n, g in zip(names, given) if not g and n]
                raise ValueError(f"{missing[0]} is not set: set all of {', '.join(n for n in names if n)} (or none)")
        if self.webhook_secret and len(self.webhook_secret) < 16:
            raise ValueError("ESCALATION_WEBHOOK_SECRET is too short: use at least 16 random characters")
        return self

    @field_validator("embeddings")
    @classmethod
    def _embeddings(cls, v: str) -> str:
        v = (v or "").strip().lower() or "auto"
        if v not in EMBEDDINGS_CHOICES:
            raise ValueError(f"{v!r} is not a matcher choice")
        return v

    @field_validator("embeddings_url")
    @classmethod
    def _embeddings_url(cls, v: str | None) -> str | None:
        v = (v or "").strip() or None
        if v is not None and not re.match(r"^https?://[^\s/]+", v):
            raise ValueError("must be an http(s) URL")
        return v.rstrip("/") if v else None

    @field_validator("embeddings_model", "embeddings_key")
    @classmethod
    def _embeddings_text(cls, v: str | None) -> str | None:
        return (v or "").strip() or None

    @model_validator(mode="after")
    def _embeddings_complete(self) -> Settings:
        if self.embeddings_choice == "http":
            why = "ESCALATION_EMBEDDINGS=http" if self.embeddings == "http" else "ESCALATION_EMBEDDINGS_URL is set (so the matcher uses that endpoint)"
            if not self.embeddings_url:
                raise ValueError(f"{why} but ESCALATION_EMBEDDINGS_URL is not set: {_HELP['ESCALATION_EMBEDDINGS_URL']}")
            if not self.embeddings_model:
                raise ValueError(f"{why} but ESCALATION_EMBEDDINGS_MODEL is not set: name the endpoint's embeddings model, such as text-embedding-3-small")
        return self

    @property
    def embeddings_choice(self) -> str:
        """The matcher asked for: `auto` becomes `http` when an endpoint URL is set, else stays `auto`
        (wordllama when it can be imported, else none: bot.embeddings.factory)."""
        if self.embeddings == "auto" and self.embeddings_url:
            return "http"
        return self.embeddings

    @property
    def zendesk_enabled(self) -> bool:
        return bool(self.zendesk_url and self.zendesk_email and self.zendesk_api_token)

    @property
    def jira_enabled(self) -> bool:
        return bool(self.jira_base_url and self.jira_email and self.jira_api_token)

    @property
    def ticket_templates(self) -> dict[TicketSystem, str]:
        """Explicit templates win; a system left out links to its adapter's site when that is set."""
        return {**default_templates(self.zendesk_url, self.jira_base_url), **parse_templates(self.ticket_url_template)}

    @property
    def cadences(self) -> dict[Severity, Cadence]:
        """Check-in, customer-update and acknowledgement intervals per severity."""
        return {
            severity: Cadence(
                checkin=parse_interval(getattr(self, f"checkin_{severity.value}")),
                customer_update=parse_range(getattr(self, f"customer_update_{severity.value}")),
                ack_window=parse_interval(getattr(self, f"ack_window_{severity.value}")),
            )
            for severity in Severity
        }

    @property
    def channels(self) -> dict[Destination, str]:
        return {
            Destination.SUPPORT_L2: self.channel_support_l2,
            Destination.ENGINEERING: self.channel_engineering,
            Destination.PRODUCT: self.channel_product,
            Destination.SECURITY: self.channel_security,
            Destination.LEADERSHIP: self.channel_leadership,
        }


def env_name(field: str) -> str:
    alias = Settings.model_fields[field].validation_alias
    return str(alias) if alias else field.upper()


def load_settings(env_file: str | Path | None = ".env", **overrides) -> Settings:
    """Settings from the environment (and `env_file`), or SettingsError naming the first problem."""
    try:
        settings = Settings(_env_file=env_file, **overrides)
    except ValidationError as exc:
        raise SettingsError(describe(exc)) from None
    check_workspace_mode(settings)
    return settings


def check_workspace_mode(settings: Settings) -> None:
    """One workspace needs SLACK_BOT_TOKEN; several need all three OAuth settings, not some."""
    given = [
        name
        for name, v in (
            ("SLACK_CLIENT_ID", settings.slack_client_id),
            ("SLACK_CLIENT_SECRET", settings.slack_client_secret),
            ("SLACK_STATE_SECRET", settings.slack_state_secret),
        )
        if v
    ]
    if given and not settings.oauth:
        missing = ", ".join(n for n in ("SLACK_CLIENT_ID", "SLACK_CLIENT_SECRET", "SLACK_STATE_SECRET") if n not in given)
        raise SettingsError(
            f"{missing} not set: installing in several workspaces needs SLACK_CLIENT_ID, SLACK_CLIENT_SECRET and "
            "SLACK_STATE_SECRET together (or unset them all and use SLACK_BOT_TOKEN for one workspace)."
        )
    if not settings.oauth and not settings.slack_bot_token:
        raise SettingsError(f"SLACK_BOT_TOKEN is not set: {_HELP['SLACK_BOT_TOKEN']}.")


def describe(exc: ValidationError) -> str:
    first = exc.errors()[0]
    loc = first["loc"][0] if first["loc"] else ""
    name = str(loc) if str(loc).isupper() else env_name(str(loc)) if loc in Settings.model_fields else str(loc)
    if name.startswith("ESCALATION_CHANNEL_"):
        help_text = _CHANNEL_HELP
    elif name.startswith("ESCALATION_CUSTOMER_UPDATE_"):
        help_text = _RANGE_HELP
    elif name.startswith(("ESCALATION_CHECKIN_", "ESCALATION_ACK_WINDOW_")):
        help_text = _DURATION_HELP
    else:
        help_text = _HELP.get(name, "see .env.example")
    if first["type"] == "missing":
        return f"{name} is not set: {help_text}."
    reason = str(first.get("msg", "is invalid")).removeprefix("Value error, ")
    if not name:  # a rule across settings (ticketing): the message names them
        return reason + "."
    return f"{name} {reason}: {help_text}."


def require_for_mode(settings: Settings, *, http: bool) -> None:
    """The two serving modes need different secrets; say which one is missing before connecting."""
    if http and not settings.slack_signing_secret:
        raise SettingsError(f"SLACK_SIGNING_SECRET is not set: {_HELP['SLACK_SIGNING_SECRET']} (HTTP mode checks every request with it).")
    if not http and not settings.slack_app_token:
        raise SettingsError(f"SLACK_APP_TOKEN is not set: {_HELP['SLACK_APP_TOKEN']}.")
