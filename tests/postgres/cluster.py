"""A throwaway PostgreSQL cluster: initdb into a temp directory, pg_ctl start on a free loopback port.

Used by the Postgres tests (tests/postgres/conftest.py) and by the load-format benchmark
(bench/load_formats.py). `initdb` and `pg_ctl` refuse to run as root: as root the server commands run
as the `postgres` system user (`runuser -u postgres -- ...`) in a directory owned by that user;
as anyone else they run directly.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

SERVER_USER = "postgres"


class ClusterUnavailable(RuntimeError):
    """The machine cannot run a throwaway cluster (the reason says why); tests skip on it."""


def find_bindir() -> Path:
    """The directory holding initdb and pg_ctl: $PG_BINDIR, PATH, or the newest /usr/lib/postgresql/*/bin."""
    candidates = []
    if os.environ.get("PG_BINDIR"):
        candidates.append(Path(os.environ["PG_BINDIR"]))
    on_path = shutil.which("initdb")
    if on_path:
        candidates.append(Path(os.path.realpath(on_path)).parent)
    versions = sorted(
        glob.glob("/usr/lib/postgresql/*/bin"),
        key=lambda p: int(Path(p).parent.name) if Path(p).parent.name.isdigit() else 0,
        reverse=True,
    )
    candidates.extend(Path(p) for p in versions)
    for directory in candidates:
        if (directory / "initdb").is_file() and (directory / "pg_ctl").is_file():
            return directory
    raise ClusterUnavailable(
        "PostgreSQL server binaries (initdb, pg_ctl) not found on PATH, in $PG_BINDIR or "
        "/usr/lib/postgresql/*/bin: install the PostgreSQL 15 server (Debian: "
        "apt-get install postgresql-15) to run the Postgres tests"
    )


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PostgresCluster:
    """`start()` → a running server on 127.0.0.1:`port` (trust auth, superuser `postgres`); `stop()` removes it.

    `durable=False` (tests) turns fsync and synchronous commit off: faster, and a throwaway cluster never
    needs crash safety. The benchmark keeps the defaults.
    """

    def __init__(self, durable: bool = False, bindir: Path | None = None) -> None:
        self.durable = durable
        self.bindir = bindir or find_bindir()
        self.as_root = os.geteuid() == 0
        if self.as_root:
            try:
                self._user = pwd.getpwnam(SERVER_USER)
            except KeyError:
                raise ClusterUnavailable(
                    f"running as root, and initdb refuses root, but there is no "
                    f"'{SERVER_USER}' system user to run the server as"
                ) from None
            if not shutil.which("runuser"):
                raise ClusterUnavailable("running as root, and initdb refuses root, but runuser is missing")
        self.base: Path | None = None
        self.port: int | None = None

    # -- commands -------------------------------------------------------------------------------

    def _run(self, *args: str, timeout: float = 120) -> str:
        cmd = [str(self.bindir / args[0]), *args[1:]]
        if self.as_root:
            cmd = ["runuser", "-u", SERVER_USER, "--", *cmd]
        done = subprocess.run(
            cmd,
            capture_output=True,
            text=True,
            timeout=timeout,
            stdin=subprocess.DEVNULL,
            env={**os.environ, "LC_ALL": "C"},
        )
        if done.returncode != 0:
            log = self._log_tail()
            raise RuntimeError(
                f"{' '.join(cmd)} failed ({done.returncode}): {done.stderr.strip() or done.stdout.strip()}"
                + (f"\nserver log:\n{log}" if log else "")
            )
        return done.stdout

    def _log_tail(self) -> str:
        if self.base is None or not (self.base / "server.log").exists():
            return ""
        return "\n".join((self.base / "server.log").read_text(errors="replace").splitlines()[-20:])

    @property
    def data_dir(self) -> Path:
        assert self.base is not None
        return self.base / "data"

    def start(self, attempts: int = 3) -> PostgresCluster:
        self.base = Path(tempfile.mkdtemp(prefix="pg-claude-analytics-"))
        if self.as_root:
            os.chown(self.base, self._user.pw_uid, self._user.pw_gid)
        self._run(
            "initdb",
            "-D",
            str(self.data_dir),
            "-A",
            "trust",
            "-U",
            "postgres",
            "-E",
            "UTF8",
            "--no-locale",
            "--no-sync",
        )
        settings = ["-c timezone=UTC", "-c max_connections=50"]
        if not self.durable:
            settings += ["-c fsync=off", "-c synchronous_commit=off", "-c full_page_writes=off"]
        for attempt in range(attempts):
            self.port = free_port()  # a race with another process is possible: retry on a new port
            options = f"-h 127.0.0.1 -p {self.port} -k {self.base} " + " ".join(settings)
            try:
                self._run(
                    "pg_ctl",
                    "-D",
                    str(self.data_dir),
                    "-l",
                    str(self.base / "server.log"),
                    "-o",
                    options,
                    "-w",
                    "-t",
                    "60",
                    "start",
                )
                return self
            except RuntimeError:
                if attempt == attempts - 1:
                    self.stop()
                    raise
        return self

    def stop(self) -> None:
        if self.base is None:
            return
        try:
            if (self.data_dir / "postmaster.pid").exists():
                self._run("pg_ctl", "-D", str(self.data_dir), "-m", "fast", "-w", "-t", "60", "stop")
        finally:
            shutil.rmtree(self.base, ignore_errors=True)
            self.base = None

    def __enter__(self) -> PostgresCluster:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- databases ------------------------------------------------------------------------------

    def dsn(self, database: str = "postgres") -> str:
        # trust auth ignores the password, but dlt's PostgresCredentials requires one to be present
        return f"postgresql://postgres:postgres@127.0.0.1:{self.port}/{database}"

    def connect(self, database: str = "postgres"):
        import psycopg2

        return psycopg2.connect(host="127.0.0.1", port=self.port, user="postgres", dbname=database)

    def create_database(self, name: str) -> str:
        """A fresh, empty database `name` (dropped first if it exists); returns its DSN."""
        con = self.connect()
        try:
            con.autocommit = True
            with con.cursor() as cur:
                cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
                cur.execute(f'CREATE DATABASE "{name}"')
        finally:
            con.close()
        return self.dsn(name)
