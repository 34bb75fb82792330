"""What FakeSlack records and serves: calls, faults, channels, users, Slack errors, and small
value helpers shared by the core and the API families."""

from __future__ import annotations

import copy
import hashlib
from dataclasses import dataclass, field
from typing import Any

DEFAULT_SCOPES = (
    "app_mentions:read,channels:history,channels:read,chat:write,chat:write.public,"
    "commands,groups:history,groups:read,im:history,im:read,im:write,reactions:write,users:read"
)


# --------------------------------------------------------------------------
# Records
# --------------------------------------------------------------------------


@dataclass
class Call:
    """One request received by the fake."""

    method: str
    args: dict[str, Any]
    headers: dict[str, str]
    received_at: float  # time.monotonic()
    http_method: str = "POST"
    content_type: str = ""
    query: dict[str, str] = field(default_factory=dict)  # the query-string part of args
    raw_body: bytes = b""
    token: str | None = None
    status: int | None = None  # HTTP status answered (None: not answered / dropped)
    response: dict[str, Any] | None = None  # JSON body answered, if JSON
    fault: Fault | None = None
    violations: list[str] = field(default_factory=list)
    dropped: bool = False  # the fake closed the connection without answering (a disconnect or timeout fault)
    path: str = ""  # the URL path (response_url posts: whose answer it is, when a test put the user in the path)

    def header(self, name: str, default: str | None = None) -> str | None:
        low = name.lower()
        for k, v in self.headers.items():
            if k.lower() == low:
                return v
        return default

    @property
    def ok(self) -> bool | None:
        return None if self.response is None else bool(self.response.get("ok"))


@dataclass
class Fault:
    """A fault to answer one call with. See FakeSlack.fail()."""

    error: str | None = None
    status: int = 200
    delay: float = 0.0
    headers: dict[str, str] | None = None
    body: Any = None  # str/bytes sent raw; dict sent as JSON
    disconnect: bool = False  # close the socket without answering
    accept_first: bool = False  # with delay: carry the call out at once, answer after the delay (a timeout after Slack accepted)
    match: Any = None  # a predicate on the call's args: the fault waits for a call it matches (None: the next call)

    @property
    def answers(self) -> bool:
        """Whether the fault replaces the normal answer (else it only delays it)."""
        return self.disconnect or self.error is not None or self.status != 200 or self.body is not None


@dataclass
class Channel:
    id: str
    name: str
    is_member: bool = True
    is_private: bool = False
    is_archived: bool = False
    is_im: bool = False
    user: str | None = None  # for DMs
    topic: str = ""
    purpose: str = ""
    members: list[str] = field(default_factory=list)  # conversations.members (the bot is not listed)

    def to_api(self) -> dict[str, Any]:
        if self.is_im:
            return {
                "id": self.id,
                "created": 1700000000,
                "is_im": True,
                "is_org_shared": False,
                "user": self.user,
                "is_user_deleted": False,
                "priority": 0,
            }
        return {
            "id": self.id,
            "name": self.name,
            "name_normalized": self.name,
            "is_channel": True,
            "is_group": False,
            "is_im": False,
            "is_mpim": False,
            "is_private": self.is_private,
            "is_archived": self.is_archived,
            "is_general": False,
            "is_shared": False,
            "is_ext_shared": False,
            "is_org_shared": False,
            "is_member": self.is_member,
            "created": 1700000000,
            "creator": "U0CREATOR",
            "unlinked": 0,
            "topic": {"value": self.topic, "creator": "", "last_set": 0},
            "purpose": {"value": self.purpose, "creator": "", "last_set": 0},
            "previous_names": [],
        }


@dataclass
class User:
    id: str
    name: str
    tz: str = "UTC"
    tz_offset: int = 0
    tz_label: str = "Coordinated Universal Time"
    real_name: str = ""
    display_name: str = ""
    email: str | None = None
    is_bot: bool = False
    deleted: bool = False
    team_id: str = "T0001"

    def to_api(self) -> dict[str, Any]:
        real = self.real_name or self.name
        profile = {
            "real_name": real,
            "real_name_normalized": real,
            "display_name": self.display_name,
            "display_name_normalized": self.display_name,
            "first_name": real.split(" ")[0],
            "last_name": " ".join(real.split(" ")[1:]),
            "title": "",
            "phone": "",
            "status_text": "",
            "status_emoji": "",
            "avatar_hash": "g0000000000",
            "image_48": "https://secure.gravatar.com/avatar/0.jpg?s=48",
            "image_72": "https://secure.gravatar.com/avatar/0.jpg?s=72",
            "team": self.team_id,
        }
        if self.email:
            profile["email"] = self.email
        return {
            "id": self.id,
            "team_id": self.team_id,
            "name": self.name,
            "deleted": self.deleted,
            "color": "9f69e7",
            "real_name": real,
            "tz": self.tz,
            "tz_label": self.tz_label,
            "tz_offset": self.tz_offset,
            "profile": profile,
            "is_admin": False,
            "is_owner": False,
            "is_primary_owner": False,
            "is_restricted": False,
            "is_ultra_restricted": False,
            "is_bot": self.is_bot,
            "is_app_user": False,
            "updated": 1700000000,
            "is_email_confirmed": True,
            "who_can_share_contact_card": "EVERYONE",
        }


class _ApiError(Exception):
    def __init__(self, error: str, status: int = 200, **extra: Any) -> None:
        super().__init__(error)
        self.error = error
        self.status = status
        self.extra = extra


# --------------------------------------------------------------------------
# Value helpers (used by the core and the API families)
# --------------------------------------------------------------------------


def _as_read(message: dict[str, Any], args: dict[str, Any]) -> dict[str, Any]:
    """A stored message as history/replies return it: metadata only with include_all_metadata."""
    m = copy.deepcopy(message)
    if not _truthy(args.get("include_all_metadata")):
        m.pop("metadata", None)
    return m


def _truthy(v: Any) -> bool:
    return v is True or (isinstance(v, str) and v.lower() in ("1", "true")) or v == 1


def _ts_key(ts: Any) -> float:
    try:
        return float(ts)
    except (TypeError, ValueError):
        return 0.0


def _zone_offset(tz: str) -> int:
    try:
        from datetime import datetime
        from zoneinfo import ZoneInfo

        off = datetime.now(ZoneInfo(tz)).utcoffset()
        return int(off.total_seconds()) if off is not None else 0
    except Exception:  # unknown zone / no tzdata
        return 0


def _rich_text_block(text: str) -> dict[str, Any]:
    return {
        "type": "rich_text",
        "block_id": hashlib.sha1(text.encode()).hexdigest()[:5],
        "elements": [{"type": "rich_text_section", "elements": [{"type": "text", "text": text}]}],
    }
