"""chat.postMessage, chat.update, chat.delete, chat.postEphemeral and chat.getPermalink."""

from __future__ import annotations

import copy
from typing import Any

from .records import Call, _ApiError


class ChatAPI:
    """Mixin for FakeSlack: handlers called by FakeSlackCore's dispatcher with self._lock held."""

    def _chat_post_message(self, args: dict[str, Any], call: Call) -> dict[str, Any]:
        ch = self._resolve_channel(args.get("channel"), for_posting=True)
        if not args.get("text") and not args.get("blocks") and not args.get("attachments"):
            raise _ApiError("no_text")
        ts = self._next_ts()
        msg = self._bot_message(args, ts)
        self._store_message(ch, msg)
        return {"ok": True, "channel": ch, "ts": ts, "message": copy.deepcopy(msg)}

    def _chat_update(self, args: dict[str, Any], call: Call) -> dict[str, Any]:
        ch = self._resolve_channel(args.get("channel"))
        msg = self._find_message(ch, args.get("ts"))
        if msg is None:
            raise _ApiError("message_not_found")
        if msg.get("bot_id") != self.bot_id:
            raise _ApiError("cant_update_message")
        for k in ("text", "blocks", "attachments", "metadata"):
            if k in args:
                msg[k] = copy.deepcopy(args[k])
        msg["edited"] = {"user": self.bot_user_id, "ts": self._next_ts()}
        return {"ok": True, "channel": ch, "ts": msg["ts"], "text": msg.get("text", ""), "message": copy.deepcopy(msg)}

    def _chat_delete(self, args: dict[str, Any], call: Call) -> dict[str, Any]:
        ch = self._resolve_channel(args.get("channel"))
        msg = self._find_message(ch, args.get("ts"))
        if msg is None:
            raise _ApiError("message_not_found")
        self._messages[ch].remove(msg)
        return {"ok": True, "channel": ch, "ts": msg["ts"]}

    def _chat_post_ephemeral(self, args: dict[str, Any], call: Call) -> dict[str, Any]:
        ch = self._resolve_channel(args.get("channel"), for_posting=True)
        if not args.get("user"):
            raise _ApiError("user_not_found")
        if not args.get("text") and not args.get("blocks") and not args.get("attachments"):
            raise _ApiError("no_text")
        ts = self._next_ts()
        msg = self._bot_message(args, ts)
        self.ephemerals.append({"channel": ch, "user": args["user"], "message": msg})
        return {"ok": True, "message_ts": ts}

    def _chat_get_permalink(self, args: dict[str, Any], call: Call) -> dict[str, Any]:
        ch = self._resolve_channel(args.get("channel"))
        ts = args.get("message_ts")
        if not ts:
            raise _ApiError("message_not_found")
        link = f"https://{self.team_domain}.slack.com/archives/{ch}/p{str(ts).replace('.', '')}"
        msg = self._find_message(ch, ts)
        if msg is not None and msg.get("thread_ts") and msg["thread_ts"] != ts:
            link += f"?thread_ts={msg['thread_ts']}&cid={ch}"
        return {"ok": True, "channel": ch, "permalink": link}
