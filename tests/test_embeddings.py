"""Pluggable embeddings (issue 18): an OpenAI-compatible endpoint, the ESCALATION_EMBEDDINGS settings, and
the matcher line of `escalation-bot check`.

The endpoint is a stand-in OpenAI-compatible server on 127.0.0.1 that records every request and can
answer correctly (rows out of order, not normalised), refuse, hang, trickle, or talk nonsense.
"""

from __future__ import annotations

import hashlib
import io
import json
import sys
import threading
import types
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import numpy as np
import pytest

from bot.embeddings import EmbeddingsError
from bot.embeddings.factory import build_embedder, describe
from bot.embeddings.http import HttpEmbedder, endpoint_url, shown_url
from bot.settings import Settings, SettingsError, load_settings
from bot.usecases.setup_check import check_matcher
from tests.conftest import settings_env
from tests.test_cli import base_env, run

KEY = "sk-test-0123456789"
MODEL = "test-embed-small"
DIMS = 8
HANG_GUARD = 30.0  # seconds a call may take before the test calls it hung (generous: the timeouts under test are 0.3 s)


def raw_vector(text: str) -> list[float]:
    """What the stand-in answers for a text: deterministic, far from unit length."""
    seed = int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "little")
    return [round(float(x), 6) for x in np.random.default_rng(seed).normal(size=DIMS) * 7]


def unit(vector: list[float]) -> np.ndarray:
    v = np.asarray(vector, dtype=np.float64)
    return (v / np.linalg.norm(v)).astype(np.float32)


class StandInEmbeddings:
    """An OpenAI-compatible `POST /v1/embeddings`; `mode` says how it behaves."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.mode = "ok"  # ok | status | hang | trickle | raw
        self.status = 200
        self.body: bytes = b""
        self.answer: Callable[[list[str]], list[dict[str, Any]]] | None = None  # overrides the "ok" data list
        self.released = threading.Event()
        stand_in = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                raw = self.rfile.read(length)
                stand_in.requests.append({"path": self.path, "headers": {k.lower(): v for k, v in self.headers.items()}, "json": json.loads(raw)})
                stand_in.respond(self, json.loads(raw))

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/v1"

    def respond(self, handler: BaseHTTPRequestHandler, request: dict[str, Any]) -> None:
        if self.mode == "hang":
            self.released.wait(HANG_GUARD)
            return
        if self.mode == "trickle":  # a valid start, then one byte every 50 ms: each read is quick, the whole never ends
            handler.send_response(200)
            handler.send_header("Content-Type", "application/json")
            handler.send_header("Content-Length", "100000")
            handler.end_headers()
            try:
                for _ in range(100000):
                    if self.released.wait(0.05):
                        return
                    handler.wfile.write(b" ")
                    handler.wfile.flush()
            except OSError:
                return
            return
        if self.mode == "ok":
            texts = request["input"]
            data = self.answer(texts) if self.answer else [{"object": "embedding", "index": i, "embedding": raw_vector(t)} for i, t in enumerate(texts)]
            body = json.dumps({"object": "list", "data": list(reversed(data)), "model": request["model"], "usage": {"prompt_tokens": 3}}).encode()
            status = 200
        else:
            body, status = self.body, self.status
        handler.send_response(status)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        handler.wfile.write(body)

    def __enter__(self) -> StandInEmbeddings:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.released.set()
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def endpoint() -> Iterator[StandInEmbeddings]:
    with StandInEmbeddings() as server:
        yield server


def finishes(fn: Callable[[], Any]) -> Any:
    """Run fn; fail (instead of hanging the suite) if it has not returned within HANG_GUARD."""
    outcome: dict[str, Any] = {}

    def target() -> None:
        try:
            outcome["value"] = fn()
        except BaseException as exc:  # noqa: BLE001 - handed back to the test
            outcome["error"] = exc

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(HANG_GUARD)
    assert not thread.is_alive(), "the embedder waited past its timeout"
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]


# --- The request and the answer ------------------------------------------------------------------


def test_posts_model_and_input_with_the_bearer_key_and_returns_unit_rows_in_input_order(endpoint):
    embedder = HttpEmbedder(endpoint.base_url, MODEL, key=KEY, timeout=5)
    texts = ["push notifications not arriving", "CSV export times out", "SSO login loops"]
    vectors = embedder.embed(texts)

    [request] = endpoint.requests
    assert request["path"] == "/v1/embeddings"
    assert request["json"] == {"model": MODEL, "input": texts}
    assert request["headers"]["authorization"] == f"Bearer {KEY}"
    assert request["headers"]["content-type"] == "application/json"
    assert vectors.dtype == np.float32 and vectors.shape == (3, DIMS)
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, rtol=1e-6)
    for row, text in zip(vectors, texts):  # the stand-in answers in reverse: rows follow `index`, not the list
        np.testing.assert_allclose(row, unit(raw_vector(text)), rtol=1e-5)


def test_url_rules_and_no_key_means_no_authorization_header(endpoint):
    assert endpoint_url("https://api.openai.com/v1/") == "https://api.openai.com/v1/embeddings"
    assert endpoint_url("http://gw.local/openai/embeddings") == "http://gw.local/openai/embeddings"
    assert shown_url("https://user:pw@gw.local:8443/v1/embeddings?api-key=secret") == "https://gw.local:8443/v1/embeddings"

    HttpEmbedder(endpoint.base_url + "/embeddings", MODEL, timeout=5).embed(["one"])
    [request] = endpoint.requests
    assert request["path"] == "/v1/embeddings"  # given whole: used as given, not .../embeddings/embeddings
    assert "authorization" not in request["headers"]


def test_many_texts_go_in_batches_and_keep_their_order(endpoint):
    texts = [f"brief number {i}" for i in range(300)]
    vectors = HttpEmbedder(endpoint.base_url, MODEL, timeout=5).embed(texts)
    assert [len(r["json"]["input"]) for r in endpoint.requests] == [256, 44]
    assert vectors.shape == (300, DIMS)
    np.testing.assert_allclose(vectors[299], unit(raw_vector("brief number 299")), rtol=1e-5)
    assert HttpEmbedder(endpoint.base_url, MODEL).embed([]).shape[0] == 0 and len(endpoint.requests) == 2  # nothing to embed: no request


def test_the_name_carries_the_model_so_two_models_are_never_compared(endpoint):
    small, large = HttpEmbedder(endpoint.base_url, "text-embedding-3-small"), HttpEmbedder(endpoint.base_url, "text-embedding-3-large")
    assert small.name == "http:text-embedding-3-small" and large.name == "http:text-embedding-3-large"


# --- Failures: one exception type, within the timeout, no secret ------------------------------------


def test_an_http_error_is_one_clear_exception_with_the_servers_reason_and_no_key(endpoint):
    endpoint.mode, endpoint.status = "status", 401
    endpoint.body = json.dumps({"error": {"message": "Incorrect API key provided.", "type": "invalid_request_error"}}).encode()
    with pytest.raises(EmbeddingsError) as caught:
        HttpEmbedder(endpoint.base_url, MODEL, key=KEY, timeout=5).embed(["x"])
    message = str(caught.value)
    assert "HTTP 401" in message and "Incorrect API key provided." in message and endpoint.base_url in message
    assert KEY not in message

    endpoint.status, endpoint.body = 503, b"<html><body>Bad gateway</body></html>"
    with pytest.raises(EmbeddingsError, match=r"HTTP 503$"):  # an HTML page is not quoted
        HttpEmbedder(endpoint.base_url, MODEL, timeout=5).embed(["x"])


def test_a_server_that_never_answers_fails_within_the_timeout(endpoint):
    endpoint.mode = "hang"
    with pytest.raises(EmbeddingsError, match=r"did not answer within 0.3 s"):
        finishes(lambda: HttpEmbedder(endpoint.base_url, MODEL, timeout=0.3).embed(["x"]))


def test_a_server_that_trickles_its_answer_is_cut_off_at_the_timeout(endpoint):
    # Every byte comes within the socket timeout, so only a deadline on the whole exchange stops it.
    endpoint.mode = "trickle"
    with pytest.raises(EmbeddingsError, match=r"did not answer within 0.3 s"):
        finishes(lambda: HttpEmbedder(endpoint.base_url, MODEL, timeout=0.3).embed(["x"]))


def test_an_unreachable_endpoint_is_the_same_exception():
    with StandInEmbeddings() as gone:
        url = gone.base_url
    with pytest.raises(EmbeddingsError, match=r"cannot reach the embeddings endpoint http://127.0.0.1:\d+/v1/embeddings: connection refused"):
        finishes(lambda: HttpEmbedder(url, MODEL, timeout=2).embed(["x"]))


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        (b"not json", "not JSON"),
        (json.dumps({"object": "list"}).encode(), "without a data list"),
        (json.dumps({"data": [{"index": 0, "embedding": [1.0, 0.0]}]}).encode(), "1 vectors for 2 texts"),
        (json.dumps({"data": [{"index": 0, "embedding": [1.0, 0.0]}, {"index": 0, "embedding": [0.0, 1.0]}]}).encode(), "indexes"),
        (json.dumps({"data": [{"index": 0, "embedding": [1.0, 0.0]}, {"index": 1, "embedding": "AAAAAA=="}]}).encode(), "not lists of numbers"),
        (json.dumps({"data": [{"index": 0, "embedding": [1.0, 0.0]}, {"index": 1, "embedding": [1.0]}]}).encode(), "different sizes"),
        (json.dumps({"data": [{"index": 0, "embedding": [1.0, 0.0]}, {"index": 1, "embedding": [0.0, 0.0]}]}).encode(), "zero"),
    ],
)
def test_a_malformed_answer_is_the_same_exception(endpoint, answer, expected):
    endpoint.mode, endpoint.status, endpoint.body = "raw", 200, answer
    with pytest.raises(EmbeddingsError, match=expected):
        HttpEmbedder(endpoint.base_url, MODEL, timeout=5).embed(["a", "b"])


# --- Settings and the factory ------------------------------------------------------------------


def settings_with(**env: str) -> Settings:
    return load_settings(None, **{**settings_env(None, "sqlite:///unused.db"), **env})


def test_default_is_auto_and_http_settings_are_read(endpoint):
    assert settings_with().embeddings == "auto" and settings_with().embeddings_timeout == 3.0
    settings = settings_with(
        ESCALATION_EMBEDDINGS="HTTP",
        ESCALATION_EMBEDDINGS_URL=endpoint.base_url + "/",
        ESCALATION_EMBEDDINGS_MODEL=MODEL,
        ESCALATION_EMBEDDINGS_KEY=KEY,
        ESCALATION_EMBEDDINGS_TIMEOUT="1.5",
    )
    embedder = build_embedder(settings)
    assert isinstance(embedder, HttpEmbedder)
    assert (embedder.url, embedder.model, embedder.timeout) == (endpoint.base_url + "/embeddings", MODEL, 1.5)
    embedder.embed(["x"])
    assert endpoint.requests[0]["headers"]["authorization"] == f"Bearer {KEY}"
    # auto with an endpoint set uses it: setting a URL is the choice
    assert isinstance(build_embedder(settings_with(ESCALATION_EMBEDDINGS_URL=endpoint.base_url, ESCALATION_EMBEDDINGS_MODEL=MODEL)), HttpEmbedder)
    assert build_embedder(settings_with(ESCALATION_EMBEDDINGS="none", ESCALATION_EMBEDDINGS_URL=endpoint.base_url)) is None


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"ESCALATION_EMBEDDINGS": "http"}, "ESCALATION_EMBEDDINGS=http but ESCALATION_EMBEDDINGS_URL is not set: use the API's base URL"),
        (
            {"ESCALATION_EMBEDDINGS": "http", "ESCALATION_EMBEDDINGS_URL": "http://127.0.0.1:9/v1"},
            "ESCALATION_EMBEDDINGS=http but ESCALATION_EMBEDDINGS_MODEL is not set",
        ),
        (
            {"ESCALATION_EMBEDDINGS_URL": "http://127.0.0.1:9/v1"},
            "ESCALATION_EMBEDDINGS_URL is set (so the matcher uses that endpoint) but ESCALATION_EMBEDDINGS_MODEL",
        ),
        ({"ESCALATION_EMBEDDINGS_URL": "localhost:11434"}, "ESCALATION_EMBEDDINGS_URL must be an http(s) URL"),
        ({"ESCALATION_EMBEDDINGS": "openai"}, "ESCALATION_EMBEDDINGS 'openai' is not a matcher choice: use auto, wordllama, http or none"),
        ({"ESCALATION_EMBEDDINGS_TIMEOUT": "0"}, "ESCALATION_EMBEDDINGS_TIMEOUT"),
    ],
)
def test_incomplete_or_malformed_embeddings_settings_stop_start_up(env, expected):
    with pytest.raises(SettingsError) as caught:
        settings_with(**env)
    assert expected in str(caught.value)


def test_start_up_says_so_in_one_line(tmp_path):
    result = run(["run", "--http"], base_env() | {"ESCALATION_EMBEDDINGS": "http"}, tmp_path)
    assert result.returncode == 2, result.stderr
    [line] = result.stderr.strip().splitlines()
    assert "ESCALATION_EMBEDDINGS_URL is not set" in line and "Traceback" not in result.stderr


class FakeWordLlama:
    name = "wordllama:l2_supercat:256"

    def embed(self, texts):
        return np.full((len(texts), 256), 1 / 16, dtype=np.float32)


def fake_wordllama_module() -> types.ModuleType:
    module = types.ModuleType("bot.embeddings.wordllama")
    module.WordLlamaEmbedder = FakeWordLlama  # type: ignore[attr-defined]
    return module


def test_auto_uses_wordllama_when_it_imports_and_lexical_only_when_it_does_not(monkeypatch):
    monkeypatch.setitem(sys.modules, "bot.embeddings.wordllama", fake_wordllama_module())
    assert isinstance(build_embedder(settings_with()), FakeWordLlama)
    assert isinstance(build_embedder(settings_with(ESCALATION_EMBEDDINGS="wordllama")), FakeWordLlama)
    assert build_embedder(settings_with(ESCALATION_EMBEDDINGS="none")) is None

    monkeypatch.setitem(sys.modules, "wordllama", None)  # as if the package were not installed
    assert build_embedder(settings_with()) is None
    with pytest.raises(SettingsError, match="ESCALATION_EMBEDDINGS=wordllama but it cannot be imported"):
        build_embedder(settings_with(ESCALATION_EMBEDDINGS="wordllama"))


def test_services_carry_the_embedder(endpoint, tmp_path):
    from bot.clock import FrozenClock
    from bot.services import build_services
    from bot.storage.db import Database
    from tests.factories import NOW

    settings = settings_with(ESCALATION_EMBEDDINGS="http", ESCALATION_EMBEDDINGS_URL=endpoint.base_url, ESCALATION_EMBEDDINGS_MODEL=MODEL)
    services = build_services(settings, clock=FrozenClock(NOW), db=Database(f"sqlite:///{tmp_path / 'x.db'}"))
    assert isinstance(services.embedder, HttpEmbedder) and services.embedder.name == f"http:{MODEL}"
    none = build_services(settings_with(ESCALATION_EMBEDDINGS="none"), clock=FrozenClock(NOW), db=Database(f"sqlite:///{tmp_path / 'y.db'}"))
    assert none.embedder is None


# --- escalation-bot check: which matcher is active ---------------------------------------------


def matcher_line(settings: Settings) -> tuple[int, str]:
    out = io.StringIO()
    problems = check_matcher(settings, out=out)
    [line] = out.getvalue().splitlines()
    return problems, line


def test_check_line_for_each_mode(endpoint, monkeypatch):
    assert matcher_line(settings_with(ESCALATION_EMBEDDINGS="none")) == (0, "ok    matcher: lexical only (ESCALATION_EMBEDDINGS=none)")

    monkeypatch.setitem(sys.modules, "bot.embeddings.wordllama", fake_wordllama_module())
    assert matcher_line(settings_with()) == (0, "ok    matcher: lexical + wordllama (l2_supercat, 256 dims)")
    monkeypatch.setattr(FakeWordLlama, "embed", lambda self, texts: (_ for _ in ()).throw(FileNotFoundError("tokenizer config missing")))
    problems, line = matcher_line(settings_with())  # installed, but its model does not load: said, not a traceback
    assert problems == 1 and line.startswith(
        "FAIL  matcher: lexical + wordllama (l2_supercat, 256 dims): cannot embed (FileNotFoundError: tokenizer config missing)"
    )
    monkeypatch.setitem(sys.modules, "wordllama", None)
    assert matcher_line(settings_with()) == (0, "ok    matcher: lexical only (the wordllama package is not installed)")
    problems, line = matcher_line(settings_with(ESCALATION_EMBEDDINGS="wordllama"))
    assert problems == 1 and line.startswith("FAIL  matcher: ESCALATION_EMBEDDINGS=wordllama but it cannot be imported")

    http = settings_with(
        ESCALATION_EMBEDDINGS="http", ESCALATION_EMBEDDINGS_URL=endpoint.base_url, ESCALATION_EMBEDDINGS_MODEL=MODEL, ESCALATION_EMBEDDINGS_KEY=KEY
    )
    assert matcher_line(http) == (0, f"ok    matcher: lexical + http ({MODEL} at {endpoint.base_url}/embeddings): answered, {DIMS} dims")
    assert len(endpoint.requests) == 1  # a live probe: one short text
    assert describe(build_embedder(http)) == f"lexical + http ({MODEL} at {endpoint.base_url}/embeddings)"

    endpoint.mode, endpoint.status, endpoint.body = "status", 404, json.dumps({"error": {"message": f"model '{MODEL}' not found"}}).encode()
    problems, line = matcher_line(http)
    assert problems == 1
    assert line.startswith(f"FAIL  matcher: lexical + http ({MODEL} at {endpoint.base_url}/embeddings): embeddings endpoint")
    assert "HTTP 404: model 'test-embed-small' not found" in line and "briefs are matched lexically" in line and "ESCALATION_EMBEDDINGS_URL" in line
    assert KEY not in line


def test_check_on_the_command_line_probes_the_endpoint(endpoint, fake_slack, tmp_path):
    env = base_env(fake_slack) | {"ESCALATION_EMBEDDINGS_URL": endpoint.base_url, "ESCALATION_EMBEDDINGS_MODEL": MODEL, "ESCALATION_EMBEDDINGS_KEY": KEY}
    result = run(["check"], env, tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"ok    matcher: lexical + http ({MODEL} at {endpoint.base_url}/embeddings): answered, {DIMS} dims" in result.stdout
    assert "All checks passed." in result.stdout and KEY not in result.stdout

    endpoint.mode, endpoint.status, endpoint.body = "status", 401, json.dumps({"error": {"message": "Incorrect API key provided."}}).encode()
    result = run(["check"], env, tmp_path)
    assert result.returncode == 1, result.stdout
    assert "FAIL  matcher: lexical + http" in result.stdout and "HTTP 401: Incorrect API key provided." in result.stdout
    assert "1 problem(s) to fix." in result.stdout and KEY not in result.stdout


def test_check_with_the_real_wordllama():
    pytest.importorskip("bot.embeddings.wordllama")
    problems, line = matcher_line(settings_with())
    assert problems == 0 and line.startswith("ok    matcher: lexical + wordllama ("), line


# --- what an endpoint may read ---------------------------------------------------------------------


class RecordingEmbedder:
    """An embedder outside the process (like the endpoint): it keeps every text it was sent."""

    name = "fake:remote"

    def __init__(self, remote: bool = True) -> None:
        self.remote = remote
        self.texts: list[str] = []

    def embed(self, texts) -> np.ndarray:
        self.texts.extend(texts)
        rows = np.ones((len(texts), 4), dtype=np.float32)
        return rows / np.linalg.norm(rows, axis=1, keepdims=True)


def _store(db, patterns, destination, summary: str) -> None:
    from bot.domain.brief import Destination
    from bot.domain.validation import validate_draft
    from bot.storage import escalations
    from tests.factories import NOW, draft

    brief = validate_draft(draft(Destination(destination), now=NOW, summary=summary), now=NOW)
    prior = patterns.prior("T1", brief.model_dump(mode="json"), at=NOW)
    with db.session() as s:
        row = escalations.create_escalation(s, team_id="T1", brief=brief, agent_user_id="U1", channel_id="C1", now=NOW).escalation
        patterns.matches_for(s, row, prior)


@pytest.mark.parametrize("allowed", [False, True])
def test_a_security_brief_reaches_an_endpoint_only_when_security_details_may_leave_slack(db, allowed):
    """ESCALATION_SECURITY_DETAILS_OUTSIDE_SLACK governs the embeddings endpoint as it does ticket notes:
    off, a security brief is matched on words alone and its text is never sent, neither when filed
    nor by the background job (which must not keep picking it up either)."""
    from bot.clock import FrozenClock
    from bot.usecases.patterns import Patterns
    from tests.factories import NOW

    embedder = RecordingEmbedder()
    patterns = Patterns(db=db, clock=FrozenClock(NOW), embedder=embedder, private_details_outside=allowed)
    _store(db, patterns, "security", "CANARY-7731 tenant data exposed")
    _store(db, patterns, "engineering", "Exports time out")
    # Stored before embeddings existed: the background job finds them.
    lexical = Patterns(db=db, clock=FrozenClock(NOW))
    _store(db, lexical, "security", "CANARY-7732 token leaked")
    _store(db, lexical, "engineering", "Invoices show the wrong VAT")
    assert patterns.embed_backlog() == (2 if allowed else 1)
    assert patterns.embed_backlog() == 0  # nothing left behind, nothing picked up again
    sent = " ".join(embedder.texts)
    assert "Exports time out" in sent and "wrong VAT" in sent
    assert ("CANARY-7731" in sent and "CANARY-7732" in sent) if allowed else "CANARY" not in sent


def test_a_local_model_embeds_security_briefs_in_process(db):
    from bot.clock import FrozenClock
    from bot.usecases.patterns import Patterns
    from tests.factories import NOW

    embedder = RecordingEmbedder(remote=False)
    _store(db, Patterns(db=db, clock=FrozenClock(NOW), embedder=embedder), "security", "CANARY-7733 tenant data exposed")
    assert "CANARY-7733" in " ".join(embedder.texts)
