#!/usr/bin/env python3
"""One-command setup: `python3 dev.py run` (app on demo data) and `python3 dev.py test`.

`test` runs ruff (lint and format), mypy (strict) and pytest.

Creates .venv, installs the locked dependencies (requirements.lock, hash-checked) and the
project itself, writes the demo data when missing, then runs the app or the test suite.
Needs only Python 3.11+ and pip.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PY = BIN / "python"
LOCK = ROOT / "requirements.lock"
STAMP = VENV / ".pilotwatch-installed"
DEMO = ROOT / "data" / "demo"


def _run(*args: str | Path, env: dict[str, str] | None = None) -> None:
    print("+", " ".join(str(a) for a in args), flush=True)
    result = subprocess.run([str(a) for a in args], cwd=ROOT, env=env, check=False)
    if result.returncode:
        sys.exit(result.returncode)


def ensure_env() -> None:
    """Create the virtual environment and install the lock when it changed."""
    if not PY.exists():
        print(f"creating {VENV}", flush=True)
        venv.EnvBuilder(with_pip=True).create(VENV)
    digest = hashlib.sha256(LOCK.read_bytes() + (ROOT / "pyproject.toml").read_bytes())
    wanted = digest.hexdigest()
    if STAMP.exists() and STAMP.read_text().strip() == wanted:
        return
    _run(PY, "-m", "pip", "install", "--quiet", "--upgrade", "pip")
    _run(PY, "-m", "pip", "install", "--quiet", "--require-hashes", "-r", LOCK)
    _run(PY, "-m", "pip", "install", "--quiet", "--no-deps", "-e", ROOT)
    STAMP.write_text(wanted)


def ensure_demo() -> None:
    """Write the seeded demo portfolio under data/demo when it is missing."""
    if not (DEMO / ".complete").exists():
        _run(BIN / "pilotwatch", "demo", "--out", DEMO)


def main(argv: list[str]) -> None:
    command = argv[0] if argv else "help"
    if command == "run":
        ensure_env()
        ensure_demo()
        port = os.environ.get("PILOTWATCH_PORT", "8501")
        _run(BIN / "streamlit", "run", ROOT / "app.py", "--server.port", port, *argv[1:])
    elif command == "test":
        ensure_env()
        _run(BIN / "ruff", "check", ".")
        _run(BIN / "ruff", "format", "--check", ".")
        _run(BIN / "mypy")  # strict on the project's packages: [tool.mypy] in pyproject.toml
        _run(BIN / "pytest", *(argv[1:] or ["-q"]))
    elif command == "setup":
        ensure_env()
        ensure_demo()
    else:
        print(__doc__)
        print("usage: python3 dev.py run | test [pytest args] | setup")
        sys.exit(0 if command == "help" else 2)


if __name__ == "__main__":
    main(sys.argv[1:])
