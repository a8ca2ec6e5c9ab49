"""Sloth's PromQL event queries -> a pilotwatch indicator, exactly or as a marked estimate.

`events_indicator(error_query, total_query)` is the whole rule (docs/bring-your-slos.md, Sloth):
`sum(rate(<counter>[{{.window}}]))` reads the counter itself, counted exactly; `count - bucket`
is a latency good/total pair; other sums of range functions over `{{.window}}` become
`increase(...[1m])` estimates; anything else is refused with the reason.
"""

from __future__ import annotations

import re

from connectors.promselector import parse_selector

_W = r"\{\{\s*\.window\s*\}\}"
_SUM_RATE = rf"sum\s*\(\s*rate\s*\(\s*(?P<GROUP>.+?)\s*\[\s*{_W}\s*\]\s*\)\s*\)"
_EXACT = re.compile(rf"^\s*{_SUM_RATE.replace('GROUP', 'sel')}\s*$", re.S)
_DIFF = re.compile(
    rf"^\s*\(?\s*{_SUM_RATE.replace('GROUP', 'a')}\s*-\s*"
    rf"{_SUM_RATE.replace('GROUP', 'b')}\s*\)?\s*$",
    re.S,
)
_RANGE = re.compile(rf"\[\s*{_W}\s*(:[^\]]*)?\]")
_ADDITIVE = ("rate", "increase", "sum_over_time", "count_over_time")
_OR_ZERO = re.compile(r"\bor\s+on\s*\(\s*\)\s*vector\s*\(\s*0\s*\)", re.I)
_BUCKET = re.compile(r"_bucket\s*\{[^}]*\ble\s*=")


def _window_calls(query: str) -> list[tuple[int, int, str]] | str:
    """(start, end, function) of every call over `{{.window}}`, or why the query is refused."""
    calls: list[tuple[int, int, str]] = []
    for match in _RANGE.finditer(query):
        after = re.compile(r"\s*\)").match(query, match.end())
        if not after:
            return f"`{match.group()}` is not the last argument of a function"
        close = after.end() - 1
        depth, at = 0, close
        while at >= 0:
            depth += {")": 1, "(": -1}.get(query[at], 0)
            if depth == 0:
                break
            at -= 1
        head = re.search(r"([a-z_]+)\s*$", query[:at])
        function = head.group(1) if head else ""
        if function not in _ADDITIVE:
            return (
                f"`{function or '(...)'}` over {{{{.window}}}} is not a count of events in the "
                f"window (only {', '.join(_ADDITIVE)} are)"
            )
        start = head.start(1) if head else at
        calls.append((start, close + 1, function))
    if not calls:
        return "a Sloth query must use {{.window}}"
    return calls


def _single(inner: str) -> bool:
    """True when a subquery's expression aggregates to one series (sum/count, no grouping)."""
    body = inner.strip()
    while body.startswith("(") and body.endswith(")"):
        body = body[1:-1].strip()
    match = re.match(r"(sum|count)\s*\(", body)
    return bool(match) and not re.search(r"\)\s*(by|without)\s*\(\s*[^)]*\)\s*$", body)


def _estimate(query: str) -> tuple[str | None, str]:
    """The per-minute expression of a window-additive query, or None and why not."""
    calls = _window_calls(query)
    if isinstance(calls, str):
        return None, calls
    pieces, last, rewritten = [], 0, []
    for start, end, function in calls:
        pieces.append(query[last:start])
        call = query[start:end]
        single = function.endswith("_over_time") and _single(call[call.index("(") + 1 :])
        pieces.append(" S " if single else " F ")
        if function == "rate":
            call = "increase" + call[len("rate") :]
        rewritten.append((start, end, _RANGE.sub(lambda m: "[1m" + (m.group(1) or "") + "]", call)))
        last = end
    pieces.append(query[last:])
    residual = _OR_ZERO.sub(" ", "".join(pieces))
    problem = _linear(residual)
    if problem:
        return None, problem
    out, last = [], 0
    for start, end, text in rewritten:
        out.extend([query[last:start], text])
        last = end
    out.append(query[last:])
    return "".join(out).strip(), ""


def _linear(residual: str) -> str:
    """'' when `residual` is sums and differences of window terms, each summed to one series."""
    toks = re.findall(r"sum|[()+\-]|[SF]|\S+", residual)
    at = 0

    def expr(summed: bool) -> str:
        nonlocal at
        problem = term(summed)
        while not problem and at < len(toks) and toks[at] in "+-":
            at += 1
            problem = term(summed)
        return problem

    def term(summed: bool) -> str:
        nonlocal at
        tok = toks[at] if at < len(toks) else ""
        at += 1
        if tok == "S" or (tok == "F" and summed):
            return ""
        if tok == "F":
            return "a windowed term is not summed into one series (one SLI per series in Sloth)"
        if tok in ("sum", "("):
            if tok == "sum":
                if at >= len(toks) or toks[at] != "(":
                    return "`sum by`/`sum without` groups into one SLI per group"
                at += 1
            problem = expr(summed or tok == "sum")
            if problem:
                return problem
            if at >= len(toks) or toks[at] != ")":
                return f"unexpected `{toks[at] if at < len(toks) else 'end'}`"
            at += 1
            return ""
        return (
            f"`{tok or 'end'}` outside the windowed terms: only sums and differences of "
            "window counts give a per-minute event count"
        )

    problem = expr(False)
    if not problem and at < len(toks):
        problem = (
            f"`{toks[at]}` outside the windowed terms: only sums and differences of "
            "window counts give a per-minute event count"
        )
    return problem


def events_indicator(error_q: str, total_q: str) -> tuple[dict[str, str] | None, str, str]:
    """(indicator, sli, note) for an events SLI; indicator None and `<query>: <why>` if refused."""
    sli = "latency" if _BUCKET.search(error_q) or _BUCKET.search(total_q) else "availability"
    bad, total = _EXACT.match(error_q), _EXACT.match(total_q)
    # a Selector's equality compares names and matchers, so whitespace does not matter
    bad_sel = parse_selector(bad.group("sel")) if bad else None
    total_sel = parse_selector(total.group("sel")) if total else None
    if bad and bad_sel and total and total_sel:
        note = "sum(rate(<counter>[{{.window}}])): the counters themselves, counted exactly"
        # the selectors as written: the same series Sloth reads
        return {"bad": bad.group("sel").strip(), "total": total.group("sel").strip()}, sli, note
    diff = _DIFF.match(error_q)
    if diff and total and total_sel:
        a, b = parse_selector(diff.group("a")), parse_selector(diff.group("b"))
        if a and b and a == total_sel:
            note = "errors = total - <b>, so good = <b>: counters counted exactly"
            return {"good": diff.group("b").strip(), "total": total.group("sel").strip()}, sli, note
    bad_expr, why = _estimate(error_q)
    if bad_expr is None:
        return None, sli, f"error_query: {why}"
    total_expr, why = _estimate(total_q)
    if total_expr is None:
        return None, sli, f"total_query: {why}"
    note = (
        "rate(...[{{.window}}]) -> increase(...[1m]), {{.window}} -> 1m: evaluated per minute "
        "as that minute's events, an estimate"
    )
    return {"bad": bad_expr, "total": total_expr}, sli, note
