"""Status labels, chart words and colour-blind-safe palettes: data, not code.

Every status a page shows is one of these labels (icon and words, never colour alone); the keys
are the report's status values (docs/metrics.md).
"""

from __future__ import annotations

import altair as alt

from pilotwatch.chartspecs import OKABE as OKABE  # the Okabe-Ito palette, shared with the pack
from pilotwatch.render import VERDICT_LABEL as REPORT_VERDICT

VERDICT_LABEL = {"go": "✅ GO", "conditional": "⚠️ CONDITIONAL", "no_go": "⛔ NO-GO"}
VERDICT_SHORT = {"go": "GO", "conditional": "COND.", "no_go": "NO-GO"}
VERDICT_ORDER = {"go": 0, "conditional": 1, "no_go": 2}
SLO_LABEL = {
    "healthy": "✅ healthy",
    "at_risk": "⚠️ at risk",
    "breached": "❌ breached",
    "no_data": "∅ no data",
}
# an SLO whose counted buckets include estimates (a PromQL expression evaluated per minute)
ESTIMATE_BADGE = "≈ estimated from a PromQL expression"
ESTIMATE_NOTE = (
    "≈ Estimated: some of these buckets come from a PromQL expression evaluated once per "
    "minute, not from exact counter increases (docs/metrics.md, estimates)."
)
# what one counting unit of an SLO is, by budgeting method
BUDGETING_UNIT = {"occurrences": "events", "timeslices": "slices", "ratio_timeslices": "slices"}
OUTCOME_LABEL = {
    "pass": "✅ pass",
    "fail": "❌ fail",
    "insufficient_data": "❔ insufficient data",
    "waived": "🛡️ waived",
    "not_gated": "— not gated",
}
LEVEL_LABEL = {
    "elite": "★★★★ elite",
    "high": "★★★ high",
    "medium": "★★ medium",
    "low": "★ low",
    "insufficient_data": "❔ too few",  # fewer events than the DORA minimum: no level
}
CONTROL_LABEL = {
    "ok": "✅ ok",
    "not_applicable": "➖ not applicable",
    "missing": "❌ missing",
    "failing": "❌ failing",
    "na_unjustified": "❌ n/a, unjustified",
    "expired": "⌛ expired",
}
# the compliance matrix's narrow cells: the same icons, shorter words (legend on the page)
MATRIX_LABEL = {
    "ok": "✅ ok",
    "not_applicable": "➖ n/a",
    "na_unjustified": "❌ no reason",
    "missing": "❌ missing",
    "failing": "❌ failing",
    "expired": "⌛ expired",
    "not_required": "· not req.",
}
KPI_LABEL = {
    "on_track": "✅ on track",
    "off_track": "❌ off track",
    "no_data": "∅ no data",
    "suppressed": "🔒 suppressed",
}
MILESTONE_LABEL = {
    "done": "✅ done",
    "overdue": "❌ overdue",
    "due_soon": "⏳ due soon",
    "planned": "🗓️ planned",
}

# Chart legends name statuses in words (never the raw ids): the colour scales are keyed by
# those words.
VERDICT_WORD = dict(REPORT_VERDICT)  # go -> GO, conditional -> CONDITIONAL, no_go -> NO-GO
VERDICT_SCALE = alt.Scale(
    domain=[VERDICT_WORD[v] for v in ("go", "conditional", "no_go")],
    range=[OKABE["green"], OKABE["orange"], OKABE["vermillion"]],
)
# heatmap cells are written in (symbol and word); the legend repeats the cell text
OUTCOME_SYMBOL = {
    "pass": "✓ pass",
    "waived": "W waived",
    "insufficient_data": "? no data",
    "fail": "✗ FAIL",
    "not_gated": "—",
}
OUTCOME_LEGEND = {**OUTCOME_SYMBOL, "not_gated": "— not gated"}
OUTCOME_SCALE = alt.Scale(
    domain=list(OUTCOME_LEGEND.values()),  # pass, waived, no data, fail, not gated
    range=[OKABE["green"], OKABE["sky"], OKABE["yellow"], OKABE["vermillion"], OKABE["grey"]],
)
