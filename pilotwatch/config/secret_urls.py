"""Literal passwords in URLs, found in the raw YAML text before `${ENV}` substitution."""

from __future__ import annotations

import re

# the same reference syntax as the loader's substitution; innermost references match first
_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^${}]*))?\}")
_TOKEN = re.compile("\x00(\\d+)\x00")
# `scheme://user:password@`; the password stops at `/` so that `host:8080/path?to=a@b` (a port,
# then an `@` further on) is not read as a password
_URL = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*://[^:/@\s?#]*:(?P<password>[^@\s/]*)@")

_PASSWORD_PART = re.compile(
    r"(?P<head>[A-Za-z][A-Za-z0-9+.\-]*://[^:/@\s?#]*:)(?P<password>[^@\s/]+)(?=@)"
)
_WHOLE_REF = re.compile(r"\$\{[A-Za-z_][A-Za-z0-9_]*\}")

MESSAGE = (
    "a literal password in a URL: secrets never go in the YAML; put the password in an "
    "environment variable and reference it, e.g. `url: postgresql://user:${DB_PASSWORD}@db/x` "
    "or `url: ${DB_URL}` (see docs/config.md)"
)
DEFAULT_MESSAGE = (
    "a literal password in the default of a `${NAME:-default}`: a default is written in the YAML, "
    "so it must not hold a secret; use `${NAME}` without a default (see docs/config.md)"
)


def password_problem(text: str) -> str | None:
    """Why `text` holds a literal URL password (never quoting it), or None when it is clean."""
    if "://" not in text:
        return None
    defaults: list[str | None] = []

    def park(match: re.Match[str]) -> str:
        defaults.append(match.group(2))
        return f"\x00{len(defaults) - 1}\x00"

    masked = text
    while True:  # each pass replaces at least one reference, so this ends
        parked = _REF.sub(park, masked)
        if parked == masked:
            break
        masked = parked

    def literal(part: str) -> str | None:
        """How the password part `part` is literal: 'url', 'default' or None (a reference)."""
        if not part:
            return None  # `user:@host` has no password
        token = _TOKEN.fullmatch(part)
        if token is None:
            return "url"
        default = defaults[int(token.group(1))]
        if default is None:
            return None
        return "default" if literal(default) else None

    for where, candidate in [(None, masked), *(("default", d) for d in defaults if d)]:
        for match in _URL.finditer(candidate):
            kind = literal(match.group("password"))
            if kind:
                return DEFAULT_MESSAGE if "default" in (where, kind) else MESSAGE
    return None


def mask_passwords(text: str) -> str:
    """`text` with every URL password replaced by `***`, whatever it is (a last safety net)."""
    if "://" not in text:
        return text

    def mask(match: re.Match[str]) -> str:
        # a reference such as `${DB_PASSWORD}` (the advice in MESSAGE) is not a secret
        keep = _WHOLE_REF.fullmatch(match.group("password"))
        return match.group(0) if keep else match.group("head") + "***"

    return _PASSWORD_PART.sub(mask, text)
