"""Which embedder the settings choose (ESCALATION_EMBEDDINGS), and how to say so in `escalation-bot check`.

- `auto` (default): an endpoint when ESCALATION_EMBEDDINGS_URL is set; otherwise wordllama when it can
  be imported; otherwise none.
- `wordllama`: the local static embeddings (bot.embeddings.wordllama); start-up stops if the package is
  not installed (a model that fails to load shows in `escalation-bot check`).
- `http`: an OpenAI-compatible endpoint (bot.embeddings.http).
- `none`: no embeddings; pattern matching is lexical only.
"""

from __future__ import annotations

import importlib.util
import logging

from bot.embeddings import Embedder
from bot.embeddings.http import HttpEmbedder
from bot.settings import Settings, SettingsError

log = logging.getLogger(__name__)


def build_embedder(settings: Settings) -> Embedder | None:
    """The embedder the settings choose, or None for lexical matching only. SettingsError when
    wordllama is asked for by name and is not installed. Cheap: nothing is loaded or sent here."""
    choice = settings.embeddings_choice
    if choice == "none":
        return None
    if choice == "http":
        # Settings checked that both are set (Settings._embeddings_complete).
        return HttpEmbedder(settings.embeddings_url or "", settings.embeddings_model or "", key=settings.embeddings_key, timeout=settings.embeddings_timeout)
    try:
        if importlib.util.find_spec("wordllama") is None:  # the model itself loads on first use (bot.embeddings.wordllama)
            raise ImportError("the wordllama package is not installed")
        from bot.embeddings.wordllama import WordLlamaEmbedder

        return WordLlamaEmbedder()
    except ImportError as exc:
        if choice == "wordllama":
            raise SettingsError(
                f"ESCALATION_EMBEDDINGS=wordllama but it cannot be imported ({exc}): install the wordllama package, "
                "or set ESCALATION_EMBEDDINGS=auto (lexical matching when it is missing) or none."
            ) from None
        log.info("%s: pattern matching is lexical only", exc)
        return None


def describe(embedder: Embedder | None) -> str:
    """`lexical only`, `lexical + http (model at url)` or, from a name like `wordllama:l2_supercat:256`,
    `lexical + wordllama (l2_supercat, 256 dims)`."""
    if embedder is None:
        return "lexical only"
    if isinstance(embedder, HttpEmbedder):
        return f"lexical + http ({embedder.description})"
    kind, *details = embedder.name.split(":")
    shown = [f"{d} dims" if d.isdigit() else d for d in details if d]
    return f"lexical + {kind} ({', '.join(shown)})" if shown else f"lexical + {kind}"
