"""The local embedder: wordllama's static word embeddings, whose weights ship inside its wheel.

No network, no GPU: a brief is embedded in about 0.1 ms (token lookup and average pooling). The
model is loaded once, on first use (about 0.2 s and 20 MB), under a lock, so threads that file
briefs at the same time share one copy.

wordllama's loader looks for its bundled tokenizer config under a folder name that does not exist
in the wheel unless `cache_dir` is the package's own folder; downloads are disabled, so a missing
file fails at load instead of reaching the network.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

CONFIG = "l2_supercat"
DIMENSIONS = 256


class WordLlamaEmbedder:
    """`bot.embeddings.Embedder` backed by wordllama (loaded lazily, once, thread-safe)."""

    def __init__(self, config: str = CONFIG, dim: int = DIMENSIONS) -> None:
        self.config = config
        self.dim = dim
        self.name = f"wordllama:{config}:{dim}"
        self.remote = False  # in-process: no brief text leaves the bot
        self._model: Any = None
        self._lock = threading.Lock()

    def _loaded(self) -> Any:
        model = self._model
        if model is None:
            with self._lock:
                if self._model is None:
                    import wordllama  # type: ignore[import-untyped]  # deferred: importing it costs ~0.3 s, and only matching needs it
                    from wordllama import WordLlama

                    folder = Path(wordllama.__file__).resolve().parent
                    self._model = WordLlama.load(config=self.config, cache_dir=folder, dim=self.dim, disable_download=True)
                model = self._model
        return model

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """One L2-normalised float32 row per text; an empty text gives a zero row."""
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        vectors = np.asarray(self._loaded().embed(list(texts), norm=False), dtype=np.float32).reshape(len(texts), -1)
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        return np.divide(vectors, norms, out=np.zeros_like(vectors), where=norms > 0)

    def check(self) -> None:
        """Load the model now (start-up checks): raises if the wheel's files are missing."""
        self.embed(["check"])
