"""Command line of the simulator, reusable by the project's own `claude-analytics simulate`."""

from __future__ import annotations

import argparse
import datetime
import sys
import time

from .config import FaultConfig, SimulatorConfig
from .server import Simulator

DEFAULT_PORT = 8787


def _day(value: str) -> datetime.date:
    try:
        return datetime.date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a date YYYY-MM-DD, got {value!r}") from None


def _rate(value: str) -> float:
    rate = float(value)
    if not 0.0 <= rate <= 1.0:
        raise argparse.ArgumentTypeError(f"expected a rate between 0 and 1, got {value}")
    return rate


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the simulator's options to a parser (or a sub-command's parser)."""
    d = SimulatorConfig()
    f = FaultConfig()
    parser.add_argument(
        "--port", type=int, default=DEFAULT_PORT, help=f"port to listen on, 0 = any free (default {DEFAULT_PORT})"
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1, loopback only)")
    parser.add_argument(
        "--api-key", default=d.api_key, help=f"the x-api-key the simulator accepts (default {d.api_key})"
    )
    parser.add_argument(
        "--users", type=int, default=d.users, help=f"people in the synthetic organization (default {d.users})"
    )
    parser.add_argument(
        "--seed", type=int, default=d.seed, help=f"seed of the synthetic data and faults (default {d.seed})"
    )
    parser.add_argument(
        "--today", type=_day, default=None, help="pretend today is this UTC day (default: the real date)"
    )
    parser.add_argument(
        "--lag-days",
        type=int,
        default=d.availability_lag_days,
        help=f"latest available day = today - N (default {d.availability_lag_days})",
    )
    parser.add_argument(
        "--history-days",
        type=int,
        default=d.history_days,
        help=f"days of history served, 0 = back to 2026-01-01 (default {d.history_days})",
    )
    parser.add_argument(
        "--rate-limit",
        type=int,
        default=d.rate_limit,
        help=f"requests per minute per organization, 0 = unlimited (default {d.rate_limit})",
    )
    parser.add_argument(
        "--latency-min", type=float, default=f.latency_min, metavar="S", help="minimum added latency, seconds"
    )
    parser.add_argument(
        "--latency-max", type=float, default=f.latency_max, metavar="S", help="maximum added latency, seconds"
    )
    parser.add_argument(
        "--fault-5xx", type=_rate, default=0.0, metavar="R", help="share of requests answered 500/502/503/504"
    )
    parser.add_argument(
        "--fault-429", type=_rate, default=0.0, metavar="R", help="share of requests answered a spurious 429"
    )
    parser.add_argument(
        "--fault-drop", type=_rate, default=0.0, metavar="R", help="share of connections closed without an answer"
    )
    parser.add_argument(
        "--fault-truncate", type=_rate, default=0.0, metavar="R", help="share of 200 bodies cut in half"
    )
    parser.add_argument(
        "--fault-expired-cursor", type=_rate, default=0.0, metavar="R", help="share of cursor requests answered 410"
    )
    parser.add_argument(
        "--summaries-envelope",
        choices=("data", "summaries", "both"),
        default=d.summaries_envelope,
        help=f"/summaries envelope (default {d.summaries_envelope})",
    )
    parser.add_argument(
        "--period-keys",
        choices=("starting_at", "starting_date"),
        default=d.summaries_period_keys,
        help=f"/summaries row period keys (default {d.summaries_period_keys})",
    )
    parser.add_argument("--growth-from", type=_day, default=None, help="from this day on, rows carry newer fields")
    parser.add_argument(
        "--no-cost-reports",
        action="store_true",
        help="a seat-based plan: the four cost & usage report paths are refused",
    )
    parser.add_argument(
        "--cost-denied-status",
        type=int,
        choices=(403, 404),
        default=d.cost_reports_denied_status,
        help=f"status of the refused report paths with --no-cost-reports (default {d.cost_reports_denied_status})",
    )
    parser.add_argument(
        "--report-models",
        type=int,
        default=d.report_models,
        metavar="N",
        help=f"models in use in the cost & usage reports (default {d.report_models})",
    )
    parser.add_argument(
        "--report-group-cap",
        type=int,
        default=d.report_group_cap,
        metavar="N",
        help=f"groups per bucket of /usage_report and /cost_report (default {d.report_group_cap})",
    )
    parser.add_argument(
        "--cost-revision",
        type=int,
        default=d.cost_revision,
        metavar="N",
        help="revise the last --cost-revision-days days of the cost & usage reports (level N)",
    )
    parser.add_argument(
        "--cost-revision-days",
        type=int,
        default=d.cost_revision_days,
        metavar="N",
        help=f"days a cost revision reaches back (default {d.cost_revision_days})",
    )


def config_from_args(args: argparse.Namespace) -> SimulatorConfig:
    return SimulatorConfig(
        users=args.users,
        seed=args.seed,
        api_key=args.api_key,
        today=args.today,
        availability_lag_days=args.lag_days,
        history_days=args.history_days or None,
        rate_limit=args.rate_limit,
        summaries_envelope=args.summaries_envelope,
        summaries_period_keys=args.period_keys,
        growth_from=args.growth_from,
        cost_reports_available=not args.no_cost_reports,
        cost_reports_denied_status=args.cost_denied_status,
        report_models=args.report_models,
        report_group_cap=args.report_group_cap,
        cost_revision=args.cost_revision,
        cost_revision_days=args.cost_revision_days,
        faults=FaultConfig(
            server_error_rate=args.fault_5xx,
            rate_limit_rate=args.fault_429,
            drop_rate=args.fault_drop,
            truncate_rate=args.fault_truncate,
            expired_cursor_rate=args.fault_expired_cursor,
            latency_min=args.latency_min,
            latency_max=args.latency_max,
        ),
    )


def serve(config: SimulatorConfig, port: int = DEFAULT_PORT, host: str = "127.0.0.1") -> None:
    """Serve until Ctrl-C, after printing the base URL and the accepted key."""
    simulator = Simulator(config)
    base_url = simulator.start(port=port, host=host)
    print(f"Claude Enterprise Analytics API simulator serving at {base_url}", flush=True)
    print(f"Accepted x-api-key: {simulator.api_key}", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        simulator.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m claude_analytics_simulator",
        description="Serve a local simulator of the Claude Enterprise Analytics API (synthetic data).",
    )
    add_arguments(parser)
    args = parser.parse_args(argv)
    try:
        serve(config_from_args(args), port=args.port, host=args.host)
    except OSError as err:  # e.g. the port is taken
        print(f"error: cannot listen on {args.host}:{args.port}: {err.strerror or err}", file=sys.stderr)
        return 2
    return 0
