"""Logging set-up: slack_sdk must not format a debug line per Web API call that nobody will see."""

from __future__ import annotations

import logging

import pytest
from slack_sdk import WebClient

from bot.logs import NOISY, SDK_CLIENT_LOGGERS, configure_logging


class CountedRepr(dict):
    """A JSON body that counts how often it is turned into text (slack_sdk's debug line does)."""

    formatted = 0

    def __repr__(self) -> str:
        CountedRepr.formatted += 1
        return super().__repr__()


@pytest.fixture(autouse=True)
def restore_levels():
    names = (*NOISY, *SDK_CLIENT_LOGGERS)
    saved = {name: logging.getLogger(name).level for name in names}
    CountedRepr.formatted = 0
    yield
    for name, level in saved.items():
        logging.getLogger(name).setLevel(level)


def _call_nowhere() -> None:
    client = WebClient(token="xoxb-test", base_url="http://127.0.0.1:9/api/", timeout=0.2)  # port 9: refused at once
    with pytest.raises(Exception):
        client.api_call("chat.postMessage", json=CountedRepr(channel="C1", text="x" * 1000))


def test_at_info_the_sdk_builds_no_debug_text():
    configure_logging("INFO")
    _call_nowhere()
    assert CountedRepr.formatted == 0
    for name in SDK_CLIENT_LOGGERS:
        assert logging.getLogger(name).level == logging.WARNING


def test_at_debug_the_sdk_still_logs_its_requests(caplog):
    with caplog.at_level(logging.DEBUG):  # the root at DEBUG, as basicConfig sets it outside pytest
        configure_logging("DEBUG")
        _call_nowhere()
    assert CountedRepr.formatted >= 1
    assert any("Sending a request" in r.getMessage() for r in caplog.records)


def test_unset_levels_format_every_call():
    """What configure_logging prevents (if slack_sdk ever reads the effective level, this fails and
    SDK_CLIENT_LOGGERS can go)."""
    for name in SDK_CLIENT_LOGGERS:
        logging.getLogger(name).setLevel(logging.NOTSET)
    logging.getLogger("slack_sdk").setLevel(logging.WARNING)
    _call_nowhere()
    assert CountedRepr.formatted >= 1
