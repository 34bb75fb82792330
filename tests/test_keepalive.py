"""The bot's WebClient keeps its connection to Slack open between calls (bot.slack_api.keepalive), through
the wire against the stand-in Slack: one connection per thread, fresh ones when the server closed
or the connection idled, and slack_sdk's retries and the gateway's errors as with urllib."""

from __future__ import annotations

import json
import shutil
import socket
import ssl
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import SimpleNamespace
from urllib.error import URLError

import pytest
from slack_sdk import WebClient

from bot.slack_api import keepalive
from bot.slack_api.gateway import SlackCallFailed, SlackGateway, make_web_client
from bot.slack_api.keepalive import KeepAliveWebClient
from tests.support.fake_slack import FakeSlack


@pytest.fixture(autouse=True)
def _fresh_pool():
    keepalive.close_connections()
    yield
    keepalive.close_connections()


@pytest.fixture
def slack():
    with FakeSlack(keep_alive=True) as fake:
        fake.add_channel("C0ENGINEER", "eng-escalations")
        yield fake


@pytest.fixture
def slept(monkeypatch) -> list[float]:
    """slack_sdk's retry handlers' sleeps, recorded instead of slept."""
    out: list[float] = []
    fake_time = SimpleNamespace(sleep=out.append)
    monkeypatch.setattr("slack_sdk.http_retry.handler.time", fake_time)
    monkeypatch.setattr("slack_sdk.http_retry.builtin_handlers.time", fake_time)
    return out


def gateway(fake: FakeSlack, **kwargs) -> SlackGateway:
    return SlackGateway(make_web_client("xoxb-test", fake.base_url, **kwargs))


def drop_server_side(fake: FakeSlack) -> None:
    """The server closes its idle keep-alive connections without a word (as Slack's edge does)."""
    with fake._conn_lock:
        socks = list(fake._conn_socks)
    for s in socks:
        s.shutdown(socket.SHUT_RDWR)


def test_sequential_calls_from_one_thread_share_one_connection(slack):
    gw = gateway(slack)
    assert isinstance(gw.client, KeepAliveWebClient)
    for n in range(5):
        gw.post_message("C0ENGINEER", text=f"brief {n}")
    assert gw.user_timezone("U0AGENT") == "UTC"
    gw.update_message("C0ENGINEER", slack.calls("chat.postMessage")[0].response["ts"], text="edited", blocks=[])
    assert slack.connections == 1
    assert [c.status for c in slack.calls()] == [200] * 7


def test_requests_carry_what_urlopen_sent(slack):
    """Same headers (User-Agent, Authorization, JSON vs form Content-Type, lengths) and bodies as
    slack_sdk's urllib path, except that the connection is not asked to close."""
    old, new = WebClient(token="xoxb-test", base_url=slack.base_url), make_web_client("xoxb-test", slack.base_url)
    for client in (old, new):
        client.chat_postMessage(channel="C0ENGINEER", text="héllo", blocks=[{"type": "section", "text": {"type": "mrkdwn", "text": "*hi*"}}])
        client.users_info(user="U0AGENT")
        client.auth_test()
    calls = slack.calls()
    for a, b in zip(calls[:3], calls[3:]):
        assert (a.method, a.raw_body, a.content_type, a.http_method) == (b.method, b.raw_body, b.content_type, b.http_method)
        assert a.header("Connection") == "close" and b.header("Connection") is None
        without = lambda call: {k.lower(): v for k, v in call.headers.items() if k.lower() != "connection"}  # noqa: E731
        assert without(a) == without(b)
    assert calls[3].content_type.startswith("application/json") and calls[4].content_type == "application/x-www-form-urlencoded"
    assert calls[3].header("Authorization") == "Bearer xoxb-test" and "Python/" in calls[3].header("User-Agent")


def test_two_threads_use_their_own_connections_and_both_succeed(slack):
    gw = gateway(slack)
    start = threading.Barrier(2)
    results: dict[str, list[str]] = {}

    def work(name: str) -> None:
        start.wait()
        try:
            results[name] = [gw.post_message("C0ENGINEER", text=f"{name} {n}")[1] for n in range(10)]
        finally:
            keepalive.close_connections()

    threads = [threading.Thread(target=work, args=(name,)) for name in ("a", "b")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert len(results["a"]) == len(results["b"]) == 10
    assert len(set(results["a"] + results["b"])) == 20  # every post landed, none answered twice
    assert slack.connections == 2


def test_a_connection_the_server_closes_is_not_reused(slack):
    gw = gateway(slack)
    gw.post_message("C0ENGINEER", text="one")
    slack.keep_alive = False  # answers `Connection: close`, and closes
    gw.post_message("C0ENGINEER", text="two")
    slack.keep_alive = True
    gw.post_message("C0ENGINEER", text="three")  # a new connection, kept again
    gw.post_message("C0ENGINEER", text="four")
    assert slack.connections == 2
    # A fault answer that says `Connection: close` on a kept connection: also a new one after it.
    slack.fail("chat.postMessage", error="channel_not_found", headers={"Connection": "close"})
    with pytest.raises(SlackCallFailed) as failed:
        gw.post_message("C0ENGINEER", text="five")
    assert failed.value.error == "channel_not_found"
    gw.post_message("C0ENGINEER", text="six")
    assert slack.connections == 3


def test_a_connection_closed_while_idle_is_replaced_before_sending(slack, monkeypatch):
    seen: list[bool] = []
    check = keepalive._closed_by_peer
    monkeypatch.setattr(keepalive, "_closed_by_peer", lambda sock: seen.append(check(sock)) or seen[-1])
    gw = gateway(slack)
    gw.post_message("C0ENGINEER", text="one")
    gw.post_message("C0ENGINEER", text="two")
    drop_server_side(slack)
    gw.post_message("C0ENGINEER", text="three")
    assert seen == [False, True]  # seen as closed before anything was sent on it
    assert slack.connections == 2 and len(slack.calls("chat.postMessage")) == 3


def test_a_connection_dropped_as_the_request_goes_out_is_retried_once_on_a_new_one(slack, monkeypatch):
    """The race the idle check cannot see: the server closes just as we send. No slack_sdk retry
    handler is involved (there is none on this client): the request is sent again on a new connection."""
    client = KeepAliveWebClient(token="xoxb-test", base_url=slack.base_url, retry_handlers=[])
    client.chat_postMessage(channel="C0ENGINEER", text="one")
    monkeypatch.setattr(keepalive, "_closed_by_peer", lambda sock: False)
    drop_server_side(slack)
    assert client.chat_postMessage(channel="C0ENGINEER", text="two")["ok"]
    assert slack.connections == 2 and len(slack.calls("chat.postMessage")) == 2


def test_on_a_new_connection_a_drop_is_left_to_slack_sdks_retry_handler(slack, slept):
    gw = gateway(slack)
    slack.fail("chat.postMessage", disconnect=True)
    gw.post_message("C0ENGINEER", text="one")  # ConnectionErrorRetryHandler sends it again
    assert [c.dropped for c in slack.calls("chat.postMessage")] == [True, False] and len(slept) == 1
    bare = SlackGateway(KeepAliveWebClient(token="xoxb-test", base_url=slack.base_url, retry_handlers=[]))
    keepalive.close_connections()
    slack.fail("chat.postMessage", disconnect=True)
    with pytest.raises(SlackCallFailed) as failed:
        bare.post_message("C0ENGINEER", text="two")
    assert failed.value.error == "connection_error"
    assert len(slack.calls("chat.postMessage")) == 3  # not sent again behind slack_sdk's back


def test_a_timeout_on_a_kept_connection_is_not_sent_again(slack):
    """Slack may have carried the call out: the gateway reports connection_error (the caller then
    looks for the post before trying again); the next call goes out on a new connection."""
    gw = gateway(slack, timeout=1)
    gw.post_message("C0ENGINEER", text="one")
    slack.fail("chat.postMessage", delay=1.5, accept_first=True)
    with pytest.raises(SlackCallFailed) as failed:
        gw.post_message("C0ENGINEER", text="two")
    assert failed.value.error == "connection_error"
    assert len(slack.calls("chat.postMessage")) == 2
    gw.post_message("C0ENGINEER", text="three")
    assert slack.connections == 2 and len(slack.calls("chat.postMessage")) == 3


def test_rate_limits_surface_with_retry_after_after_slack_sdks_retry(slack, slept):
    gw = gateway(slack)
    slack.fail("chat.postMessage", status=429, headers={"Retry-After": "7"}, times=2)
    with pytest.raises(SlackCallFailed) as failed:
        gw.post_message("C0ENGINEER", text="one")
    assert (failed.value.error, failed.value.status, failed.value.retry_after) == ("ratelimited", 429, 7)
    assert [c.status for c in slack.calls("chat.postMessage")] == [429, 429]  # RateLimitErrorRetryHandler tried again…
    assert len(slept) == 1 and 7 <= slept[0] < 8  # …after Retry-After
    slack.fail("chat.postMessage", status=429, headers={"Retry-After": "2"})
    assert gw.post_message("C0ENGINEER", text="two")[1]  # one 429, then posted
    assert slack.connections == 1  # error answers are read to the end; the connection stays usable


@pytest.mark.parametrize("fault", [{"status": 500}, {"status": 503}, {"status": 502, "body": "<html>Bad gateway</html>"}, {"error": "invalid_auth"}])
def test_errors_map_to_the_same_slack_call_failed_as_with_urllib(slack, fault):
    def failure(client: WebClient) -> tuple:
        slack.fail("chat.postMessage", **fault)
        with pytest.raises(SlackCallFailed) as failed:
            SlackGateway(client).post_message("C0ENGINEER", text="x")
        return failed.value.method, failed.value.error, failed.value.status, failed.value.retry_after

    old = failure(WebClient(token="xoxb-test", base_url=slack.base_url))
    assert failure(make_web_client("xoxb-test", slack.base_url)) == old
    assert old[2] == fault.get("status", 200)


def test_connection_refused_is_a_connection_error_after_slack_sdks_retries(slept):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{s.getsockname()[1]}/api/"
    with pytest.raises(SlackCallFailed) as failed:
        SlackGateway(make_web_client("xoxb-test", closed)).post_message("C0ENGINEER", text="x")
    assert failed.value.error == "connection_error"
    cause = failed.value.__cause__
    assert isinstance(cause, URLError) and isinstance(cause.reason, ConnectionRefusedError)  # as urlopen raises it
    assert len(slept) == 2  # ConnectionErrorRetryHandler(max_retry_count=2) ran


def test_a_connection_idle_for_over_30_seconds_is_replaced(slack, monkeypatch):
    now = [1000.0]
    monkeypatch.setattr(keepalive, "monotonic", lambda: now[0])
    gw = gateway(slack)
    gw.post_message("C0ENGINEER", text="one")
    now[0] += 29
    gw.post_message("C0ENGINEER", text="two")
    assert slack.connections == 1
    now[0] += 31
    gw.post_message("C0ENGINEER", text="three")
    assert slack.connections == 2


def test_file_uploads_still_go_through(slack):
    """files_upload_v2: the Web API calls on the kept connection, the bytes to the upload URL by slack_sdk's own path."""
    data = bytes(range(256)) * 40
    file_id = gateway(slack).upload_file("C0ENGINEER", filename="chart.png", content=data, title="Volume", initial_comment="Weekly")
    assert slack.files[file_id]["content"] == data and slack.files[file_id]["channel"] == "C0ENGINEER"
    assert [c.method for c in slack.calls()] == ["files.getUploadURLExternal", "upload", "files.completeUploadExternal"]
    assert slack.last("upload").header("Connection") == "close"  # urllib's
    assert slack.connections == 2


def test_with_a_proxy_slack_sdks_urllib_path_is_used(slack):
    client = KeepAliveWebClient(token="xoxb-test", base_url="http://slack.invalid/api/", proxy=f"http://127.0.0.1:{slack.port}")
    assert client.chat_postMessage(channel="C0ENGINEER", text="via proxy")["ok"]
    call = slack.last("chat.postMessage")
    assert call.header("Connection") == "close" and call.header("Host") == "slack.invalid"


# --- other servers: HTTP/1.0, https --------------------------------------------------------------


class _Ok(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self) -> None:  # noqa: N802
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        raw = json.dumps({"ok": True, "channel": "C1", "ts": "1.000100"}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)

    def log_message(self, *args) -> None:
        pass


@contextmanager
def serving(handler: type[BaseHTTPRequestHandler], context: ssl.SSLContext | None = None) -> Iterator[tuple[str, list]]:
    """(base_url, accepted connections) of a server answering every call ok."""
    accepted: list = []

    class Server(ThreadingHTTPServer):
        daemon_threads = True

        def get_request(self):
            sock, addr = super().get_request()
            accepted.append(addr)
            return (context.wrap_socket(sock, server_side=True) if context else sock), addr

    with Server(("127.0.0.1", 0), handler) as server:
        threading.Thread(target=server.serve_forever, daemon=True).start()
        try:
            yield f"{'https' if context else 'http'}://127.0.0.1:{server.server_address[1]}/api/", accepted
        finally:
            keepalive.close_connections()
            server.shutdown()


def test_http_1_0_answers_are_not_reused():
    class Http10(_Ok):
        protocol_version = "HTTP/1.0"

    with serving(Http10) as (url, accepted):
        gw = SlackGateway(make_web_client("xoxb-test", url))
        assert [gw.post_message("C1", text="x") for _ in range(3)] == [("C1", "1.000100")] * 3
        assert len(accepted) == 3


@pytest.mark.skipif(shutil.which("openssl") is None, reason="needs openssl to make a certificate")
def test_https_keeps_one_tls_connection_and_still_verifies_certificates(tmp_path):
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=localhost",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
    )
    server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_ctx.load_cert_chain(cert, key)
    with serving(_Ok, server_ctx) as (url, accepted):
        client = KeepAliveWebClient(token="xoxb-test", base_url=url, ssl=ssl.create_default_context(cafile=str(cert)))
        for _ in range(3):
            assert SlackGateway(client).post_message("C1", text="x") == ("C1", "1.000100")
        assert len(accepted) == 1
        with pytest.raises(SlackCallFailed) as failed:  # the default context does not trust a self-signed certificate
            SlackGateway(KeepAliveWebClient(token="xoxb-test", base_url=url, retry_handlers=[])).post_message("C1", text="x")
        assert failed.value.error == "connection_error"
        assert isinstance(failed.value.__cause__.reason, ssl.SSLCertVerificationError)
