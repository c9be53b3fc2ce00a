"""The one redaction every sink goes through: log lines, annotations, step outputs, the step
summary, --json and every text file of the artifact.

A secret leaks in more shapes than its exact string: a server echoes the base64 of
`user:password` from an Authorization header, a message is whitespace-collapsed or cut short,
text is JSON-, URL- or HTML-escaped. So each secret registered here is matched in all of these
forms, and a few shapes are redacted whatever their value (an `Authorization`-style credential,
an OAuth token field), because a token the server issues is never registered by name.
"""

from __future__ import annotations

import base64
import html
import json
import re
import threading
from collections.abc import Iterable
from typing import Any
from urllib.parse import quote, quote_plus

MASK = "***"
# A secret cut short is still redacted when at least this many of its characters are shown.
MIN_CUT = 8
# A cut shows as the end of the text or of a line, or an ellipsis.
_CUT_ENDS = ("…", "...", "\n", "\r")

# Credentials recognised by shape: `Bearer <token>` / `Basic <base64>` (a token-like run: at
# least 8 characters with a digit, a base64 sign or an upper-case letter after the first, so
# prose such as "Basic Authentication" stays), and OAuth fields in JSON text.
_SCHEME_TOKEN = re.compile(
    r"(?i:\b(bearer|basic)\s+)"
    r"((?=[A-Za-z0-9._~+/=-][A-Za-z0-9._~+/=-]*[0-9A-Z+/=])[A-Za-z0-9._~+/=-]{8,})"
)
_TOKEN_FIELD = re.compile(
    r'("(?:access_token|refresh_token|id_token|client_secret|password)"\s*:\s*")'
    r'((?:[^"\\]|\\.)+)(")',
    re.IGNORECASE,
)


def _b64_variants(raw: bytes) -> set[str]:
    """base64 of `raw` at each of the three alignments it can have inside a longer encoded
    value (only the characters that depend on `raw` alone), standard and URL-safe alphabets."""
    found: set[str] = set()
    for shift in range(3):
        encoded = base64.b64encode(b"\0" * shift + raw).decode("ascii")
        if shift == 0:
            found.update({encoded, encoded.rstrip("=")})
        core = encoded.rstrip("=")[(8 * shift + 5) // 6 :]
        if (shift + len(raw)) % 3:
            core = core[:-1]  # its last character also holds bits of what follows
        if len(core) >= MIN_CUT:
            found.add(core)
    found |= {v.replace("+", "-").replace("/", "_") for v in found}
    return found


def _url_variants(value: str) -> set[str]:
    forms = {quote(value, safe=""), quote_plus(value), quote(value)}
    return forms | {re.sub(r"%[0-9A-F]{2}", lambda m: m.group(0).lower(), f) for f in forms}


def encoded_forms(secret: str) -> set[str]:
    """The shapes one secret can take in text we write (the exact string included)."""
    base = {secret, secret.strip(), " ".join(secret.split()), "".join(secret.split())}
    base |= {line.strip() for line in secret.splitlines() if len(line.strip()) >= MIN_CUT}
    base.discard("")
    forms: set[str] = set()
    for value in base:
        forms |= {value, html.escape(value), html.escape(value, quote=False)}
        forms |= {json.dumps(value)[1:-1], json.dumps(value, ensure_ascii=False)[1:-1]}
        forms |= _url_variants(value)
        forms |= _b64_variants(value.encode("utf-8"))
    forms.discard("")
    return forms


def _whitespace_pattern(secret: str) -> str | None:
    """A secret holding whitespace matches with any whitespace (none, CR/LF, collapsed)."""
    words = secret.split()
    if len(words) < 2:
        return None
    return r"\s*".join(re.escape(w) for w in words)


class Redactor:
    """Made once per run (cli.main) and handed to the reporter, the outputs and, through the
    reporter, the artifact writers; secrets are added as soon as they are known."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self._secrets: list[str] = []
        self._forms: set[str] = set()
        self._patterns: set[str] = set()
        self._regex: re.Pattern[str] | None = None
        self._cut_forms: list[str] = []
        self._lock = threading.Lock()
        self.add(*secrets)

    def __contains__(self, value: str) -> bool:
        return value in self._secrets

    @property
    def secrets(self) -> tuple[str, ...]:
        return tuple(self._secrets)

    def add(self, *values: str | None) -> None:
        """Register secrets (empty values and repeats are ignored)."""
        with self._lock:
            for value in values:
                if not value or value in self._secrets:
                    continue
                self._secrets.append(value)
                self._forms |= encoded_forms(value)
                if pattern := _whitespace_pattern(value):
                    self._patterns.add(pattern)
            self._compile()

    def add_credentials(self, user: str | None, secret: str | None) -> None:
        """A user and secret sent as HTTP basic auth: the base64 of `user:secret` is a secret."""
        if not (user and secret):
            return
        self.add(secret)
        with self._lock:
            self._forms |= _b64_variants(f"{user}:{secret}".encode())
            self._compile()

    def _compile(self) -> None:
        alternatives = sorted(self._forms, key=len, reverse=True)
        parts = sorted(self._patterns, key=len, reverse=True) + [re.escape(f) for f in alternatives]
        self._regex = re.compile("|".join(parts)) if parts else None
        self._cut_forms = [f for f in alternatives if len(f) > MIN_CUT]

    def text(self, text: str) -> str:
        """`text` with every registered secret (in any of its forms) and every credential-shaped
        value replaced by ***."""
        if self._regex is not None:
            text = self._regex.sub(MASK, text)
            text = self._cut_tails(text)
        text = _SCHEME_TOKEN.sub(lambda m: f"{m.group(0)[: -len(m.group(2))]}{MASK}", text)
        return _TOKEN_FIELD.sub(lambda m: f"{m.group(1)}{MASK}{m.group(3)}", text)

    __call__ = text

    def _cut_tails(self, text: str) -> str:
        """The first MIN_CUT+ characters of a secret where the text is cut: at its end, a
        line's end or an ellipsis (a message shortened to fit)."""
        for form in self._cut_forms:
            head = form[:MIN_CUT]
            start = 0
            while (i := text.find(head, start)) != -1:
                j = i + MIN_CUT
                while j < len(text) and j - i < len(form) and text[j] == form[j - i]:
                    j += 1
                if j - i == len(form) or j == len(text) or text.startswith(_CUT_ENDS, j):
                    text = text[:i] + MASK + text[j:]
                    j = i + len(MASK)
                start = j
        return text

    def file_bytes(self, data: bytes) -> bytes:
        """A file's bytes as received (a lookup, an attachment, a committed plan), unless a
        secret shows in them: then the redacted text, every other byte kept."""
        text = data.decode("utf-8", "surrogateescape")
        redacted = self.text(text)
        return data if redacted == text else redacted.encode("utf-8", "surrogateescape")

    def data(self, value: Any) -> Any:
        """A JSON-like value with every string (keys too) redacted, its shape kept."""
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, dict):
            return {self.data(k): self.data(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [self.data(v) for v in value]
        return value
