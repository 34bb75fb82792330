"""users.info and usergroups.users.list."""

from __future__ import annotations

from typing import Any

from .records import Call, User, _ApiError


class UsersAPI:
    """Mixin for FakeSlack: handlers called by FakeSlackCore's dispatcher with self._lock held."""

    def _users_info(self, args: dict[str, Any], call: Call) -> dict[str, Any]:
        uid = args.get("user")
        if not uid:
            raise _ApiError("user_not_found")
        u = self._users.get(uid)
        if u is None:
            if uid == self.bot_user_id:
                u = User(id=uid, name=self.bot_user_name, is_bot=True, team_id=self.team_id)
            elif self.strict_users:
                raise _ApiError("user_not_found")
            else:
                u = User(id=uid, name=uid.lower(), real_name=f"User {uid}", display_name=uid.lower(), team_id=self.team_id)
        return {"ok": True, "user": u.to_api()}

    def _usergroups_users_list(self, args: dict[str, Any], call: Call) -> dict[str, Any]:
        # Tests set `usergroups = {"S…": ["U…", …]}`; an unknown group is Slack's no_such_subteam.
        groups = getattr(self, "usergroups", {})
        if args.get("usergroup") not in groups:
            raise _ApiError("no_such_subteam")
        return {"ok": True, "users": list(groups[args["usergroup"]])}
