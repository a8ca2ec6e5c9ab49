"""Test tools from the npm registry, pinned by a package-lock.json in the repository.

`npm ci` installs a folder's lock file into its node_modules once; a stamp holding the lock's
text, written last, marks the install done (an interrupted one is redone, a changed lock file
reinstalls). A missing npm or a failed install skips the test with the reason, or fails it under
PILOTWATCH_REQUIRE_SERVICES=1 (CI), like the database services (tests/conftest.py).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import NoReturn

import pytest

INSTALL_TIMEOUT = 300.0


def missing(reason: str) -> NoReturn:
    """Skip with `reason`, or fail with it under PILOTWATCH_REQUIRE_SERVICES=1."""
    if os.environ.get("PILOTWATCH_REQUIRE_SERVICES") == "1":
        pytest.fail(f"{reason} (PILOTWATCH_REQUIRE_SERVICES=1)")
    pytest.skip(reason)


def npm_ci(folder: Path, *, why: str, ignore_scripts: bool = False) -> None:
    """`npm ci --prefix folder` unless its lock file is installed already.

    `why` names what the packages are for, in the skip reason when npm is missing.
    """
    lock = folder / "package-lock.json"
    stamp = folder / "node_modules" / ".pilotwatch-installed"
    if stamp.is_file() and stamp.read_text() == lock.read_text():
        return
    npm = shutil.which("npm")
    if npm is None:
        missing(f"npm is needed for {why} (apt-get install npm)")
    command = [npm, "ci", "--prefix", str(folder), "--no-audit", "--no-fund", "--loglevel=error"]
    if ignore_scripts:
        command.append("--ignore-scripts")
    try:
        result = subprocess.run(
            command,
            cwd=folder,
            capture_output=True,
            text=True,
            timeout=INSTALL_TIMEOUT,
            check=False,
        )
    except subprocess.TimeoutExpired:
        missing(f"npm ci in {folder} took longer than {INSTALL_TIMEOUT:.0f}s")
    if result.returncode != 0:
        tail = (result.stderr or result.stdout)[-1500:]
        missing(f"npm ci in {folder} failed ({result.returncode}):\n{tail}")
    stamp.write_text(lock.read_text())  # written last: an interrupted install is redone
