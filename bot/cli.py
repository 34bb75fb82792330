"""`escalation-bot`: run the bot, check the Slack set-up, export a brief, upgrade the database.

Every failure an admin can cause (a missing setting, an unreachable database, Slack refusing the
token) ends with one line saying what to do and exit code 2, never a traceback.
"""

from __future__ import annotations

import argparse
import sys

from bot.logs import configure_logging
from bot.runtime.startup import open_database
from bot.settings import Settings, SettingsError, load_settings, require_for_mode

EXIT_CONFIG = 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="escalation-bot", description="Escalation briefs for Slack support teams.")
    parser.add_argument("--env-file", default=".env", help="settings file to read besides the environment (default: .env)")
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="run the bot (Socket Mode, or HTTP with --http)")
    run.add_argument("--http", action="store_true", help="serve Slack's requests at POST /slack/events instead of Socket Mode")
    run.add_argument("--host", default="0.0.0.0", help="HTTP mode: address to listen on (default 0.0.0.0)")
    run.add_argument("--port", type=int, default=None, help="HTTP mode: port (default: PORT or 3000)")
    run.add_argument("--workers", type=int, default=1, help="HTTP mode: server processes (SQLite: keep 1)")

    sub.add_parser("check", help="check the token and every destination channel")

    export = sub.add_parser("export", help="print a brief as plain text in the escalation document structure")
    export.add_argument("ref", help="the brief's ID, e.g. ESC-42")
    export.add_argument("--team", help="workspace (team) ID, when the database holds several")
    export.add_argument("--tz", default="UTC", help="time zone for the deadline, e.g. Europe/Paris (default UTC)")

    db = sub.add_parser("db", help="database maintenance")
    db_sub = db.add_subparsers(dest="db_command", required=True)
    db_sub.add_parser("upgrade", help="apply all migrations")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        settings = load_settings(args.env_file)
        configure_logging(settings.log_level)
        return _dispatch(args, settings)
    except SettingsError as exc:
        print(f"escalation-bot: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    except KeyboardInterrupt:
        return 130


def _dispatch(args: argparse.Namespace, settings: Settings) -> int:
    if args.command == "db":
        from bot.storage.db import redacted

        db = open_database(settings)
        print(f"database is at the latest schema ({redacted(db.url)})")
        return 0
    if args.command == "export":
        return _export(args, settings)
    if args.command == "check":
        from bot.usecases.setup_check import run_check

        return run_check(settings, out=sys.stdout)
    if args.command == "run":
        require_for_mode(settings, http=args.http)
        from bot.runtime.server import serve_http, serve_socket_mode

        if args.http:
            return serve_http(settings, host=args.host, port=args.port or settings.port, workers=args.workers)
        return serve_socket_mode(settings)
    raise AssertionError(args.command)


def _export(args: argparse.Namespace, settings: Settings) -> int:
    from bot.domain.brief import parse_ref
    from bot.storage import escalations

    number = parse_ref(args.ref)
    if number is None:
        print(f"escalation-bot: {args.ref!r} is not a brief ID; use the form ESC-42.", file=sys.stderr)
        return EXIT_CONFIG
    db = open_database(settings)
    with db.session() as session:
        rows = [escalations.get_by_number(session, args.team, number)] if args.team else escalations.find_by_number(session, number)
        rows = [r for r in rows if r is not None]
        if not rows:
            print(f"escalation-bot: no brief {args.ref} in this database.", file=sys.stderr)
            return 1
        if len(rows) > 1:
            teams = ", ".join(r.team_id for r in rows)
            print(f"escalation-bot: {args.ref} exists in several workspaces ({teams}); add --team.", file=sys.stderr)
            return EXIT_CONFIG
        row = rows[0]
    from blocks.plaintext import brief_text
    from bot.domain.brief import format_ref

    sys.stdout.write(brief_text(escalations.brief_of(row), ref=format_ref(row.number), tz=args.tz))
    return 0


if __name__ == "__main__":
    sys.exit(main())
