"""The `claude-analytics` command line: arguments, messages and exit codes (`errors.py`).

Loading logic lives in the source and `pipelines.runner`; this module only translates between people and them.
"""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import sys
from collections.abc import Callable, Sequence
from typing import NoReturn

from .errors import (
    EXIT_FAILED,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_USAGE,
    RunFailed,
    UsageError,
    duckdb_memory_help,
    first_line,
)

log = logging.getLogger("claude_analytics.cli")


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:  # argparse's own errors: one line, exit 2
        self.exit(EXIT_USAGE, f"claude-analytics: error: {message} (see --help)\n")


def _day(text: str) -> dt.date:
    from sources.claude_analytics.days import parse_day

    try:
        return parse_day(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _target(args: argparse.Namespace):
    from .destinations import Target

    return Target(args.destination, args.dataset_name, duckdb_file=getattr(args, "duckdb_file", None))


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--destination",
        default="duckdb",
        choices=["duckdb", "postgres", "bigquery", "snowflake"],
        help="where to load (default: duckdb, file warehouse.duckdb)",
    )
    parser.add_argument("--dataset-name", default="claude_analytics", help="dataset / schema name")
    from sources.claude_analytics.endpoints import BY_NAME

    parser.add_argument("--endpoints", default=None, help=f"comma-separated: {','.join(BY_NAME)} (default: all)")
    parser.add_argument("--log-level", default="INFO", choices=["DEBUG", "INFO", "WARNING", "ERROR"])


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="claude-analytics", description="Load the Claude Enterprise Analytics API into a warehouse.")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    run = commands.add_parser("run", help="incremental load: the nightly job")
    _common(run)
    run.add_argument("--wait", action="store_true", help="wait for a run already in progress instead of exiting")

    backfill = commands.add_parser("backfill", help="load an explicit range of days")
    _common(backfill)
    backfill.add_argument("--start-date", type=_day, help="first day (default: earliest day the API serves)")
    backfill.add_argument("--end-date", type=_day, help="last day, inclusive (default: latest available day)")
    backfill.add_argument("--wait", action="store_true", help="wait for a run already in progress instead of exiting")

    check = commands.add_parser("check", help="validate configuration and key; show the next run's plan")
    _common(check)

    status = commands.add_parser(
        "status",
        help="per table: days loaded, gaps, last load, days about to leave the API's history",
        description="Reads the warehouse only. Exit 0 when healthy, 3 when something needs attention "
        "(gaps, days at risk, too far behind, last run failed), 2 when it cannot be read.",
    )
    _common(status)
    status.add_argument("--duckdb-file", default=None, help="DuckDB file to read (default: as `run` uses)")
    status.add_argument(
        "--max-days-behind",
        type=int,
        default=1,
        help="days behind the latest available day before status asks for attention (default 1)",
    )
    status.add_argument("--format", default="text", choices=["text", "json"], dest="output_format")

    report = commands.add_parser("report", help="write a self-contained HTML report with charts from the warehouse")
    _common(report)
    report.add_argument("--duckdb-file", default=None, help="DuckDB file to read (default: as `run` uses)")
    report.add_argument("--output", default="report.html", help="HTML file to write (default: report.html)")
    report.add_argument("--title", default="Claude usage report")

    reset = commands.add_parser(
        "reset",
        help="drop a dataset and its state, so that the next run loads the API's history again",
        description="Drops the dataset's tables, views, run log and stored state, its staging dataset, and the "
        "pipeline's local state. Needed to switch pseudonymization on or off, or to rotate its key.",
    )
    _common(reset)
    reset.add_argument("--duckdb-file", default=None, help="DuckDB file (default: as `run` uses)")
    reset.add_argument("--yes", action="store_true", help="really drop it (without: say what would be dropped)")

    demo = commands.add_parser("demo", help="the whole job against the bundled simulator, into demo.duckdb")
    demo.add_argument("--duckdb-file", default="demo.duckdb")
    demo.add_argument("--users", type=int, default=200)
    demo.add_argument("--seed", type=int, default=7)
    demo.add_argument(
        "--requests-per-minute", type=int, default=6000, help="the simulator's budget (the real API allows 60)"
    )
    demo.add_argument("--log-level", default="WARNING", choices=["DEBUG", "INFO", "WARNING", "ERROR"])

    simulate = commands.add_parser("simulate", help="serve the bundled API simulator on a loopback port")
    from claude_analytics_simulator import add_arguments

    add_arguments(simulate)
    return parser


def _configure_logging(level: str, *secrets: str | None) -> None:
    from .logs import configure

    configure(level, *secrets)


NO_KEY = (
    "no API key is configured: set SOURCES__CLAUDE_ANALYTICS__API_KEY or api_key under "
    "[sources.claude_analytics] in .dlt/secrets.toml (try `claude-analytics demo` without one)"
)


def _settings(args: argparse.Namespace, *, need_key: bool = False):
    """Resolved configuration, with logging set up to redact its secrets; a missing key is a usage error."""
    from sources.claude_analytics.settings import load_settings

    settings = load_settings()
    _configure_logging(args.log_level, settings.api_key, settings.pseudonym_key)
    if need_key and not settings.api_key:
        raise UsageError(NO_KEY)
    return settings


def cmd_run(args: argparse.Namespace) -> int:
    from .progress import Progress
    from .runner import RunOptions, run_load

    settings = _settings(args, need_key=True)
    with Progress(settings.requests_per_minute) as progress:
        summary = run_load(
            RunOptions(
                settings,
                command=args.command,
                target=_target(args),
                endpoints=args.endpoints,
                wait_for_lock=args.wait,
                start_date=getattr(args, "start_date", None),
                end_date=getattr(args, "end_date", None),
                observer=progress,
            )
        )
    _print_summary(summary)
    return EXIT_OK


def _print_summary(summary) -> None:
    took = (summary.finished_at - summary.started_at).total_seconds()
    print(
        f"{summary.command}: loaded up to {summary.latest_available_day} into {summary.destination} "
        f"dataset {summary.dataset_name} in {took:.1f} s — {summary.requests} requests "
        f"({summary.retries} retries, {summary.rate_limited} rate-limited)"
    )
    for table in sorted(set(summary.days_loaded) | set(summary.cursors) | set(summary.unavailable)):
        if table in summary.unavailable:
            print(f"  {table:<20} not loaded: {summary.unavailable[table]}")
            continue
        print(
            f"  {table:<20} {summary.days_loaded.get(table, 0):>4} day(s) {summary.rows_loaded.get(table, 0):>9} "
            f"row(s)   loaded through {summary.cursors.get(table) or '-'}"
        )


def cmd_check(args: argparse.Namespace) -> int:
    from .check import run_check

    settings = _settings(args, need_key=True)
    return run_check(settings, _target(args), args.endpoints)


def cmd_demo(args: argparse.Namespace) -> int:
    from .demo import run_demo

    _configure_logging(args.log_level, None)
    return run_demo(args.duckdb_file, users=args.users, seed=args.seed, requests_per_minute=args.requests_per_minute)


def cmd_simulate(args: argparse.Namespace) -> int:
    from claude_analytics_simulator import config_from_args, serve

    serve(config_from_args(args), args.port, args.host)
    return EXIT_OK


def cmd_status(args: argparse.Namespace) -> int:
    from .status import run_status

    settings = _settings(args)
    return run_status(
        settings, _target(args), args.endpoints, max_days_behind=args.max_days_behind, output_format=args.output_format
    )


def cmd_report(args: argparse.Namespace) -> int:
    from .report import run_report

    settings = _settings(args)
    return run_report(settings, _target(args), args.endpoints, args.output, title=args.title)


def cmd_reset(args: argparse.Namespace) -> int:
    from .warehouse import reset_dataset

    _settings(args)
    target = _target(args)
    if not args.yes:
        print(
            f"reset would drop dataset {target.dataset_name} on {target.destination} (and its staging dataset) "
            f"and the state of pipeline {target.name}; the next run loads the API's history again, as far back "
            "as it still serves. Add --yes to do it."
        )
        return EXIT_USAGE
    dropped = reset_dataset(target)
    print(
        f"reset: dropped {', '.join(dropped) or 'nothing (no such dataset)'} on {target.destination} and the "
        f"local state of pipeline {target.name}"
    )
    return EXIT_OK


COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {
    "run": cmd_run,
    "backfill": cmd_run,
    "check": cmd_check,
    "demo": cmd_demo,
    "simulate": cmd_simulate,
    "status": cmd_status,
    "report": cmd_report,
    "reset": cmd_reset,
}


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from sources.claude_analytics.client import SetupError
    from sources.claude_analytics.endpoints import UnknownEndpoint
    from sources.claude_analytics.extraction import RangeError
    from sources.claude_analytics.settings import ConfigError

    try:
        return COMMANDS[args.command](args)
    except (UsageError, ConfigError, SetupError, UnknownEndpoint, RangeError) as exc:
        print(f"claude-analytics: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except RunFailed as exc:
        print(f"claude-analytics: run failed: {exc}", file=sys.stderr)
        return EXIT_FAILED
    except KeyboardInterrupt:
        print("claude-analytics: interrupted; committed days are kept, run again to continue", file=sys.stderr)
        return EXIT_INTERRUPTED
    except Exception as exc:  # dlt step failures and anything unforeseen: one line, exit 1
        reason = first_line(exc)
        if advice := duckdb_memory_help(reason):
            reason += f" — {advice}"
        print(f"claude-analytics: run failed: {type(exc).__name__}: {reason}", file=sys.stderr)
        log.debug("details", exc_info=True)
        return EXIT_FAILED


if __name__ == "__main__":
    sys.exit(main())
