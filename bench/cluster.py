"""A PostgreSQL cluster of one run's own (the fault tests, `make faults`), to restart and stop
without touching the machine's shared one: `initdb` into a directory, trust auth, a free port."""

from __future__ import annotations

import contextlib
import os
import pwd
import subprocess
from dataclasses import dataclass
from pathlib import Path

from bench.server import free_port


def _as_postgres_user() -> list[str]:
    # initdb and postgres refuse to run as root; the machine's `postgres` account runs them.
    return ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []


@dataclass
class PrivateCluster:
    directory: Path
    database: str
    port: int = 0

    @classmethod
    def create(cls, directory: Path, database: str) -> PrivateCluster:
        """initdb into `directory`, start the server and create `database`."""
        cluster = cls(directory=directory, database=database, port=free_port())
        if os.geteuid() == 0:
            os.chown(directory, pwd.getpwnam("postgres").pw_uid, -1)
        initdb = ["initdb", "--no-sync", "-A", "trust", "-U", "postgres", "-D", str(cluster.data)]
        subprocess.run(
            [*_as_postgres_user(), *initdb], check=True, capture_output=True, timeout=120
        )
        cluster.start()
        subprocess.run(["createdb", *cluster.client_options, database], check=True, timeout=30)
        return cluster

    @property
    def data(self) -> Path:
        return self.directory / "data"

    @property
    def url(self) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{self.database}"

    @property
    def client_options(self) -> list[str]:
        """psql, createdb and pg_dump options that reach this cluster."""
        return ["-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres"]

    def _pg_ctl(self, action: str) -> None:
        # The server's output goes to a log file: a pipe would keep pg_ctl's caller waiting.
        options = f"-p {self.port} -k {self.directory} -c listen_addresses=127.0.0.1 -c fsync=off"
        subprocess.run(
            [
                *_as_postgres_user(),
                *("pg_ctl", "-D", str(self.data), "-w", "-m", "fast"),
                *("-l", str(self.directory / "postgres.log"), "-o", options, action),
            ],
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            timeout=60,
        )

    def start(self) -> None:
        self._pg_ctl("start")

    def stop(self) -> None:
        self._pg_ctl("stop")

    def restart(self) -> None:
        self._pg_ctl("restart")

    def close(self) -> None:
        """Stop the server if it runs (a fault may have left it stopped)."""
        with contextlib.suppress(subprocess.CalledProcessError):
            self.stop()
