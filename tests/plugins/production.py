"""The environment and command production processes get, for tests that start them."""

import json
import os
import secrets
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def production_env(**overrides) -> dict[str, str]:
    """The environment of a production process: services from the test run, nothing else."""
    env = {
        key: value
        for key, value in os.environ.items()
        if key in {"PATH", "HOME", "LANG", "DATABASE_URL", "REDIS_URL", "STATIC_MANIFEST"}
    }
    env.update(SECRET_KEY=secrets.token_urlsafe(50), DEBUG="false")
    for key, value in overrides.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    return env


def dockerfile_command() -> list[str]:
    line = next(
        line for line in (ROOT / "Dockerfile").read_text().splitlines() if line.startswith("CMD")
    )
    return json.loads(line.removeprefix("CMD"))
