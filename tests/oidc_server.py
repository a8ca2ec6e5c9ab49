"""A real OpenID Connect provider for the browser sign-in tests: panva's oidc-provider on Node.js.

`tests/oidc/` holds the provider (`provider.mjs`), its `package.json` and the lock file pinning
`oidc-provider` from the npm registry (tests/oidc/README.md). `install_provider()` runs
`npm ci --prefix tests/oidc` once (node_modules/ is gitignored and reused while the lock file is
unchanged); `OidcProvider` starts `node provider.mjs` on a free port of 127.0.0.1, waits for
`/.well-known/openid-configuration` and stops it again, also when a test fails.

Without node or npm (or when `npm ci` cannot reach the registry) the tests skip with the reason,
unless PILOTWATCH_REQUIRE_SERVICES=1 (CI), where they fail.
"""

from __future__ import annotations

import json
import shutil
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from managed_process import ManagedProcess, free_port
from npm_pinned import missing, npm_ci

ROOT = Path(__file__).resolve().parent.parent
OIDC_DIR = ROOT / "tests" / "oidc"
START_TIMEOUT = 30.0  # seconds until the discovery document answers

CLIENT_ID = "pilotwatch-test"
CLIENT_SECRET = "pilotwatch-test-secret-not-for-production"  # a test client's, not a secret


@dataclass(frozen=True)
class Account:
    """One of provider.mjs's accounts: the login the test types and the claims it gets."""

    login: str
    email: str
    name: str
    groups: tuple[str, ...]


# Keep in step with ACCOUNTS in tests/oidc/provider.mjs.
APPROVER = Account("approver", "approver@example.org", "Avery Approver", ("steering-committee",))
VIEWER = Account("viewer", "viewer@example.org", "Vic Viewer", ("sepsis-team",))
NO_ROLE = Account("norole", "nobody@example.org", "Noel Norole", ("visitors",))
ACCOUNTS = (APPROVER, VIEWER, NO_ROLE)


def require_node() -> tuple[str, str]:
    """Paths of node and npm, or skip (fail with PILOTWATCH_REQUIRE_SERVICES=1)."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        missing(
            "node and npm are needed for the OpenID Connect provider (apt-get install nodejs npm)"
        )
    return node, npm


def install_provider() -> str:
    """`npm ci --prefix tests/oidc` unless already installed from this lock file; node's path."""
    node, _npm = require_node()
    npm_ci(OIDC_DIR, why="the OpenID Connect provider")
    return node


class OidcProvider(ManagedProcess):
    """`node tests/oidc/provider.mjs` on 127.0.0.1:<free port>; a context manager that stops it."""

    def __init__(self, redirect_uris: list[str], log_path: Path) -> None:
        super().__init__(log_path)
        self.redirect_uris = redirect_uris
        self.port = free_port()
        self.issuer = f"http://127.0.0.1:{self.port}"
        self.metadata_url = f"{self.issuer}/.well-known/openid-configuration"
        self.metadata: dict[str, Any] = {}

    def start(self, timeout: float = START_TIMEOUT) -> OidcProvider:
        node = install_provider()
        command = [node, str(OIDC_DIR / "provider.mjs"), "--port", str(self.port)]
        for uri in self.redirect_uris:
            command += ["--redirect-uri", uri]
        command += ["--client-id", CLIENT_ID, "--client-secret", CLIENT_SECRET]
        self._spawn(command, cwd=OIDC_DIR)
        try:
            self._wait_ready(timeout)
        except BaseException:
            self.stop()
            raise
        return self

    def _wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.proc is not None
            if self.proc.poll() is not None:
                raise RuntimeError(
                    f"oidc provider exited with {self.proc.returncode}:\n{self.log_tail()}"
                )
            try:
                with urllib.request.urlopen(self.metadata_url, timeout=2) as response:  # noqa: S310
                    if response.status == 200:
                        self.metadata = json.loads(response.read())
                        return
            except (urllib.error.URLError, OSError, ValueError):
                pass
            time.sleep(0.2)
        raise TimeoutError(f"no {self.metadata_url} after {timeout:.0f}s:\n{self.log_tail()}")


def auth_secrets(redirect_uri: str, provider: OidcProvider, cookie_secret: str) -> str:
    """The `[auth]` section of a Streamlit secrets.toml for this provider."""
    return (
        "[auth]\n"
        f'redirect_uri = "{redirect_uri}"\n'
        f'cookie_secret = "{cookie_secret}"\n'
        f'client_id = "{CLIENT_ID}"\n'
        f'client_secret = "{CLIENT_SECRET}"\n'
        f'server_metadata_url = "{provider.metadata_url}"\n'
    )
