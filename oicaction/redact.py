"""The one redaction every sink goes through (one pass of one compiled pattern: linear time).

A secret leaks in more shapes than its exact string (base64 of `user:password`, JSON-, URL- or
HTML-escaped, whitespace-collapsed, cut short), so each sink masks what it can carry:
- text people read (log, annotations, outputs, summary, --json): `text` masks a secret of
  MIN_LEN or more characters in every form, cut short too; a shorter one only as a whole token
  (`oracle`, not in `oraclecloud`); and credentials by shape (`Bearer <token>`, OAuth fields);
- our records (build-info.json, connections.json): `record` masks whole forms of secrets of
  MIN_LEN or more only, so a record stays true JSON;
- files shipped as received (lookups, attachments, the plan): never edited; `find_line` says
  where a secret shows, and the caller fails the build naming the file.
"""

from __future__ import annotations

import base64
import contextlib
import html
import json
import re
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, quote_plus

MASK = "***"
# The shortest secret hunted in every form and in files, and the shortest cut of one that is
# masked: shorter runs of characters occur in ordinary text by chance.
MIN_LEN = 8

# Where a message is cut short: the end of the text or of a line, or an ellipsis.
_CUT = r"[\r\n…]|\.\.\.|\Z"
_CUT_END = re.compile(_CUT)
# Credentials by shape: `Bearer <token>` / `Basic <base64>` (a token-like run: at least 8
# characters with a digit, a base64 sign or an upper-case letter after the first, so prose such
# as "Basic Authentication" stays), and OAuth fields in JSON text. Each alternative starts with
# a plain character, so the one pattern they join skips ahead fast (see _Rules.compile).
_CREDENTIAL_RUN = r"\s+(?=[A-Za-z0-9._~+/=-][A-Za-z0-9._~+/=-]*[0-9A-Z+/=])[A-Za-z0-9._~+/=-]{8,}"
_SHAPES = [
    *(
        rf"{w[0]}(?i:{w[1:]})(?<!\w.{{{len(w)}}}){_CREDENTIAL_RUN}"  # no word character before it
        for w in ("Bearer", "bearer", "Basic", "basic")
    ),
    r'"(?i:access_token|refresh_token|id_token|client_secret|password)"\s*:\s*"'
    r'(?=[^"])[^"\\]*(?:\\.[^"\\]*)*(?=")',
]
# The part of a shape that stays: the scheme and its spacing, the field's name.
_KEPT = re.compile(r'(?i:bearer|basic)\s+|"[^"]+"\s*:\s*"')


def _base64(raw: bytes) -> set[str]:
    encoded = base64.b64encode(raw).decode("ascii")
    forms = {encoded, encoded.rstrip("=")}
    return forms | {f.replace("+", "-").replace("/", "_") for f in forms}


def encoded_forms(secret: str) -> set[str]:
    """The shapes a secret of MIN_LEN or more characters takes in text we write (the exact
    string included); none for a shorter one. Its whitespace as a message may show it (exact,
    stripped, collapsed, removed, each line of several), each spelling escaped every way."""
    spellings = {secret, secret.strip(), " ".join(secret.split()), "".join(secret.split())}
    spellings |= {line.strip() for line in secret.splitlines()}
    forms: set[str] = set()
    for value in (s for s in spellings if len(s) >= MIN_LEN):
        forms |= {value, html.escape(value), html.escape(value, quote=False)}
        forms |= {json.dumps(value)[1:-1], json.dumps(value, ensure_ascii=False)[1:-1]}
        urls = {quote(value, safe=""), quote_plus(value), quote(value)}
        forms |= urls | {re.sub(r"%[0-9A-F]{2}", lambda m: m[0].lower(), u) for u in urls}
        forms |= _base64(value.encode("utf-8"))
    return {f for f in forms if len(f) >= MIN_LEN}


def _whitespace_pattern(secret: str) -> str | None:
    """A secret holding whitespace matches with any whitespace between its words."""
    words = secret.split()
    if len(words) < 2 or len("".join(words)) < MIN_LEN:
        return None
    return r"\s*".join(re.escape(w) for w in words)


@dataclass(frozen=True)
class _Rules:
    """The compiled patterns for one set of secrets; replaced whole when a secret is added.

    `text` is one alternation whose every branch starts with a plain character: Python's
    engine then skips ahead over text that cannot start a match, and tries the branches, in
    order, only where one can (whole forms first, then shapes, short secrets, then the first
    MIN_LEN characters of a form where it may be cut short). Which branch matched is read
    back from the matched text."""

    text: re.Pattern[str]
    forms: frozenset[str] = frozenset()
    heads: dict[str, tuple[str, ...]] = field(default_factory=dict)
    record: re.Pattern[str] | None = None
    file: re.Pattern[bytes] | None = None

    @classmethod
    def compile(cls, forms: set[str], patterns: set[str], short: set[str]) -> _Rules:
        # Longest first, so that at one position the whole form wins over a shorter one.
        whole = "|".join(sorted([*patterns, *(re.escape(f) for f in forms)], key=len, reverse=True))
        heads: dict[str, list[str]] = {}
        for form in sorted(forms, key=len, reverse=True):
            if len(form) > MIN_LEN:
                heads.setdefault(form[:MIN_LEN], []).append(form)
        text = [whole] if whole else []
        text += _SHAPES
        # A short secret as a whole token: not inside a word (`oracle`, not in `oraclecloud`).
        text += [rf"{re.escape(s)}(?<!\w{re.escape(s)})(?!\w)" for s in sorted(short)]
        # A head only where the form goes on or the text is cut: most false starts end here.
        for head, found in heads.items():
            goes_on = "|".join(sorted({re.escape(f[MIN_LEN]) for f in found}))
            text.append(f"{re.escape(head)}(?={goes_on}|{_CUT})")
        raw: set[bytes] = set()
        for form in forms:
            raw.add(form.encode("utf-8"))
            with contextlib.suppress(UnicodeEncodeError):  # a Java properties file, as Java
                raw.add(form.encode("latin-1"))  # writes it
        in_files = [p.encode("utf-8") for p in patterns] + [re.escape(r) for r in raw]
        in_files.sort(key=lambda p: -len(p))
        return cls(
            text=re.compile("|".join(text)),
            forms=frozenset(forms),
            heads={h: tuple(f) for h, f in heads.items()},
            record=re.compile(whole) if whole else None,
            file=re.compile(b"|".join(in_files)) if in_files else None,
        )


class Redactor:
    """Made once per run (cli.main) and handed to the reporter, the outputs and, through the
    reporter, the artifact writers; secrets are added as soon as they are known, from any
    thread (a token arrives while requests run)."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self._values: set[str] = set()
        self._forms: set[str] = set()
        self._patterns: set[str] = set()
        self._short: set[str] = set()
        self._lock = threading.Lock()
        self._rules = _Rules.compile(set(), set(), set())
        self.add(*secrets)

    def __contains__(self, value: str) -> bool:
        return value in self._values

    def add(self, *values: str | None) -> None:
        """Register secrets (empty values and repeats are ignored)."""
        with self._lock:
            for value in values:
                if not value or value in self._values:
                    continue
                self._values.add(value)
                forms = encoded_forms(value)
                if forms:
                    self._forms |= forms
                    if pattern := _whitespace_pattern(value):
                        self._patterns.add(pattern)
                else:
                    self._short.add(value)
            self._compile()

    def add_credentials(self, user: str | None, secret: str | None) -> None:
        """A user and secret sent as HTTP basic auth: the base64 of `user:secret` is a secret
        too, however short the secret alone."""
        if not (user and secret):
            return
        self.add(secret)
        with self._lock:
            self._forms |= {f for f in _base64(f"{user}:{secret}".encode()) if len(f) >= MIN_LEN}
            self._compile()

    def _compile(self) -> None:
        self._rules = _Rules.compile(self._forms, self._patterns, self._short)

    def text(self, text: str) -> str:
        """`text` for a sink people read, with every secret and credential-shaped value
        replaced by ***; one pass, linear in the length of the text."""
        rules = self._rules  # one consistent set, whatever another thread adds meanwhile
        found = rules.text.search(text)
        if found is None:
            return text
        out: list[str] = []
        done = 0
        cut = -1  # the first cut at or after the last head looked at
        while found is not None:
            start, end = found.span()
            matched = found.group()
            shown = MASK
            if matched in rules.heads and matched not in rules.forms:
                if cut < start + MIN_LEN:
                    at = _CUT_END.search(text, start + MIN_LEN)
                    cut = at.start() if at else len(text)
                # masked only if the text up to that cut is the beginning of one of its forms
                seen = cut - start
                if not any(
                    seen < len(f) and text.startswith(f[:seen], start) for f in rules.heads[matched]
                ):
                    found = rules.text.search(text, start + 1)
                    continue
                end = cut
            elif matched not in rules.forms and (kept := _KEPT.match(matched)):
                shown = kept.group() + MASK
            out += (text[done:start], shown)
            done = end
            found = rules.text.search(text, end)
        out.append(text[done:])
        return "".join(out)

    def data(self, value: Any) -> Any:
        """A JSON-like value for a sink people read: every string (keys too) through `text`."""
        return _strings(value, self.text)

    def record(self, value: Any) -> Any:
        """A record we write (text, or a JSON-like value string by string, keys too): only
        whole forms of secrets of MIN_LEN or more are masked, so a short or common secret
        changes nothing true in it."""
        pattern = self._rules.record
        return value if pattern is None else _strings(value, lambda s: pattern.sub(MASK, s))

    def find_line(self, data: bytes) -> int | None:
        """The line (from 1) of a file shipped as received where a secret of MIN_LEN or more
        characters shows (whole forms, UTF-8 or ISO-8859-1), or None."""
        pattern = self._rules.file
        found = pattern.search(data) if pattern is not None else None
        return None if found is None else data.count(b"\n", 0, found.start()) + 1


def _strings(value: Any, change: Callable[[str], str]) -> Any:
    """A JSON-like value with `change` applied to every string in it, keys too."""
    if isinstance(value, str):
        return change(value)
    if isinstance(value, dict):
        return {_strings(k, change): _strings(v, change) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_strings(v, change) for v in value]
    return value


def shipped_secret(what: str, line: int) -> str:
    """The error for a file we ship as received (a lookup, an attachment, the committed plan)
    that holds a secret: it names the file and line, never the value."""
    return (
        f"{what}: line {line} holds one of this run's secrets (the value of password, "
        "client-secret or an access token); a file shipped as received is never edited, so "
        "the build stops: remove the secret from it"
    )
