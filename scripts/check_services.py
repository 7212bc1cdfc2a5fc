"""Stops `make test` with one line naming a service that is not reachable, and how to start it."""

import os
import socket
import sys
from urllib.parse import urlparse

SERVICES = {
    "DATABASE_URL": (
        "PostgreSQL",
        5432,
        "start it with: pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start",
    ),
    "REDIS_URL": (
        "Redis",
        6379,
        "start it with: redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save ''",
    ),
}


def reachable(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=2):
            return True
    except OSError:
        return False


def main() -> int:
    for variable, (name, default_port, hint) in SERVICES.items():
        url = urlparse(os.environ.get(variable, ""))
        host, port = url.hostname or "127.0.0.1", url.port or default_port
        if not reachable(host, port):
            print(f"{name} is not reachable at {host}:{port} ({variable}); {hint}", file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
