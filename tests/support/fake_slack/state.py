"""The fake workspace's state: registries (channels, users, messages), inspection of what was
stored, and the helpers handlers share (ids, ts, channel resolution, message storage)."""

from __future__ import annotations

import copy
import hashlib
import re
from collections.abc import Iterable
from typing import Any

from .records import Channel, User, _ApiError, _rich_text_block, _truthy, _ts_key, _zone_offset

_USER_ID_RE = re.compile(r"^[UW][A-Z0-9]{2,}$")


class SlackState:
    """Mixin for FakeSlackCore: the state itself is created in FakeSlackCore.__init__."""

    # ----- registries -------------------------------------------------------------------

    def add_channel(
        self,
        id: str,  # noqa: A002 - Slack's field name
        name: str,
        is_member: bool = True,
        is_private: bool = False,
        is_archived: bool = False,
        *,
        topic: str = "",
        purpose: str = "",
        members: list[str] | None = None,
    ) -> Channel:
        ch = Channel(
            id=id,
            name=name.lstrip("#"),
            is_member=is_member,
            is_private=is_private,
            is_archived=is_archived,
            topic=topic,
            purpose=purpose,
            members=list(members or []),
        )
        with self._lock:
            self._channels[id] = ch
        return ch

    def set_members(self, channel_id: str, user_ids: Iterable[str]) -> None:
        """Who is in a channel, as conversations.members reports it."""
        with self._lock:
            self._channels[channel_id].members = list(user_ids)

    def channel(self, id: str) -> Channel | None:  # noqa: A002
        with self._lock:
            return self._channels.get(id)

    def add_user(
        self,
        id: str,  # noqa: A002
        name: str,
        tz: str = "UTC",
        tz_offset: int | None = None,
        *,
        tz_label: str | None = None,
        real_name: str | None = None,
        display_name: str | None = None,
        email: str | None = None,
        is_bot: bool = False,
        deleted: bool = False,
    ) -> User:
        """Register a user. tz_offset (seconds east of UTC) defaults to the zone's current offset."""
        if tz_offset is None:
            tz_offset = _zone_offset(tz)
        if tz_label is None:
            tz_label = "Coordinated Universal Time" if tz in ("UTC", "Etc/UTC") else tz
        u = User(
            id=id,
            name=name,
            tz=tz,
            tz_offset=tz_offset,
            tz_label=tz_label,
            real_name=real_name or name,
            display_name=display_name if display_name is not None else name,
            email=email,
            is_bot=is_bot,
            deleted=deleted,
            team_id=self.team_id,
        )
        with self._lock:
            self._users[id] = u
        return u

    def seed_message(
        self,
        channel: str,
        text: str,
        *,
        user: str = "U999",
        ts: str | None = None,
        thread_ts: str | None = None,
        **extra: Any,
    ) -> dict[str, Any]:
        """Store a message as if a person had posted it (e.g. for a message shortcut)."""
        with self._lock:
            msg = {
                "type": "message",
                "user": user,
                "text": text,
                "ts": ts or self._next_ts(),
                "team": self.team_id,
                "blocks": [_rich_text_block(text)],
            }
            if thread_ts:
                msg["thread_ts"] = thread_ts
            msg.update(extra)
            self._store_message(channel, msg)
            return copy.deepcopy(msg)

    # ----- state inspection -------------------------------------------------------------

    def messages(self, channel: str | None = None) -> list[dict[str, Any]]:
        """Stored messages (oldest first), of one channel or of all."""
        with self._lock:
            if channel is not None:
                return copy.deepcopy(self._messages.get(channel, []))
            return copy.deepcopy([m for msgs in self._messages.values() for m in msgs])

    def message(self, channel: str, ts: str) -> dict[str, Any] | None:
        with self._lock:
            m = self._find_message(channel, ts)
            return copy.deepcopy(m) if m else None

    def view(self, view_id: str) -> dict[str, Any] | None:
        with self._lock:
            v = self._views.get(view_id)
            return copy.deepcopy(v) if v else None

    def home_view(self, user_id: str) -> dict[str, Any] | None:
        with self._lock:
            vid = self._home_by_user.get(user_id)
            return copy.deepcopy(self._views[vid]) if vid else None

    def dm_channel(self, user_id: str) -> str:
        """The DM channel id between the bot and a user (opened on demand)."""
        with self._lock:
            return self._open_dm(user_id)

    # ----- helpers (call with self._lock held) ----------------------------------------

    def _next_ts(self) -> str:
        self._ts_n += 1
        n = self._ts_n * 100
        return f"{1700000000 + n // 1_000_000}.{n % 1_000_000:06d}"

    def _next_id(self, prefix: str) -> str:
        self._id_n += 1
        return f"{prefix}{self._id_n:08X}"

    def _open_dm(self, user_id: str) -> str:
        dm = self._dm_by_user.get(user_id)
        if dm is None:
            dm = "D" + hashlib.sha1(user_id.encode()).hexdigest()[:8].upper()
            self._dm_by_user[user_id] = dm
            self._channels[dm] = Channel(id=dm, name=dm, is_im=True, user=user_id)
        return dm

    def _resolve_channel(self, channel: Any, *, for_posting: bool = False, for_reading: bool = False) -> str:
        if not channel or not isinstance(channel, str):
            raise _ApiError("channel_not_found")
        if _USER_ID_RE.match(channel):
            return self._open_dm(channel)
        ch = self._channels.get(channel)
        if ch is None and channel.startswith("#"):
            ch = next((c for c in self._channels.values() if c.name == channel[1:]), None)
        if ch is None and channel.startswith("D"):
            ch = Channel(id=channel, name=channel, is_im=True)
            self._channels[channel] = ch
        if ch is None:
            ch = next((c for c in self._channels.values() if c.name == channel and not c.is_im), None)
        if ch is None:
            raise _ApiError("channel_not_found")
        if ch.is_im:
            return ch.id
        if ch.is_private and not ch.is_member:
            raise _ApiError("channel_not_found")  # private channels are invisible to non-members
        if for_posting:
            if ch.is_archived:
                raise _ApiError("is_archived")
            if not ch.is_member and not (self.public_posting and not ch.is_private):
                raise _ApiError("not_in_channel")
        if for_reading and not ch.is_member:
            raise _ApiError("not_in_channel")
        return ch.id

    def _find_message(self, channel: str, ts: Any) -> dict[str, Any] | None:
        for m in self._messages.get(channel, []):
            if m.get("ts") == ts:
                return m
        return None

    def _store_message(self, channel: str, msg: dict[str, Any]) -> None:
        msgs = self._messages[channel]
        msgs.append(msg)
        msgs.sort(key=lambda m: _ts_key(m.get("ts")))
        tts = msg.get("thread_ts")
        if tts and tts != msg.get("ts"):
            parent = self._find_message(channel, tts)
            if parent is not None:
                parent["thread_ts"] = tts
                parent["reply_count"] = parent.get("reply_count", 0) + 1
                users = parent.setdefault("reply_users", [])
                who = msg.get("user") or msg.get("bot_id")
                if who and who not in users:
                    users.append(who)
                parent["reply_users_count"] = len(users)
                parent["latest_reply"] = msg["ts"]

    def _bot_message(self, args: dict[str, Any], ts: str) -> dict[str, Any]:
        msg: dict[str, Any] = {
            "type": "message",
            "user": self.bot_user_id,
            "bot_id": self.bot_id,
            "app_id": self.app_id,
            "text": args.get("text") or "",
            "ts": ts,
            "team": self.team_id,
            "bot_profile": {
                "id": self.bot_id,
                "app_id": self.app_id,
                "name": self.bot_user_name,
                "deleted": False,
                "team_id": self.team_id,
            },
        }
        for k in ("blocks", "attachments", "metadata", "username", "icon_emoji", "icon_url"):
            if args.get(k) is not None:
                msg[k] = copy.deepcopy(args[k])
        if args.get("thread_ts"):
            msg["thread_ts"] = str(args["thread_ts"])
            if _truthy(args.get("reply_broadcast")):
                msg["subtype"] = "thread_broadcast"
        return msg
