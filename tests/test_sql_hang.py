"""No SQL source can hang: black-hole servers fail within the connector's socket timeouts.

A local listener on 127.0.0.1 accepts connections and never answers (the PostgreSQL and the
MariaDB protocol alike); a proxy forwards the MariaDB handshake to the real server and then
stops forwarding, so the first query never gets an answer. Each load must end in a clear
SourceUnavailable within its timeouts; pytest-timeout turns a regression into a failure.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from conftest import require_service

from connectors.base import SourceSpec, SourceUnavailable
from connectors.sql import SqlConnector

GENEROUS = 20.0  # seconds; the timeouts below are 2 s, this only catches a hang


class BlackHole:
    """Accepts TCP connections on 127.0.0.1 and never sends a byte."""

    def __init__(self) -> None:
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = self.server.getsockname()[1]
        self.held: list[socket.socket] = []
        self.stop = threading.Event()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        self.server.settimeout(0.2)
        while not self.stop.is_set():
            try:
                conn, _ = self.server.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self.held.append(conn)  # kept open, never answered

    def close(self) -> None:
        self.stop.set()
        for conn in self.held:
            conn.close()
        self.server.close()


class FreezingProxy(BlackHole):
    """Forwards to MariaDB until the client's first query, then forwards nothing more."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.frozen = threading.Event()
        super().__init__()

    def _accept(self) -> None:
        self.server.settimeout(0.2)
        while not self.stop.is_set():
            try:
                client, _ = self.server.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            upstream = socket.create_connection(self.target, timeout=5)
            self.held += [client, upstream]
            threading.Thread(target=self._pipe, args=(client, upstream, True), daemon=True).start()
            threading.Thread(target=self._pipe, args=(upstream, client, False), daemon=True).start()

    def _pipe(self, src: socket.socket, dst: socket.socket, from_client: bool) -> None:
        src.settimeout(0.2)
        while not self.stop.is_set():
            try:
                data = src.recv(65536)
            except TimeoutError:
                continue
            except OSError:
                return
            if not data:
                return
            # a MySQL packet: 3-byte length, sequence id, payload; COM_QUERY (0x03) opens a
            # command with sequence 0: the handshake is over, the query is swallowed
            if from_client and len(data) > 4 and data[3] == 0 and data[4] == 0x03:
                self.frozen.set()
            if self.frozen.is_set():
                continue
            try:
                dst.sendall(data)
            except OSError:
                return


@pytest.fixture
def black_hole() -> Iterator[BlackHole]:
    hole = BlackHole()
    yield hole
    hole.close()


def load(url: str, **settings: Any) -> None:
    spec = SourceSpec(
        name="db",
        type="sql",
        tables=("incidents",),
        settings={"url": url, "query": "SELECT 1 AS incident_id", **settings},
    )
    SqlConnector(spec).load()


@pytest.mark.timeout(60)
@pytest.mark.parametrize(
    "scheme",
    ["postgresql+psycopg://pw@127.0.0.1:{port}/test", "mysql+pymysql://pw@127.0.0.1:{port}/test"],
)
def test_a_server_that_never_answers_fails_within_connect_timeout(
    black_hole: BlackHole, scheme: str
) -> None:
    started = time.monotonic()
    with pytest.raises(SourceUnavailable) as error:
        load(scheme.format(port=black_hole.port), connect_timeout=2, read_timeout=2)
    elapsed = time.monotonic() - started
    assert elapsed < GENEROUS
    assert black_hole.held, "the connector never reached the listener"
    message = str(error.value)
    assert message.startswith("source 'db': cannot connect: ")
    assert "settings.connect_timeout is 2s" in message


@pytest.mark.services
@pytest.mark.timeout(60)
def test_mariadb_that_stops_answering_after_the_handshake_fails_within_read_timeout() -> None:
    require_service("mariadb")
    proxy = FreezingProxy(("127.0.0.1", 3306))
    try:
        started = time.monotonic()
        with pytest.raises(SourceUnavailable) as error:
            load(f"mysql+pymysql://root@127.0.0.1:{proxy.port}/test", read_timeout=2)
        elapsed = time.monotonic() - started
        assert proxy.frozen.is_set(), "the handshake never completed through the proxy"
        assert elapsed < GENEROUS
        message = str(error.value)
        # SQLAlchemy's first queries (server version, sql_mode) run while connecting
        assert message.startswith("source 'db': cannot connect: (2013, 'Lost connection")
        assert "(timed out)" in message
        assert "settings.read_timeout is 2s" in message
    finally:
        proxy.close()
