"""Turn what a failed HTTP exchange left behind (an error body, an exception) into one short line.

OIC answers errors in three shapes: its own JSON (`title`, `detail`, `o:errorCode`), the OCI
API gateway's `{code, message}` and plain text or an HTML page; OAuth servers add
`{error, error_description}`. Whatever the shape, the user gets one line.
"""

from __future__ import annotations

import json
import re
from typing import Any

import requests

MAX_DETAIL = 300
_TITLE = re.compile(r"<title[^>]*>(.*?)</title>", re.IGNORECASE | re.DOTALL)
_TAG = re.compile(r"<[^>]+>")


def one_line(text: str, limit: int = 1000) -> str:
    """Collapse whitespace (newlines included) and cut overly long text."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _from_json(data: Any) -> str | None:
    if not isinstance(data, dict):
        return None
    title, detail = data.get("title"), data.get("detail")
    code = data.get("o:errorCode") or data.get("errorCode")
    if title or detail:
        text = ": ".join(str(p) for p in (title, detail) if p)
        return f"{text} (o:errorCode {code})" if code else text
    if data.get("code") and data.get("message"):  # OCI API gateway
        return f"{data['code']}: {data['message']}"
    if data.get("error"):  # OAuth2 token endpoint
        desc = data.get("error_description")
        return f"{data['error']}: {desc}" if desc else str(data["error"])
    if data.get("message"):
        return str(data["message"])
    return None


def describe_text(body: str, content_type: str = "") -> str:
    """The readable gist of an error body, whatever its shape."""
    body = body.strip()
    if not body:
        return "empty body"
    if body[:1] in "{[" or "json" in content_type:
        try:
            found = _from_json(json.loads(body))
        except ValueError:
            found = None
        if found:
            return one_line(found, MAX_DETAIL)
    if "html" in content_type or body[:1] == "<":
        title = _TITLE.search(body)
        if title and title.group(1).strip():
            return one_line(f"HTML page {title.group(1).strip()!r}", MAX_DETAIL)
        return one_line("HTML page: " + _TAG.sub(" ", body), MAX_DETAIL)
    return one_line(body, MAX_DETAIL)


def describe_body(resp: requests.Response) -> str:
    return describe_text(resp.text[:65536], resp.headers.get("Content-Type", "").lower())


def is_gateway_error(resp: requests.Response) -> bool:
    """True for the OCI gateway's `{code, message}`: a wrong host or instance, not a missing
    object, when it comes with a 404."""
    try:
        data = json.loads(resp.text[:65536])
    except ValueError:
        return False
    return isinstance(data, dict) and "code" in data and "message" in data and "title" not in data


def describe_exception(exc: BaseException, timeout: tuple[float, float]) -> str:
    """Why no answer came: refused, reset, timed out, TLS; after the retries were spent."""
    reason: BaseException | None = exc
    # requests wraps urllib3's MaxRetryError, which wraps the last low-level error.
    while reason is not None and reason.args and isinstance(reason.args[0], BaseException):
        reason = reason.args[0]
    inner = getattr(reason, "reason", None)
    text = f"{type(inner).__name__ if inner else ''} {inner or reason}".lower()
    retried = " (gave up after retrying)"
    if isinstance(exc, requests.exceptions.SSLError):
        return one_line(f"TLS/SSL error: {inner or reason}", MAX_DETAIL)
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return f"could not connect within {timeout[0]:g} s{retried}"
    if isinstance(exc, requests.exceptions.ReadTimeout) or "read timed out" in text:
        return f"no answer within the {timeout[1]:g} s read timeout{retried}"
    if "reset" in text or "aborted" in text or "remotedisconnected" in text:
        return f"connection reset by the server{retried}"
    if "refused" in text or "newconnectionerror" in text:
        return f"connection refused{retried}"
    if "name or service not known" in text or "nodename nor servname" in text:
        return "host name not found (check oic-url)"
    return one_line(f"{type(exc).__name__}: {inner or reason}", MAX_DETAIL)
