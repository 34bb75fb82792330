"""Logging set-up, one for the serving process and its brief worker processes."""

from __future__ import annotations

import logging
import secrets

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
NOISY = ("alembic", "slack_sdk", "slack_bolt", "aiohttp.access")  # migration and HTTP-client chatter: noise at INFO
# slack_sdk decides whether to build its debug lines from its clients' loggers' *own* level
# (`logger.level <= DEBUG`), not the effective one. Left unset (0), every Web API call formats the
# whole request as text, then logging drops it: views.open's 14 KB brief modal took 0.1 ms, 20 % of
# the event loop's time per /escalate under load (py-spy, benchmarks/results.md).
SDK_CLIENT_LOGGERS = ("slack_sdk.web.base_client", "slack_sdk.web.async_base_client")


def configure_logging(level: str, *, process: str | None = None) -> None:
    """Root handler at `level`; below DEBUG the noisy libraries at WARNING. `process` tags each line."""
    tag = f"[{process}] " if process else ""
    logging.basicConfig(level=level, format=FORMAT.replace("%(name)s", tag + "%(name)s"))
    if level != "DEBUG":
        for name in NOISY:
            logging.getLogger(name).setLevel(logging.WARNING)
    for name in SDK_CLIENT_LOGGERS:  # their own level, so the SDK's check reads what logging would do
        logger = logging.getLogger(name)
        logger.setLevel(logger.getEffectiveLevel())


def error_reference() -> str:
    """A short code a person can quote to an admin, and that the log line carries."""
    return "ERR-" + secrets.token_hex(4).upper()
