"""Rate limit, faults, schema growth, revisions, stats and the command line of the simulator."""

from __future__ import annotations

import datetime
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from claude_analytics_simulator import (
    FaultConfig,
    Simulator,
    SimulatorConfig,
    add_arguments,
    config_from_args,
)

DAY = datetime.date(2026, 3, 10)
LATEST = datetime.date(2026, 3, 14)
Q: dict[str, str | int] = {"date": DAY.isoformat(), "limit": 5}


# ---- rate limit --------------------------------------------------------------------------------


class FakeClock:
    """The simulator's arrival clock, moved by the test: rate-limit tests never depend on wall time."""

    def __init__(self, start: float = 1000.0):
        self.now = start

    def __call__(self) -> float:
        return self.now


def test_rate_limit_sliding_window(make_sim, connect):
    sim = make_sim(rate_limit=5, rate_window_seconds=1.0)
    sim.clock = clock = FakeClock()
    client = connect(sim)
    assert [client.get("/users", params=Q).status_code for _ in range(5)] == [200] * 5
    clock.now += 0.5
    refused = client.get("/users", params=Q)
    assert refused.status_code == 429
    assert refused.json()["error"]["type"] == "rate_limit_error"
    assert refused.headers["retry-after"] == "1"  # ceil(0.5 s) until the oldest accepted request leaves
    clock.now += 0.49
    assert client.get("/users", params=Q).status_code == 429  # still inside the window
    clock.now += 0.02
    assert client.get("/users", params=Q).status_code == 200  # 1.01 s later the five have left
    stats = sim.stats()
    assert stats["rate_limited"] == 2
    assert stats["by_path"]["/users"] == {200: 6, 429: 2}
    assert stats["max_in_window"] == 7  # arrivals of any status in one 1 s window
    assert stats["max_in_60s"] == 8


def test_retry_after_counts_down_to_the_oldest_accepted_request(make_sim, connect):
    sim = make_sim(rate_limit=2, rate_window_seconds=4.0)
    sim.clock = clock = FakeClock()
    client = connect(sim)
    client.get("/users", params=Q)
    clock.now += 0.2
    client.get("/users", params=Q)
    assert client.get("/users", params=Q).headers["retry-after"] == "4"
    clock.now += 1.5
    assert client.get("/users", params=Q).headers["retry-after"] == "3"  # ceil(4 - 1.7)
    clock.now += 2.2
    assert client.get("/users", params=Q).headers["retry-after"] == "1"  # the first leaves in 0.1 s
    clock.now += 0.2
    assert client.get("/users", params=Q).status_code == 200


def test_auth_failures_and_400s_count_against_the_budget(make_sim, connect):
    sim = make_sim(rate_limit=3, rate_window_seconds=30.0)
    assert connect(sim, key=None).get("/users", params=Q).status_code == 404
    assert connect(sim, key="wrong").get("/users", params=Q).status_code == 404
    assert connect(sim).get("/users", params={"date": "bad"}).status_code == 400
    assert connect(sim).get("/users", params=Q).status_code == 429


def test_rate_limit_is_shared_by_all_endpoints_and_clients(make_sim, connect):
    sim = make_sim(rate_limit=4, rate_window_seconds=30.0)
    a, b = connect(sim), connect(sim)
    codes = [
        a.get("/users", params=Q).status_code,
        b.get("/skills", params=Q).status_code,
        a.get("/connectors", params=Q).status_code,
        b.get("/summaries", params={"starting_date": "2026-03-01"}).status_code,
        a.get("/apps/chat/projects", params=Q).status_code,
    ]
    assert codes == [200, 200, 200, 200, 429]


# ---- faults ------------------------------------------------------------------------------------


def faulty(make_sim, **faults) -> Simulator:
    return make_sim(faults=FaultConfig(**faults))


def test_drop_closes_without_a_response(make_sim, connect):
    sim = faulty(make_sim, drop_rate=1.0)
    with pytest.raises(httpx.RemoteProtocolError):
        connect(sim).get("/users", params=Q)
    assert sim.request_log()[-1]["status"] == 0
    assert sim.stats()["faults"] == {"drop": 1}


def test_spurious_429_uses_retry_after_seconds(make_sim, connect):
    sim = faulty(make_sim, rate_limit_rate=1.0, retry_after_seconds=2.2)
    response = connect(sim).get("/users", params=Q)
    assert response.status_code == 429
    assert response.headers["retry-after"] == "3"
    assert response.json()["error"]["type"] == "rate_limit_error"
    assert sim.stats()["rate_limited"] == 1


def test_server_errors(make_sim, connect):
    sim = faulty(make_sim, server_error_rate=1.0)
    client = connect(sim)
    codes = set()
    for _ in range(12):
        response = client.get("/users", params=Q)
        assert response.json()["error"]["type"] == "api_error"
        codes.add(response.status_code)
    assert codes <= {500, 502, 503, 504} and len(codes) >= 2


def test_expired_cursor_fault_only_hits_cursor_requests(make_sim, connect):
    sim = faulty(make_sim, expired_cursor_rate=1.0)
    client = connect(sim)
    first = client.get("/users", params=Q)
    assert first.status_code == 200
    response = client.get("/users", params={**Q, "page": first.json()["next_page"]})
    assert response.status_code == 410 and "expired" in response.json()["error"]["message"]


def test_truncate_sends_full_length_but_half_the_body(make_sim):
    sim = faulty(make_sim, truncate_rate=1.0)
    parts = urlsplit(sim.base_url)
    with socket.create_connection((parts.hostname, parts.port), timeout=5) as sock:
        sock.sendall(
            (
                f"GET {parts.path}/users?date={DAY.isoformat()}&limit=50 HTTP/1.1\r\n"
                f"Host: {parts.netloc}\r\nx-api-key: {sim.api_key}\r\n\r\n"
            ).encode()
        )
        raw = b""
        while chunk := sock.recv(65536):
            raw += chunk
    head, body = raw.split(b"\r\n\r\n", 1)
    assert head.startswith(b"HTTP/1.1 200")
    length = int(
        next(line.split(b":")[1] for line in head.split(b"\r\n") if line.lower().startswith(b"content-length"))
    )
    assert len(body) == length // 2 and length > 1000
    assert body.startswith(b'{"data":[')


def test_truncate_is_an_error_for_httpx(make_sim, connect):
    sim = faulty(make_sim, truncate_rate=1.0)
    with pytest.raises(httpx.RemoteProtocolError):
        connect(sim).get("/users", params=Q)


def test_faults_spare_requests_that_fail_auth(make_sim, connect):
    sim = faulty(make_sim, drop_rate=1.0, server_error_rate=1.0)
    assert connect(sim, key=None).get("/users", params=Q).status_code == 404


def test_latency_and_concurrency(make_sim):
    sim = faulty(make_sim, latency_min=0.3, latency_max=0.3)
    results: list[tuple[int, float]] = []
    ready = threading.Barrier(10)

    def call():
        with httpx.Client(base_url=sim.base_url, headers={"x-api-key": sim.api_key}) as c:
            ready.wait()
            started = time.monotonic()
            status = c.get("/users", params=Q).status_code
            results.append((status, time.monotonic() - started))

    threads = [threading.Thread(target=call) for _ in range(10)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert [status for status, _ in results] == [200] * 10
    assert all(took >= 0.3 for _, took in results)  # the latency was applied (a lower bound only)
    # Slept in parallel, not in a queue: requests were answered at the same time. A serial server
    # could never have two in flight, whatever the machine's load.
    assert sim.stats()["max_in_flight"] >= 2


def outcomes(sim: Simulator, n: int = 40) -> list[int | str]:
    """Each request's status code, or the name of the transport error it met."""
    seen: list[int | str] = []
    with httpx.Client(base_url=sim.base_url, headers={"x-api-key": sim.api_key}) as client:
        for k in range(n):
            params: dict[str, str | int] = {"date": DAY.isoformat(), "limit": 5 + k % 3}
            try:
                seen.append(client.get("/users", params=params).status_code)
            except httpx.TransportError as err:
                seen.append(type(err).__name__)
    return seen


MIXED = dict(server_error_rate=0.15, rate_limit_rate=0.15, drop_rate=0.1, truncate_rate=0.15, retry_after_seconds=0)


def test_faults_are_deterministic_from_the_seed(make_sim):
    first = outcomes(faulty(make_sim, **MIXED))
    second = outcomes(faulty(make_sim, **MIXED))
    assert first == second
    kinds = set(first)
    assert {200, 429, "RemoteProtocolError"} <= kinds and kinds & {500, 502, 503, 504}
    other = make_sim(seed=7, faults=FaultConfig(**MIXED))
    assert outcomes(other) != first


def test_reset_stats_replays_the_same_faults(make_sim):
    sim = faulty(make_sim, **MIXED)
    first = outcomes(sim, 20)
    sim.reset_stats()
    assert outcomes(sim, 20) == first


def test_faulted_requests_count_in_the_rate_window(make_sim, connect):
    sim = make_sim(rate_limit=3, rate_window_seconds=30.0, faults=FaultConfig(server_error_rate=1.0))
    client = connect(sim)
    assert [client.get("/users", params=Q).status_code >= 500 for _ in range(3)] == [True] * 3
    assert client.get("/users", params=Q).status_code == 429


# ---- schema growth and revisions -----------------------------------------------------------


def test_growth_fields_appear_only_from_growth_from(make_sim, connect):
    grow = datetime.date(2026, 3, 10)
    sim = make_sim(users=200, growth_from=grow)
    plain = make_sim(users=200)
    client = connect(sim)
    before, after = grow - datetime.timedelta(days=1), grow

    def fetch(path, day):
        return client.get(path, params={"date": day.isoformat(), "limit": 1000}).json()["data"]

    for row in fetch("/users", before):
        assert "science_metrics" not in row and "voice_message_count" not in row["chat_metrics"]
        assert set(row["office_metrics"]) == {"excel", "powerpoint"}
    for row in fetch("/users", after):
        assert set(row["science_metrics"]) == {
            "delegation_count",
            "distinct_session_count",
            "message_count",
            "remote_compute_job_count",
            "skills_used_count",
        }
        assert isinstance(row["chat_metrics"]["voice_message_count"], int)
        assert set(row["office_metrics"]) == {"excel", "powerpoint", "word", "outlook"}
    assert all(row["invocation_count"] is None for row in fetch("/skills", before))
    assert all(isinstance(row["invocation_count"], int) for row in fetch("/skills", after))
    assert all("average_latency_ms" not in row for row in fetch("/connectors", before))
    assert all(isinstance(row["average_latency_ms"], int) for row in fetch("/connectors", after))
    # Growth adds fields; the values that existed before are untouched.
    grown = sim.expected("/users", after)
    for row in grown:
        row.pop("science_metrics")
        row["chat_metrics"].pop("voice_message_count")
        row["office_metrics"].pop("word")
        row["office_metrics"].pop("outlook")
    assert grown == plain.expected("/users", after)
    assert sim.expected("/users", before) == plain.expected("/users", before)


KEYS = {
    "/users": lambda r: r["user"]["email_address"],
    "/apps/chat/projects": lambda r: r["project_id"],
    "/skills": lambda r: r["skill_name"],
    "/connectors": lambda r: r["connector_name"],
}


def test_revision_changes_only_recent_days_and_drops_one_entity(make_sim, connect):
    sim = make_sim(users=300)  # revision_days 3: 2026-03-12..14 move
    days = [LATEST - datetime.timedelta(days=k) for k in range(6)]
    before = {(p, d): sim.expected(p, d) for p in [*KEYS, "/summaries"] for d in days}
    sim.config.revision = 1
    revised_days = {datetime.date(2026, 3, 12), datetime.date(2026, 3, 13), datetime.date(2026, 3, 14)}
    dropped_somewhere = set()
    for day in days:
        for path, key in KEYS.items():
            old, new = before[(path, day)], sim.expected(path, day)
            if day not in revised_days:
                assert new == old, (path, day)
                continue
            if not old:
                assert new == []
                continue
            dropped_somewhere.add(path)
            if len(old) == 1:
                assert new == []
                continue
            old_keys = sorted(key(r) for r in old)
            assert [key(r) for r in new] == [key(r) for r in old][1:]
            assert sorted(key(r) for r in new) == old_keys[1:]  # the lexicographically first one is gone
            assert new != old[1:]  # and counts moved
        old_summary, new_summary = before[("/summaries", day)][0], sim.expected("/summaries", day)[0]
        if day in revised_days:
            assert new_summary["daily_active_user_count"] == old_summary["daily_active_user_count"] - 1
            assert new_summary["daily_active_user_count"] == len(sim.expected("/users", day))
        else:
            assert new_summary == old_summary
    assert dropped_somewhere == set(KEYS)
    # Over HTTP too.
    served = connect(sim).get("/users", params={"date": "2026-03-14", "limit": 1000}).json()["data"]
    assert served == sim.expected("/users", datetime.date(2026, 3, 14))
    users_old = sum(r["chat_metrics"]["message_count"] for r in before[("/users", LATEST)][1:])
    assert sum(r["chat_metrics"]["message_count"] for r in served) > users_old
    sim.config.revision = 0
    assert sim.expected("/users", LATEST) == before[("/users", LATEST)]


# ---- stats and the log -------------------------------------------------------------------------


def test_stats_and_request_log(make_sim, connect):
    sim = make_sim()
    client = connect(sim)
    client.get("/users", params=Q)
    client.get("/users", params={"date": "nope"})
    client.get("/skills", params={"date": DAY.isoformat(), "group_by[]": ["product", "user_id"]})
    connect(sim, key=None).get("/connectors", params=Q)
    stats = sim.stats()
    assert stats["total"] == 4
    assert stats["by_path"] == {"/users": {200: 1, 400: 1}, "/skills": {200: 1}, "/connectors": {404: 1}}
    assert stats["rate_limited"] == 0 and stats["max_in_window"] == 4 and stats["max_in_60s"] == 4
    log = sim.request_log()
    assert [e["path"] for e in log] == ["/users", "/users", "/skills", "/connectors"]
    assert log[0]["params"] == {"date": DAY.isoformat(), "limit": "5"}
    assert log[2]["params"]["group_by[]"] == ["product", "user_id"]
    assert all({"t", "path", "params", "status"} <= set(e) for e in log)
    assert sim.api_key not in repr(log) and "x-api-key" not in repr(log)
    assert log[0]["t"] <= log[1]["t"] <= log[3]["t"]
    sim.reset_stats()
    assert sim.stats()["total"] == 0 and sim.request_log() == []


def test_start_is_lazy_and_stop_closes_the_port(connect):
    sim = Simulator(SimulatorConfig(today=datetime.date(2026, 3, 15), rate_limit=0))
    url = sim.start()
    # Starting generates nothing: data is made on the first request that needs it (so start is fast).
    assert sim.cache_info() == {
        "row_days": 0,
        "rows": 0,
        "report_days_generated": 0,
        "report_hits": 0,
        "report_misses": 0,
    }
    client = connect(sim)
    assert client.get("/users", params=Q).status_code == 200  # kept alive
    assert sim.cache_info()["row_days"] == 1
    sim.stop()
    with pytest.raises(httpx.TransportError):
        client.get("/users", params=Q)
    with pytest.raises(httpx.ConnectError):
        httpx.get(url + "/users", params=Q, headers={"x-api-key": sim.api_key})
    with Simulator(today=datetime.date(2026, 3, 15)) as again:
        assert httpx.get(again.base_url + "/users", params=Q, headers={"x-api-key": again.api_key}).status_code == 200


def test_config_object_and_overrides():
    config = SimulatorConfig(users=10)
    sim = Simulator(config)
    assert sim.config is config  # callers may keep mutating their own config
    assert Simulator(config, seed=9).config.seed == 9 and config.seed == 42
    assert Simulator(users=3, faults=FaultConfig(drop_rate=0.5)).config.faults.drop_rate == 0.5
    with pytest.raises(ValueError, match="unknown endpoint"):
        sim.expected("/plugin", DAY)
    with pytest.raises(ValueError, match="expected_report"):
        sim.expected("/cost_report", DAY)
    with pytest.raises(ValueError, match="unknown report"):
        sim.expected_report("/users", DAY)


# ---- command line ----------------------------------------------------------------------------


def test_arguments_build_a_config():
    import argparse

    parser = argparse.ArgumentParser()
    add_arguments(parser)
    args = parser.parse_args(
        [
            "--port",
            "0",
            "--users",
            "12",
            "--seed",
            "3",
            "--api-key",
            "k",
            "--lag-days",
            "3",
            "--rate-limit",
            "0",
            "--fault-5xx",
            "0.1",
            "--fault-drop",
            "0.2",
            "--summaries-envelope",
            "both",
            "--growth-from",
            "2026-05-01",
        ]
    )
    config = config_from_args(args)
    assert (config.users, config.seed, config.api_key, config.availability_lag_days, config.rate_limit) == (
        12,
        3,
        "k",
        3,
        0,
    )
    assert config.faults.server_error_rate == 0.1 and config.faults.drop_rate == 0.2
    assert config.summaries_envelope == "both" and config.growth_from == datetime.date(2026, 5, 1)
    assert args.host == "127.0.0.1"


def test_module_serves_until_interrupted(tmp_path):
    root = Path(__file__).resolve().parents[2]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(root), os.environ.get("PYTHONPATH", "")])}
    proc = subprocess.Popen(
        [sys.executable, "-m", "claude_analytics_simulator", "--port", "0", "--api-key", "cli-key", "--users", "5"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=tmp_path,
        # A suite launched as a background job inherits SIGINT ignored, and so would the child: then
        # Ctrl-C could never reach it. Give it the default disposition, as a terminal would.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    try:
        assert proc.stdout is not None  # stdout=PIPE
        first, second = proc.stdout.readline(), proc.stdout.readline()
        base_url = first.split()[-1]
        assert base_url.startswith("http://127.0.0.1:") and base_url.endswith("/v1/organizations/analytics")
        assert second.strip().endswith("cli-key")
        yesterday = datetime.datetime.now(datetime.timezone.utc).date() - datetime.timedelta(days=1)
        response = httpx.get(
            base_url + "/skills", params={"date": yesterday.isoformat()}, headers={"x-api-key": "cli-key"}
        )
        assert response.status_code == 200
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            # communicate() drains the pipes (a child blocked on a full pipe never exits); the timeout
            # only guards against a hang, it bounds no behaviour.
            _, err = proc.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
            _, err = proc.communicate()
            pytest.fail(f"the simulator did not stop on SIGINT; its stderr ends with: {err[-2000:]}")
    assert proc.returncode == 0, err[-2000:]
