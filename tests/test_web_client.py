"""The bot's Web API client (bot.slack_api.web_client) keeps its connections to Slack open and reuses
them through supported APIs only (slack_sdk's AsyncWebClient on a shared aiohttp session), through
the wire against the stand-in Slack: calls share a connection, a closed or timed-out one is not
reused, 429s come back at once with their Retry-After, and errors reach the gateway as they did
through slack_sdk's sync client."""

from __future__ import annotations

import gc
import json
import re
import shutil
import socket
import ssl
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import aiohttp
import pytest
from slack_sdk import WebClient
from slack_sdk.http_retry.builtin_async_handlers import AsyncConnectionErrorRetryHandler
from slack_sdk.http_retry.builtin_interval_calculators import FixedValueRetryIntervalCalculator

from bot.slack_api import web_client
from bot.slack_api.gateway import SlackCallFailed, SlackGateway, make_web_client
from bot.slack_api.web_client import SlackWebClient
from tests.support.fake_slack import FakeSlack

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def slack():
    with FakeSlack(keep_alive=True) as fake:
        fake.add_channel("C0ENGINEER", "eng-escalations")
        web_client.close()  # no connection kept from an earlier test's stand-in
        yield fake
    web_client.close()


def gateway(fake: FakeSlack, **kwargs) -> SlackGateway:
    return SlackGateway(make_web_client("xoxb-test", fake.base_url, **kwargs))


class SyncReference:
    """slack_sdk's own sync WebClient behind the gateway's interface: the behaviour to match. (Kept
    here only as that reference; the bot itself no longer uses the sync client.)"""

    def __init__(self, base_url: str) -> None:
        self.client = WebClient(token="xoxb-test", base_url=base_url, retry_handlers=[])

    def call(self, method: str, **kwargs):
        return getattr(self.client, method.replace(".", "_"))(**kwargs)


def quick_retries(client: SlackWebClient) -> SlackWebClient:
    client.retry_handlers = [AsyncConnectionErrorRetryHandler(max_retry_count=2, interval_calculator=FixedValueRetryIntervalCalculator(0.01))]
    return client


def test_sequential_calls_share_one_connection(slack):
    gw = gateway(slack)
    for n in range(5):
        gw.post_message("C0ENGINEER", text=f"brief {n}")
    assert gw.user_timezone("U0AGENT") == "UTC"
    gw.update_message("C0ENGINEER", slack.calls("chat.postMessage")[0].response["ts"], text="edited", blocks=[])
    assert slack.connections == 1
    assert [c.status for c in slack.calls()] == [200] * 7


def test_requests_carry_what_slack_sdks_sync_client_sent(slack):
    """Same methods, arguments and token as slack_sdk's sync client; posts as the same JSON. (Reads
    such as users.info go as GET with a query string, slack_sdk's async form, where the sync client
    sent a form POST: Slack takes both.)"""
    for client in (SyncReference(slack.base_url), make_web_client("xoxb-test", slack.base_url)):
        client.call("chat.postMessage", channel="C0ENGINEER", text="héllo", blocks=[{"type": "section", "text": {"type": "mrkdwn", "text": "*hi*"}}])
        client.call("users.info", user="U0AGENT")
        client.call("auth.test")
    calls = slack.calls()
    for a, b in zip(calls[:3], calls[3:]):
        assert (a.method, a.args) == (b.method, b.args)
        assert b.header("Authorization") == "Bearer xoxb-test" and "Python/" in b.header("User-Agent")
    sync_post, post = calls[0], calls[3]
    assert (post.http_method, post.content_type.split(";")[0]) == (sync_post.http_method, sync_post.content_type.split(";")[0]) == ("POST", "application/json")
    assert json.loads(post.raw_body) == json.loads(sync_post.raw_body)
    assert post.header("Connection") != "close"


def test_threads_calling_at_once_all_get_their_own_answer(slack):
    gw = gateway(slack)
    start = threading.Barrier(4)
    results: dict[int, list[str]] = {}

    def work(n: int) -> None:
        start.wait()
        results[n] = [gw.post_message("C0ENGINEER", text=f"{n} {i}")[1] for i in range(10)]

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert sorted(len(r) for r in results.values()) == [10] * 4
    assert len({ts for r in results.values() for ts in r}) == 40  # every post landed, none answered twice
    assert slack.connections <= 4  # kept and shared, not one per call


def test_a_connection_the_server_closes_is_not_reused(slack):
    gw = gateway(slack)
    gw.post_message("C0ENGINEER", text="one")
    slack.keep_alive = False  # answers `Connection: close`, and closes
    gw.post_message("C0ENGINEER", text="two")
    slack.keep_alive = True
    gw.post_message("C0ENGINEER", text="three")  # a new connection, kept again
    gw.post_message("C0ENGINEER", text="four")
    assert slack.connections == 2
    slack.fail("chat.postMessage", error="channel_not_found", headers={"Connection": "close"})
    with pytest.raises(SlackCallFailed) as failed:
        gw.post_message("C0ENGINEER", text="five")
    assert failed.value.error == "channel_not_found"
    gw.post_message("C0ENGINEER", text="six")
    assert slack.connections == 3 and all(c.ok for c in slack.calls("chat.postMessage") if c.args["text"] != "five")


def test_a_connection_the_server_dropped_while_idle_is_replaced_before_sending(slack):
    gw = gateway(slack)
    gw.client.retry_handlers = []  # no retry to hide a request sent on the dead connection
    gw.post_message("C0ENGINEER", text="one")
    with slack._conn_lock:
        socks = list(slack._conn_socks)
    for s in socks:  # as Slack's edge closes idle connections, without a word
        s.shutdown(socket.SHUT_RDWR)
    assert gw.post_message("C0ENGINEER", text="two")[1]
    assert slack.connections == 2 and [c.args["text"] for c in slack.calls("chat.postMessage")] == ["one", "two"]


def test_a_timeout_is_a_connection_error_and_the_call_is_not_sent_again(slack):
    """Slack may have carried the call out: the gateway reports connection_error (the caller then
    looks for the post before trying again); the next call goes out on a new connection."""
    gw = gateway(slack, timeout=0.5)
    gw.post_message("C0ENGINEER", text="one")
    slack.fail("chat.postMessage", delay=1.5, accept_first=True)
    with pytest.raises(SlackCallFailed) as failed:
        gw.post_message("C0ENGINEER", text="two")
    assert failed.value.error == "connection_error" and isinstance(failed.value.__cause__, TimeoutError)
    assert len(slack.calls("chat.postMessage")) == 2
    gw.post_message("C0ENGINEER", text="three")
    assert slack.connections == 2 and len(slack.calls("chat.postMessage")) == 3


def test_a_429_comes_back_at_once_and_the_connection_stays_in_use(slack):
    slack.add_channel("C0PRODUCT1", "product-escalations")
    gw = gateway(slack)
    gw.post_message("C0ENGINEER", text="one")
    slack.fail("chat.postMessage", status=429, headers={"Retry-After": "7"})
    with pytest.raises(SlackCallFailed) as failed:
        gw.post_message("C0ENGINEER", text="two")
    assert (failed.value.error, failed.value.status, failed.value.retry_after) == ("ratelimited", 429, 7)
    assert gw.post_message("C0PRODUCT1", text="three")[1]  # another channel, at once
    assert [c.status for c in slack.calls("chat.postMessage")] == [200, 429, 200]  # the 429 not sent again
    assert slack.connections == 1  # error answers are read to the end; the connection stays usable


@pytest.mark.parametrize(
    "fault",
    [
        {"status": 429, "headers": {"Retry-After": "7"}},
        {"status": 500},
        {"status": 503},
        {"status": 502, "body": "<html>Bad gateway</html>"},
        {"error": "invalid_auth"},
        {"error": "not_in_channel"},
    ],
)
def test_errors_map_to_the_same_slack_call_failed_as_with_the_sync_client(slack, fault):
    def failure(client) -> tuple:
        slack.fail("chat.postMessage", **fault)
        with pytest.raises(SlackCallFailed) as failed:
            SlackGateway(client).post_message("C0ENGINEER", text="x")
        return failed.value.method, failed.value.error, failed.value.status, failed.value.retry_after

    reference = failure(SyncReference(slack.base_url))
    if "body" in fault:  # the sync client reported the page's text as the error; Slack's status is what the retries read
        reference = (*reference[:1], f"http_{fault['status']}", *reference[2:])
    assert failure(make_web_client("xoxb-test", slack.base_url)) == reference
    assert reference[2] == fault.get("status", 200)
    assert len(slack.calls("chat.postMessage")) == 2  # one call each: a 429 is not waited out and sent again


def test_connection_refused_is_a_connection_error_after_the_retries():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{s.getsockname()[1]}/api/"
    with pytest.raises(SlackCallFailed) as failed:
        SlackGateway(quick_retries(make_web_client("xoxb-test", closed))).post_message("C0ENGINEER", text="x")
    assert failed.value.error == "connection_error"
    assert isinstance(failed.value.__cause__, aiohttp.ClientConnectorError)


def test_file_uploads_go_through(slack):
    data = bytes(range(256)) * 40
    file_id = gateway(slack).upload_file("C0ENGINEER", filename="chart.png", content=data, title="Volume", initial_comment="Weekly")
    assert slack.files[file_id]["content"] == data and slack.files[file_id]["channel"] == "C0ENGINEER"
    assert [c.method for c in slack.calls()] == ["files.getUploadURLExternal", "upload", "files.completeUploadExternal"]
    assert slack.connections == 1


def test_a_sync_call_made_inside_an_event_loop_goes_through_the_shared_loop_thread(slack):
    """A thread whose loop is running cannot run another call on it: the call is handed to the shared
    loop thread. On that thread itself, a synchronous call would wait for itself: refused."""
    client = make_web_client("xoxb-test", slack.base_url)

    async def nested(_client):
        return client.call("auth.test")["ok"]

    assert client.run(nested) is True

    async def on_the_shared_loop(_client):
        return client.call("auth.test")

    async def nested_twice(_client):
        return client.run(on_the_shared_loop)

    with pytest.raises(RuntimeError, match="own event loop thread"):
        client.run(nested_twice)


def test_each_thread_keeps_its_own_connections_and_closes_them_when_it_ends(slack):
    client = make_web_client("xoxb-test", slack.base_url)
    loops = []

    def work() -> None:
        client.call("auth.test")
        client.call("auth.test")
        current = web_client._THREAD.current
        loops.append((current.loop, current.session))  # not the holder: the thread's end drops it

    for _ in range(2):
        thread = threading.Thread(target=work)
        thread.start()
        thread.join(10)
    assert slack.connections == 2 and [c.status for c in slack.calls()] == [200] * 4
    gc.collect()
    assert loops[0][0] is not loops[1][0]
    assert all(loop.is_closed() and session.closed for loop, session in loops)  # closed as their threads ended


def test_the_bot_uses_no_private_slack_sdk_names():
    """Issue 17: a private function can change in any slack_sdk release. No import of an underscored
    name from slack_sdk, and no override of one of its underscored methods."""
    private_import = re.compile(r"from slack_sdk[\w.]* import [^\n]*\b_\w+|slack_sdk(\.\w+)*\._\w+")
    override = re.compile(r"def (_perform_\w+|_request\w*|_send\w*|_urllib\w*)\(")
    offenders = []
    for path in (ROOT / "bot").rglob("*.py"):
        text = path.read_text()
        if private_import.search(text) or ("slack_sdk" in text and override.search(text)):
            offenders.append(str(path.relative_to(ROOT)))
    assert offenders == []


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
            web_client.close()
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
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=localhost", "-addext", "subjectAltName=IP:127.0.0.1"]
        + ["-keyout", str(key), "-out", str(cert)],
        check=True,
        capture_output=True,
    )
    server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_ctx.load_cert_chain(cert, key)
    with serving(_Ok, server_ctx) as (url, accepted):
        client = SlackWebClient("xoxb-test", url, ssl=ssl.create_default_context(cafile=str(cert)))
        for _ in range(3):
            assert SlackGateway(client).post_message("C1", text="x") == ("C1", "1.000100")
        assert len(accepted) == 1
        with pytest.raises(SlackCallFailed) as failed:  # the default context does not trust a self-signed certificate
            SlackGateway(SlackWebClient("xoxb-test", url, retry_handlers=[])).post_message("C1", text="x")
        assert failed.value.error == "connection_error"
        assert isinstance(failed.value.__cause__, aiohttp.ClientConnectorCertificateError)
