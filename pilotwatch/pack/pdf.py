"""The pack's HTML typeset as PDF by WeasyPrint, byte for byte the same for the same HTML.

Deterministic: the creation and modification dates are the HTML's `dcterms.created` /
`dcterms.modified` (the report's as-of), the file identifier is the report's content hash
(pilotwatch.fingerprints.report_hash), the fonts are the bundled ones (embedded as subsets),
and nothing is fetched: only `data:` URLs resolve, so no network and no local file is read.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any


class PackError(RuntimeError):
    """The pack could not be made (the message says why and what to install)."""


def _weasyprint() -> Any:
    """WeasyPrint's module; PackError when it or Pango (its text engine) cannot be loaded."""
    try:
        return import_module("weasyprint")
    except OSError as exc:  # cffi could not dlopen libpango-1.0 / libpangoft2-1.0
        raise PackError(
            "PDF needs Pango: install libpango-1.0-0 and libpangoft2-1.0-0 "
            f"(Debian/Ubuntu) and try again ({exc})"
        ) from None
    except ImportError as exc:
        raise PackError(f"PDF needs WeasyPrint: install requirements.lock ({exc})") from None


def unavailable() -> str | None:
    """Why no PDF can be made here (WeasyPrint or Pango missing), or None when it can."""
    try:
        _weasyprint()
    except PackError as exc:
        return str(exc)
    return None


def typeset(html: str, identifier: str) -> bytes:
    """The PDF of `html`; `identifier` (hex) becomes the first part of the file's /ID."""
    weasyprint = _weasyprint()
    from weasyprint.text.fonts import FontConfiguration
    from weasyprint.urls import URLFetcher

    fetcher = URLFetcher(allowed_protocols=("data",), fail_on_errors=True)
    document = weasyprint.HTML(string=html, url_fetcher=fetcher, base_url=None)
    pdf: bytes = document.write_pdf(
        pdf_identifier=identifier[:32].encode("ascii"),
        font_config=FontConfiguration(),
        uncompressed_pdf=False,
    )
    return pdf
