"""Read PDFs in tests with Debian's poppler-utils (pdftotext, pdfinfo, pdffonts, pdfimages).

`.ci/run` installs them. A missing tool skips the test with the reason, unless
PILOTWATCH_REQUIRE_SERVICES=1 (CI), where it fails instead (as tests/conftest.py does for the
database servers).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

TOOLS = ("pdftotext", "pdfinfo", "pdffonts", "pdfimages")


def require_tool(name: str) -> str:
    """The path of a poppler-utils tool, or skip (fail with PILOTWATCH_REQUIRE_SERVICES=1)."""
    path = shutil.which(name)
    if path is None:
        reason = f"{name} is not installed (Debian: apt-get install poppler-utils)"
        if os.environ.get("PILOTWATCH_REQUIRE_SERVICES") == "1":
            pytest.fail(f"{reason} (PILOTWATCH_REQUIRE_SERVICES=1)")
        pytest.skip(reason)
    return path


def _run(tool: str, data: bytes, *args: str) -> str:
    """Run `tool [args] file` on `data` written to a temporary file; its stdout."""
    exe = require_tool(tool)
    with tempfile.TemporaryDirectory() as folder:
        pdf = Path(folder) / "in.pdf"
        pdf.write_bytes(data)
        done = subprocess.run(
            [exe, *args, str(pdf), *(["-"] if tool == "pdftotext" else [])],
            capture_output=True,
            text=True,
            check=True,
            timeout=60,
        )
    return done.stdout


def pdf_text(data: bytes, page: int | None = None) -> str:
    """The PDF's text in reading order (pdftotext -layout off), or one page's (1-based)."""
    pages = () if page is None else ("-f", str(page), "-l", str(page))
    return _run("pdftotext", data, "-enc", "UTF-8", *pages)


def pdf_info(data: bytes) -> dict[str, str]:
    """pdfinfo's fields (`Pages`, `Page size`, `CreationDate`, ...), ISO dates (`-isodates`)."""
    out: dict[str, str] = {}
    for line in _run("pdfinfo", data, "-isodates").splitlines():
        key, sep, value = line.partition(":")
        if sep:
            out[key.strip()] = value.strip()
    return out


def pdf_fonts(data: bytes) -> list[dict[str, str]]:
    """One row per font of pdffonts: name, type, emb (yes/no), sub, uni."""
    lines = _run("pdffonts", data).splitlines()[2:]  # a header line and a rule
    rows = []
    for line in lines:
        parts = line.split()
        # name, type (one or more words), encoding, emb, sub, uni, object, id
        rows.append(
            {"name": parts[0], "emb": parts[-5], "sub": parts[-4], "uni": parts[-3], "line": line}
        )
    return rows


def pdf_images(data: bytes) -> list[dict[str, str]]:
    """One row per image of pdfimages -list: page, type, width, height, ..."""
    lines = _run("pdfimages", data, "-list").splitlines()[2:]
    keys = ("page", "num", "type", "width", "height")
    return [dict(zip(keys, ln.split()[:5], strict=True)) for ln in lines]
