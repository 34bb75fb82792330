"""files.getUploadURLExternal and files.completeUploadExternal (the bytes themselves reach the
upload_url, served by FakeSlackCore._handle_upload)."""

from __future__ import annotations

import copy
import json
from typing import Any

from .records import Call, _ApiError


class FilesAPI:
    """Mixin for FakeSlack: handlers called by FakeSlackCore's dispatcher with self._lock held."""

    def _files_get_upload_url_external(self, args: dict[str, Any], call: Call) -> dict[str, Any]:
        filename = args.get("filename")
        try:
            length = int(args.get("length") or 0)
        except (TypeError, ValueError):
            length = 0
        if not filename:
            raise _ApiError("invalid_arguments", response_metadata={"messages": ["[ERROR] missing required field: filename"]})
        if length <= 0:
            raise _ApiError("invalid_arguments", response_metadata={"messages": ["[ERROR] missing required field: length"]})
        file_id = self._next_id("F")
        self.files[file_id] = {"id": file_id, "filename": filename, "length": length, "content": None, "title": None, "channel": None, "thread_ts": None}
        return {"ok": True, "upload_url": f"http://127.0.0.1:{self.port}/upload/v1/{file_id}", "file_id": file_id}

    def _files_complete_upload_external(self, args: dict[str, Any], call: Call) -> dict[str, Any]:
        files = args.get("files")
        if isinstance(files, str):
            try:
                files = json.loads(files)
            except ValueError:
                raise _ApiError("invalid_arguments") from None
        if not isinstance(files, list) or not files:
            raise _ApiError("invalid_arguments", response_metadata={"messages": ["[ERROR] missing required field: files"]})
        channel = self._resolve_channel(args["channel_id"], for_posting=True) if args.get("channel_id") else None
        done = []
        for item in files:
            entry = self.files.get(str((item or {}).get("id")))
            if entry is None:
                raise _ApiError("file_not_found")
            if entry["content"] is None:
                raise _ApiError("file_upload_not_completed")  # the bytes never reached upload_url
            entry.update(
                title=item.get("title") or entry["filename"], channel=channel, thread_ts=args.get("thread_ts"), initial_comment=args.get("initial_comment")
            )
            done.append({"id": entry["id"], "name": entry["filename"], "title": entry["title"], "size": entry["length"]})
        if channel is not None:
            msg = self._bot_message({"text": args.get("initial_comment") or "", "thread_ts": args.get("thread_ts")}, self._next_ts())
            msg["files"] = copy.deepcopy(done)
            msg["upload"] = True
            self._store_message(channel, msg)
        return {"ok": True, "files": done}
