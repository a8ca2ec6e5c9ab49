"""The pack's typography, palette and status vocabulary, shared by the templates and the charts.

Every status in the pack is a symbol AND a word (never colour alone); the colour is an extra cue
from the Okabe-Ito palette, always behind black text (contrast above 4.5:1). The symbols are
drawn from the bundled Noto subset (fonts/README.md), so no machine falls back to a system font.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pilotwatch.chartspecs import OKABE

FONT_DIR = Path(__file__).resolve().parent / "fonts"
# bundled with its licence in FONT_DIR, so every machine typesets the same bytes
FONT_FAMILY = "Atkinson Hyperlegible"
# the status symbols (✓ ✗ ⚠ ...): Atkinson Hyperlegible has none
SYMBOL_FAMILY = "Pack Symbols"
# (family, CSS weight, file) of every face the templates declare with @font-face
FONT_FACES: tuple[tuple[str, int, str], ...] = (
    (FONT_FAMILY, 400, "AtkinsonHyperlegible-Regular.ttf"),
    (FONT_FAMILY, 700, "AtkinsonHyperlegible-Bold.ttf"),
    (SYMBOL_FAMILY, 400, "NotoSansSymbols2-Pack.ttf"),
)

# a badge's tone -> its background, from the charts' Okabe-Ito palette (black text on each of these
# is above 4.5:1)
TONES = {
    "good": OKABE["green"],
    "warn": OKABE["orange"],
    "bad": OKABE["vermillion"],
    "info": OKABE["sky"],
    "neutral": OKABE["grey"],
}


@dataclass(frozen=True)
class Badge:
    """A status as the pack shows it: a symbol, a word and a tone (the colour cue)."""

    symbol: str
    word: str
    tone: str

    @property
    def text(self) -> str:
        """The symbol and the word, as read aloud and as pdftotext finds them."""
        return f"{self.symbol} {self.word}".strip()


def _b(symbol: str, word: str, tone: str) -> Badge:
    return Badge(symbol, word, tone)


# keyed by the report's status values (docs/metrics.md)
VERDICT = {
    "go": _b("✓", "GO", "good"),
    "conditional": _b("⚠", "CONDITIONAL", "warn"),
    "no_go": _b("✗", "NO-GO", "bad"),
}
OUTCOME = {
    "pass": _b("✓", "pass", "good"),
    "fail": _b("✗", "fail", "bad"),
    "insufficient_data": _b("○", "no data", "warn"),
    "waived": _b("◐", "waived", "info"),
    "not_gated": _b("", "not gated", "neutral"),
}
SLO = {
    "healthy": _b("✓", "healthy", "good"),
    "at_risk": _b("⚠", "at risk", "warn"),
    "breached": _b("✗", "breached", "bad"),
    "no_data": _b("○", "no data", "neutral"),
}
LEVEL = {
    "elite": _b("★★★★", "elite", "good"),
    "high": _b("★★★", "high", "good"),
    "medium": _b("★★", "medium", "warn"),
    "low": _b("★", "low", "bad"),
    "insufficient_data": _b("○", "too few", "neutral"),
}
KPI = {
    "on_track": _b("✓", "on track", "good"),
    "off_track": _b("✗", "off track", "bad"),
    "no_data": _b("○", "no data", "neutral"),
    "suppressed": _b("◐", "suppressed", "neutral"),
}
CONTROL = {
    "ok": _b("✓", "ok", "good"),
    "not_applicable": _b("", "not applicable", "neutral"),
    "missing": _b("✗", "missing", "bad"),
    "failing": _b("✗", "failing", "bad"),
    "na_unjustified": _b("✗", "n/a, unjustified", "bad"),
    "expired": _b("⌛", "expired", "bad"),
}
MILESTONE = {
    "done": _b("✓", "done", "good"),
    "overdue": _b("✗", "overdue", "bad"),
    "due_soon": _b("⏳", "due soon", "warn"),
    "planned": _b("○", "planned", "neutral"),
}
CONDITION = {
    "met": _b("✓", "met", "good"),
    "open": _b("○", "open", "warn"),
    "overdue": _b("✗", "overdue", "bad"),
}
EXPIRING = _b("⏳", "expiring", "warn")


def badge(table: dict[str, Badge], key: str | None) -> Badge:
    """The badge of `key` in `table`; an unknown status shows as its humane word, no symbol."""
    if key is None:
        return Badge("", "n/a", "neutral")
    return table.get(str(key), Badge("", humane(str(key)), "neutral"))


def humane(value: str) -> str:
    """An identifier for people: `limited_production` -> `limited production`."""
    return value.replace("_", " ")
