"""A browser-free Streamlit client: one websocket session speaking the frontend's protocol.

Used by `benchmarks/bench_load.py --client protocol` (docs/performance.md, "Under load"), and by
hand to look at one page run:

    .venv/bin/python benchmarks/st_client.py http://127.0.0.1:8501 "" initiative slos

What it does is what Streamlit 1.67's frontend (static/js/index.*.js) does, minus the drawing:

- connect: `ws://<host>/_stcore/stream` with the subprotocols `streamlit` and an auth token (the
  frontend sends the `_streamlit_xsrf` cookie there, or `PLACEHOLDER_AUTH_TOKEN` without one; the
  server checks it only to read a sign-in cookie, and this client has no cookie) and no session
  id (a fresh browser tab: a new session);
- a page load (`load`, on connect): a `rerun_script` BackMsg whose ClientState has the URL's
  pathname as `page_name` (st.navigation's url_path: "" for the default page, "initiative", ...),
  an empty `page_script_hash`, the query string, empty widget states, `context_info` as a browser
  fills it (timezone, offset, locale, url, not embedded, light scheme) and no cached-message
  hashes. Reporting no cache makes the server send every message in full, as to a new browser; a
  `ref_hash` reference therefore cannot arrive and counts as an error if it does;
- a navigation (`navigate`, a sidebar link in the same tab): the same BackMsg with the target's
  `page_script_hash` from the last `navigation` ForwardMsg and an empty `page_name`, like the
  frontend's onPageChange (widget states stay empty here: the client draws no widget);
- then it reads ForwardMsgs until the run chain ends: a `script_finished` that is not
  FINISHED_EARLY_FOR_RERUN (st.rerun and st.switch_page end one run and start the next in the same
  request) after a `new_session` of this request. Nothing needs an answer on the way (the
  frontend answers no message of a page run; websocket pings are answered by `websockets`).

Each run is recorded as a `PageRun`: seconds from sending the BackMsg to that `script_finished`,
the status, the runs in the chain, the elements and blocks received, the texts of headings,
markdown, alerts, captions, tabs and expanders (to check that a page-specific text arrived), and
the errors: `exception` elements, error alerts (except the Initiative page's gate-blocker boxes,
which are content, as in tests/test_browser.py), a compile error, a page_not_found, a ref_hash.
"""

from __future__ import annotations

import asyncio
import re
import sys
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from streamlit.proto.Alert_pb2 import Alert
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from websockets.asyncio.client import ClientConnection, connect

STREAM_PATH = "/_stcore/stream"
AUTH_PLACEHOLDER = "PLACEHOLDER_AUTH_TOKEN"  # what the frontend sends without an XSRF cookie
BLOCKER = re.compile(r"^\W*Blocker \S+: ")  # the Initiative page's gate-blocker boxes: content
STATUS = {
    ForwardMsg.FINISHED_SUCCESSFULLY: "success",
    ForwardMsg.FINISHED_WITH_COMPILE_ERROR: "compile_error",
    ForwardMsg.FINISHED_EARLY_FOR_RERUN: "rerun",
    ForwardMsg.FINISHED_FRAGMENT_RUN_SUCCESSFULLY: "fragment",
}


@dataclass
class PageRun:
    """One page request: its timing, what arrived, what went wrong."""

    page: str
    seconds: float = 0.0
    status: str = "none"  # success | compile_error | fragment | rerun (timed out) | none
    runs: int = 0  # script runs in the chain (a st.rerun adds one)
    messages: int = 0
    elements: int = 0
    blocks: int = 0
    h1: list[str] = field(default_factory=list)
    texts: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def has_text(self, text: str) -> bool:
        return any(text in t for t in self.texts)


def _block_texts(block: Any) -> list[str]:
    kind = block.WhichOneof("type")
    if kind == "tab_container":
        return []
    if kind == "tab":
        return [block.tab.label]
    if kind == "expandable":
        return [block.expandable.label]
    return []


def _element_texts(element: Any) -> tuple[list[str], list[str]]:
    """(h1 titles, texts) of an element: headings, markdown, alerts, captions, metrics."""
    kind = element.WhichOneof("type")
    if kind == "heading":
        heading = element.heading
        return ([heading.body] if heading.tag == "h1" else []), [heading.body]
    if kind in ("markdown", "text", "alert"):
        return [], [getattr(element, kind).body]
    if kind == "metric":
        return [], [element.metric.label]
    return [], []


def _element_error(element: Any) -> str | None:
    kind = element.WhichOneof("type")
    if kind == "exception":
        e = element.exception
        if e.is_warning:
            return None
        return f"exception: {e.type}: {e.message}"
    if kind == "alert" and element.alert.format == Alert.ERROR:
        body = element.alert.body.strip()
        return None if BLOCKER.match(body) else f"error box: {body}"
    return None


class Session:
    """One browser tab's websocket session; `async with Session(base_url) as s: await s.load()`."""

    def __init__(self, base_url: str, timeout: float = 120.0) -> None:
        parts = urlsplit(base_url)
        self.http_base = f"{parts.scheme}://{parts.netloc}"
        scheme = "wss" if parts.scheme == "https" else "ws"
        self.ws_url = f"{scheme}://{parts.netloc}{parts.path.rstrip('/')}{STREAM_PATH}"
        self.timeout = timeout
        self.ws: ClientConnection | None = None
        self.pages: dict[str, str] = {}  # url_pathname -> page_script_hash (navigation message)
        self.query_string = ""  # the URL's query string as the server last set it
        self.session_id = ""

    async def __aenter__(self) -> Session:
        self.ws = await connect(
            self.ws_url,
            subprotocols=["streamlit", AUTH_PLACEHOLDER],  # type: ignore[list-item]
            max_size=None,  # a page's dataframes can exceed the 1 MiB default
            open_timeout=self.timeout,
            user_agent_header="pilotwatch-st-client",
        )
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self.ws is not None:
            await self.ws.close()
            self.ws = None

    def _back_msg(self, page_name: str, page_script_hash: str, query_string: str) -> bytes:
        msg = BackMsg()
        state = msg.rerun_script
        state.query_string = query_string
        state.widget_states.SetInParent()  # empty: no widget drawn yet
        state.page_script_hash = page_script_hash
        state.page_name = page_name
        state.is_auto_rerun = False
        state.is_history_navigation = False
        info = state.context_info
        info.timezone = "UTC"
        info.timezone_offset = 0
        info.locale = "en-US"
        path = f"/{page_name}" if page_name else "/"
        info.url = f"{self.http_base}{path}" + (f"?{query_string}" if query_string else "")
        info.is_embedded = False
        info.color_scheme = "light"
        data: bytes = msg.SerializeToString()
        return data

    async def load(self, path: str, query_string: str = "") -> PageRun:
        """A page load on this connection: `path` is the URL's pathname ("" is the default)."""
        return await self._request(path, self._back_msg(path, "", query_string))

    async def navigate(self, path: str) -> PageRun:
        """A sidebar link to `path`: the page's script hash from the server's navigation."""
        page_hash = self.pages.get(path)
        if page_hash is None:
            run = PageRun(path)
            run.errors.append(f"no page with url_pathname {path!r} in the navigation")
            return run
        return await self._request(path, self._back_msg("", page_hash, ""))

    async def _request(self, page: str, payload: bytes) -> PageRun:
        assert self.ws is not None, "use the session as `async with`"
        run = PageRun(page)
        started = time.perf_counter()
        await self.ws.send(payload)
        try:
            await asyncio.wait_for(self._read_until_finished(run), self.timeout)
        except TimeoutError:
            run.errors.append(f"no script_finished within {self.timeout:.0f}s")
        run.seconds = time.perf_counter() - started
        return run

    async def _read_until_finished(self, run: PageRun) -> None:
        assert self.ws is not None
        started = False  # a new_session of this request arrived
        while True:
            data = await self.ws.recv(decode=False)
            msg = ForwardMsg()
            msg.ParseFromString(data)
            run.messages += 1
            kind = msg.WhichOneof("type")
            if kind == "new_session":
                started = True
                run.runs += 1
            elif kind == "delta" and started:
                delta = msg.delta
                which = delta.WhichOneof("type")
                if which == "new_element":
                    run.elements += 1
                    h1, texts = _element_texts(delta.new_element)
                    run.h1 += h1
                    run.texts += texts
                    error = _element_error(delta.new_element)
                    if error:
                        run.errors.append(error)
                elif which == "add_block":
                    run.blocks += 1
                    run.texts += _block_texts(delta.add_block)
            elif kind == "navigation":
                self._pages(msg.navigation.app_pages)
            elif kind == "page_info_changed":
                self.query_string = msg.page_info_changed.query_string
            elif kind == "page_not_found":
                run.errors.append(f"page not found: {msg.page_not_found.page_name!r}")
            elif kind == "ref_hash":
                run.errors.append(f"cached reference {msg.ref_hash} though no cache was reported")
            elif kind == "session_event":
                event = msg.session_event
                if event.HasField("script_compilation_exception"):
                    e = event.script_compilation_exception
                    run.errors.append(f"compile error: {e.type}: {e.message}")
            elif kind == "script_finished" and started:
                run.status = STATUS.get(msg.script_finished, str(msg.script_finished))
                if msg.script_finished != ForwardMsg.FINISHED_EARLY_FOR_RERUN:
                    if msg.script_finished == ForwardMsg.FINISHED_WITH_COMPILE_ERROR:
                        run.errors.append("script finished with a compile error")
                    return

    def _pages(self, app_pages: Any) -> None:
        for page in app_pages:
            if page.page_script_hash:
                self.pages[page.url_pathname] = page.page_script_hash


async def _main(base_url: str, paths: list[str]) -> int:
    failed = 0
    async with Session(base_url) as session:
        for i, path in enumerate(paths):
            run = await (session.load(path) if i == 0 else session.navigate(path))
            print(
                f"/{path}: {run.status} in {run.seconds:.3f}s, {run.runs} run(s), "
                f"{run.messages} messages, {run.elements} elements, {run.blocks} blocks, "
                f"h1={run.h1}, errors={run.errors}"
            )
            failed += bool(run.errors) or run.status != "success"
    return 1 if failed else 0


if __name__ == "__main__":
    if len(sys.argv) < 2:
        raise SystemExit(__doc__)
    raise SystemExit(asyncio.run(_main(sys.argv[1], sys.argv[2:] or [""])))
