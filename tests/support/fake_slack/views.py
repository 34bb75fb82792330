"""views.open, views.push, views.update and views.publish (ids, hashes, external ids, trigger ids)."""

from __future__ import annotations

import copy
import hashlib
from typing import Any

from .records import Call, _ApiError


class ViewsAPI:
    """Mixin for FakeSlack: handlers called by FakeSlackCore's dispatcher with self._lock held."""

    def _use_trigger(self, args: dict[str, Any]) -> None:
        trig = args.get("trigger_id") or args.get("interactivity_pointer")
        if not trig:
            raise _ApiError("invalid_arguments", response_metadata={"messages": ["[ERROR] missing required field: trigger_id"]})
        if self.enforce_trigger_ids:
            if trig in self._used_triggers:
                raise _ApiError("exchanged_trigger_id")
            self._used_triggers.add(trig)

    def _new_view(self, view: dict[str, Any], *, view_id: str | None = None, root: str | None = None, previous: str | None = None) -> dict[str, Any]:
        vid = view_id or self._next_id("V")
        self._id_n += 1
        v = {
            "id": vid,
            "team_id": self.team_id,
            "type": view.get("type"),
            "blocks": copy.deepcopy(view.get("blocks", [])),
            "private_metadata": view.get("private_metadata", ""),
            "callback_id": view.get("callback_id", ""),
            "state": {"values": {}},
            "hash": f"{1700000000 + self._id_n}.{hashlib.sha1(str(self._id_n).encode()).hexdigest()[:8]}",
            "clear_on_close": bool(view.get("clear_on_close", False)),
            "notify_on_close": bool(view.get("notify_on_close", False)),
            "previous_view_id": previous,
            "root_view_id": root or vid,
            "app_id": self.app_id,
            "external_id": view.get("external_id", ""),
            "app_installed_team_id": self.team_id,
            "bot_id": self.bot_id,
        }
        for k in ("title", "close", "submit"):
            if view.get(k) is not None:
                v[k] = copy.deepcopy(view[k])
            elif v["type"] == "modal":
                v[k] = None
        if v["external_id"]:
            other = self._view_by_external.get(v["external_id"])
            if other and other != vid:
                raise _ApiError("duplicate_external_id")
            self._view_by_external[v["external_id"]] = vid
        self._views[vid] = v
        return v

    def _views_open(self, args: dict[str, Any], call: Call) -> dict[str, Any]:
        self._use_trigger(args)
        return {"ok": True, "view": copy.deepcopy(self._new_view(args["view"]))}

    def _views_push(self, args: dict[str, Any], call: Call) -> dict[str, Any]:
        self._use_trigger(args)
        return {"ok": True, "view": copy.deepcopy(self._new_view(args["view"]))}

    def _views_update(self, args: dict[str, Any], call: Call) -> dict[str, Any]:
        vid = args.get("view_id")
        if not vid and args.get("external_id"):
            vid = self._view_by_external.get(args["external_id"])
        if not vid or vid not in self._views:
            raise _ApiError("not_found")
        old = self._views[vid]
        if args.get("hash") and args["hash"] != old["hash"]:
            raise _ApiError("hash_conflict")
        new = dict(args["view"])
        new.setdefault("external_id", old.get("external_id", ""))
        v = self._new_view(new, view_id=vid, root=old["root_view_id"], previous=old.get("previous_view_id"))
        return {"ok": True, "view": copy.deepcopy(v)}

    def _views_publish(self, args: dict[str, Any], call: Call) -> dict[str, Any]:
        uid = args.get("user_id")
        if not uid:
            raise _ApiError("invalid_arguments", response_metadata={"messages": ["[ERROR] missing required field: user_id"]})
        old_id = self._home_by_user.get(uid)
        if old_id and args.get("hash") and args["hash"] != self._views[old_id]["hash"]:
            raise _ApiError("hash_conflict")
        v = self._new_view(args["view"], view_id=old_id)
        self._home_by_user[uid] = v["id"]
        return {"ok": True, "view": copy.deepcopy(v)}
