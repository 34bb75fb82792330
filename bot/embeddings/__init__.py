"""Embeddings: text in, unit vectors out, for the semantic signal of pattern matching (issue 18).

An `Embedder` is pluggable: a local static-embedding model shipped inside a wheel (wordllama), an
OpenAI-compatible embeddings endpoint a team runs, or none (matching is then lexical only). Each
stored vector carries its embedder's `name`, so vectors of different models are never compared.
Embedding is CPU or network work: it is never done before an ack or inside a database session.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

import numpy as np


class EmbeddingsError(Exception):
    """An embedder could not embed (endpoint down, slow, refusing, malformed answer): one line, no secret.
    Callers catch it and match the brief lexically; the brief is never lost or held up for it."""


class Embedder(Protocol):
    """What matching needs of an embeddings model."""

    name: str  # e.g. "wordllama:l2_supercat:256"; stored with each vector
    remote: bool  # True when text leaves the process (an endpoint): security briefs are then not sent unless allowed

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """One L2-normalised float32 row per text, shape (len(texts), dims)."""
        ...


def to_bytes(vector: np.ndarray) -> bytes:
    """How a vector is stored (escalation column): float32, little-endian."""
    return np.asarray(vector, dtype="<f4").tobytes()


def from_bytes(data: bytes) -> np.ndarray:
    return np.frombuffer(data, dtype="<f4")
