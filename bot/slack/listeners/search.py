"""`/escalate search <words>`: past briefs, ranked, with status and resolution, shown to the asker only."""

from __future__ import annotations

from blocks.search import search_results
from bot.slack import payloads


async def answer_search(services, body: dict, words: str, respond) -> None:
    hits = await services.run_sync(services.search.search, payloads.team_id(body), words, asker=payloads.user_id(body))
    text, blocks = search_results(words, hits)
    await respond(text=text, blocks=blocks, response_type="ephemeral")
