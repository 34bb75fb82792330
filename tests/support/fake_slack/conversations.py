"""conversations.info, conversations.members, conversations.open, conversations.history and
conversations.replies."""

from __future__ import annotations

import base64
import hashlib
from typing import Any

from .records import Call, Channel, _ApiError, _as_read, _truthy, _ts_key


class ConversationsAPI:
    """Mixin for FakeSlack: handlers called by FakeSlackCore's dispatcher with self._lock held."""

    def _conversations_info(self, args: dict[str, Any], call: Call) -> dict[str, Any]:
        cid = args.get("channel")
        ch = self._channels.get(cid) if isinstance(cid, str) else None
        if ch is None or (ch.is_private and not ch.is_member):
            raise _ApiError("channel_not_found")
        return {"ok": True, "channel": ch.to_api()}

    def _conversations_members(self, args: dict[str, Any], call: Call) -> dict[str, Any]:
        # Slack pages with an opaque cursor (limit defaults to 100, at most 1000); an empty
        # next_cursor means the last page. Private channels the bot is not in are channel_not_found.
        cid = args.get("channel")
        ch = self._channels.get(cid) if isinstance(cid, str) else None
        if ch is None or (ch.is_private and not ch.is_member):
            raise _ApiError("channel_not_found")
        limit = min(int(args.get("limit") or 100), 1000)
        cursor = str(args.get("cursor") or "")
        try:
            start = int(base64.b64decode(cursor.encode()).decode().removeprefix("offset:")) if cursor else 0
        except ValueError:
            raise _ApiError("invalid_cursor") from None
        page = ch.members[start : start + limit]
        more = start + limit < len(ch.members)
        next_cursor = base64.b64encode(f"offset:{start + limit}".encode()).decode() if more else ""
        return {"ok": True, "members": list(page), "response_metadata": {"next_cursor": next_cursor}}

    def _conversations_open(self, args: dict[str, Any], call: Call) -> dict[str, Any]:
        if args.get("channel"):
            cid = self._resolve_channel(args["channel"])
            return {"ok": True, "channel": {"id": cid}}
        users = [u for u in str(args.get("users") or "").split(",") if u]
        if not users:
            raise _ApiError("users_list_not_supplied")
        if len(users) == 1:
            dm = self._open_dm(users[0])
            return {"ok": True, "no_op": False, "already_open": False, "channel": {"id": dm}}
        key = ",".join(sorted(users))
        mp = self._dm_by_user.get(key)
        if mp is None:
            mp = "G" + hashlib.sha1(key.encode()).hexdigest()[:8].upper()
            self._dm_by_user[key] = mp
            self._channels[mp] = Channel(id=mp, name=f"mpdm-{key}", is_im=True)
        return {"ok": True, "channel": {"id": mp}}

    def _conversations_history(self, args: dict[str, Any], call: Call) -> dict[str, Any]:
        ch = self._resolve_channel(args.get("channel"), for_reading=True)
        inclusive = _truthy(args.get("inclusive"))
        oldest = _ts_key(args.get("oldest") or "0")
        latest = _ts_key(args["latest"]) if args.get("latest") else float("inf")
        limit = int(args.get("limit") or 100)
        out = []
        for m in reversed(self._messages.get(ch, [])):
            is_reply = m.get("thread_ts") and m.get("thread_ts") != m.get("ts") and m.get("subtype") != "thread_broadcast"
            if is_reply:
                continue
            k = _ts_key(m["ts"])
            if inclusive:
                if not oldest <= k <= latest:
                    continue
            elif not oldest < k < latest:
                continue
            out.append(_as_read(m, args))
        has_more = len(out) > limit
        return {"ok": True, "messages": out[:limit], "has_more": has_more, "pin_count": 0, "response_metadata": {"next_cursor": ""}}

    def _conversations_replies(self, args: dict[str, Any], call: Call) -> dict[str, Any]:
        ch = self._resolve_channel(args.get("channel"), for_reading=True)
        ts = args.get("ts")
        parent = self._find_message(ch, ts)
        if parent is None:
            raise _ApiError("thread_not_found")
        thread = [_as_read(m, args) for m in self._messages.get(ch, []) if m.get("ts") == ts or m.get("thread_ts") == ts]
        limit = int(args.get("limit") or 1000)
        return {"ok": True, "messages": thread[:limit], "has_more": len(thread) > limit, "response_metadata": {"next_cursor": ""}}
