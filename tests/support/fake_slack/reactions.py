"""reactions.add."""

from __future__ import annotations

from typing import Any

from .records import Call, _ApiError


class ReactionsAPI:
    """Mixin for FakeSlack: handlers called by FakeSlackCore's dispatcher with self._lock held."""

    def _reactions_add(self, args: dict[str, Any], call: Call) -> dict[str, Any]:
        ch = self._resolve_channel(args.get("channel"))
        name = args.get("name")
        if not name:
            raise _ApiError("invalid_name")
        msg = self._find_message(ch, args.get("timestamp"))
        if msg is not None:
            reactions = msg.setdefault("reactions", [])
            r = next((r for r in reactions if r["name"] == name), None)
            if r is None:
                reactions.append({"name": name, "users": [self.bot_user_id], "count": 1})
            elif self.bot_user_id in r["users"]:
                raise _ApiError("already_reacted")
            else:
                r["users"].append(self.bot_user_id)
                r["count"] += 1
        return {"ok": True}
