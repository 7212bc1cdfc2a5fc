"""`make install` builds the project quietly: no setuptools warnings (a TOML-table licence and the
editable build used to print some 50 lines of them on every install)."""

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _install_flags() -> list[str]:
    """The flags of the Makefile's `pip install ... ".[dev]"`, as make would run it."""
    dry_run = subprocess.run(
        ["make", "-n", "install", "VENV=/nonexistent-venv"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    match = re.search(r'-m pip install (.*?)"\.\[dev\]"', dry_run)
    assert match, dry_run
    return match.group(1).split()


def test_building_the_project_as_make_install_does_prints_nothing(tmp_path):
    flags = _install_flags()
    assert "-e" not in flags and "--editable" not in flags
    # The project itself, without its dependencies, into a throwaway folder.
    result = subprocess.run(
        [sys.executable, "-m", "pip", "install", *flags, "--no-deps", "--target", tmp_path, "."],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    # This machine's pip configuration may name index folders that do not exist; that is pip's
    # own one-line notice, not the build's.
    printed = [
        line
        for line in (result.stdout + result.stderr).splitlines()
        if line.strip() and "is ignored: it is neither a file nor a directory" not in line
    ]
    assert printed == []
