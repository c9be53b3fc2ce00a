"""Turn what a failed HTTP exchange left behind (an error body, an exception) into one short line.

OIC answers errors in three shapes: its own JSON (`title`, `detail`, `o:errorCode`), the OCI
API gateway's `{code, message}` and plain text or an HTML page; OAuth servers add
`{error, error_description}`. Whatever the shape, the user gets one line.
"""

from __future__ import annotations

import json
import re
from typing import Any

from urllib3.exceptions import ConnectTimeoutError, NewConnectionError, ReadTimeoutError, SSLError

from ..errors import one_line

MAX_DETAIL = 300
_TITLE = re.compile(r"<title[^>]*>(.*?)</title>", re.IGNORECASE | re.DOTALL)
_TAG = re.compile(r"<[^>]+>")


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


def is_gateway_error(body: bytes) -> bool:
    """True for the OCI gateway's `{code, message}`: a wrong host or instance, not a missing
    object, when it comes with a 404."""
    try:
        data = json.loads(body[:65536])
    except ValueError:
        return False
    return isinstance(data, dict) and "code" in data and "message" in data and "title" not in data


def describe_exception(cause: BaseException, timeout: tuple[float, float]) -> str:
    """Why no answer came (refused, reset, timed out, TLS), from the urllib3 error."""
    inner = getattr(cause, "reason", None) or getattr(cause, "original_error", None)
    text = f"{type(cause).__name__} {type(inner).__name__ if inner else ''} {cause}".lower()
    if isinstance(cause, SSLError):
        return one_line(f"TLS/SSL error: {cause}", MAX_DETAIL)
    if isinstance(cause, ConnectTimeoutError) and not isinstance(cause, NewConnectionError):
        return f"could not connect within {timeout[0]:g} s"
    if isinstance(cause, ReadTimeoutError) or "read timed out" in text:
        return f"no answer within the {timeout[1]:g} s read timeout"
    if "reset" in text or "aborted" in text or "remotedisconnected" in text:
        return "connection reset by the server"
    if "name or service not known" in text or "nodename nor servname" in text:
        return "host name not found (check oic-url)"
    if "refused" in text or "newconnectionerror" in text:
        return "connection refused"
    return one_line(f"{type(cause).__name__}: {cause}", MAX_DETAIL)
