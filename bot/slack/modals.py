"""Modal round trips shared by the listeners."""

from __future__ import annotations

import logging

from slack_sdk.errors import SlackApiError

log = logging.getLogger(__name__)


async def update_view(client, view_id: str | None, view: dict, view_hash: str | None = None) -> None:
    """views.update that tolerates the modal having moved on: hash_conflict (a newer update wins) or
    not_found (the person closed it). Neither loses anything: what matters is stored."""
    if not view_id:
        return
    kwargs = {"view_id": view_id, "view": view}
    if view_hash:
        kwargs["hash"] = view_hash
    try:
        await client.views_update(**kwargs)
    except SlackApiError as exc:
        log.info("views.update skipped: %s", exc.response.get("error") if exc.response is not None else exc)
