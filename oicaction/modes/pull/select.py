"""Which integrations a pull exports: the `integrations` lines (ids `CODE|VERSION`, codes, globs of
codes) resolved against OIC's integration list.

Oracle documents `q` on `GET /integrations` for name, status, type and style, not for the code,
so the list is read whole (paged, `orderBy=name` so that paging is stable while someone edits)
and matched here; docs/live-recording.md records the guesses about its answer.
"""

from __future__ import annotations

import difflib
import fnmatch
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from ...errors import ServerError, SettingsError
from ...oic.client import OicClient, api
from ...source.metadata import CODE_RE, VERSION_RE
from ..discover import split_list

GLOB_CHARS = frozenset("*?[")
PAGE = 100  # items asked for per page; a server answering fewer is paged by what it sent
MAX_PAGES = 2000  # a server that always says hasMore is cut off, never followed for ever


@dataclass(frozen=True)
class Listed:
    """One integration of the server's list. `valid`: its code and version are what OIC
    allows, so the code can name a folder (a hostile or broken server's `../x` cannot)."""

    id: str
    code: str
    version: str
    name: str | None

    @property
    def valid(self) -> bool:
        return (
            bool(CODE_RE.fullmatch(self.code))
            and bool(VERSION_RE.fullmatch(self.version))
            and self.id == f"{self.code}|{self.version}"
        )


def selection_lines(value: str | None) -> list[str]:
    """The `integrations` input as lines; each an id, a code or a glob, else a SettingsError."""
    lines = list(dict.fromkeys(split_list(value)))
    if not lines:
        raise SettingsError(
            "mode pull needs integrations: ids CODE|VERSION, codes or globs of codes, one per "
            "line or comma-separated (or oic-project, to pull an OIC 3 project)"
        )
    for line in lines:
        code, bar, version = line.partition("|")
        if bar and not (CODE_RE.fullmatch(code) and VERSION_RE.fullmatch(version)):
            raise SettingsError(
                f"integrations: {line!r} is not an id CODE|VERSION (e.g. HELLO_WORLD|01.00.0000)"
            )
        if not bar and not GLOB_CHARS & set(line) and not CODE_RE.fullmatch(line):
            raise SettingsError(
                f"integrations: {line!r} is not an integration code, an id CODE|VERSION or a glob"
            )
    return lines


def _listed(item: Any) -> Listed | None:
    """An item of the list as OIC answers it (`id`, `code`, `version`, `name`); None if it
    names no integration at all."""
    if not isinstance(item, dict):
        return None
    given = item.get("id")
    code, version = item.get("code"), item.get("version")
    if isinstance(given, str) and "|" in given:
        code = code if isinstance(code, str) else given.partition("|")[0]
        version = version if isinstance(version, str) else given.partition("|")[2]
    if not isinstance(code, str) or not isinstance(version, str):
        return None
    name = item.get("name")
    ident = given if isinstance(given, str) else f"{code}|{version}"
    return Listed(ident, code, version, name if isinstance(name, str) else None)


def list_integrations(client: OicClient, where: str) -> list[Listed]:
    """Every integration the server (`where`, for messages) lists, each once."""
    found: dict[str, Listed] = {}
    offset = 0
    for _ in range(MAX_PAGES):
        params = {"limit": str(PAGE), "offset": str(offset), "orderBy": "name"}
        page = client.get_json(api("integrations"), "integration list", params=params)
        items = page.get("items") if page is not None else None
        if page is None or not isinstance(items, list):
            raise ServerError(
                f"integration list: GET {api('integrations')} on {where} answered "
                + ("404" if page is None else "without an items list")
            )
        for item in items:
            if (listed := _listed(item)) is not None:
                found.setdefault(listed.id, listed)
        if not page.get("hasMore", page.get("has-more", False)):
            return list(found.values())
        if not items:
            raise ServerError("integration list: the server says hasMore but sent no items")
        offset += len(items)
    raise ServerError(f"integration list: more than {MAX_PAGES} pages; refused")


def _latest(items: Iterable[Listed]) -> list[Listed]:
    """The highest version of each code (NN.NN.NNNN sorts as text)."""
    best: dict[str, Listed] = {}
    for item in items:
        if item.code not in best or item.version > best[item.code].version:
            best[item.code] = item
    return sorted(best.values(), key=lambda i: i.code)


def _hint(line: str, codes: Sequence[str]) -> str:
    close = difflib.get_close_matches(line.upper(), codes, n=1, cutoff=0.8)
    return f" (did you mean {close[0]}?)" if close else ""


def resolve(lines: Sequence[str], listed: Sequence[Listed], where: str) -> list[Listed]:
    """The integrations the lines name, in their order, each once: an id as it is, a code at its
    latest version, a glob's codes at their latest versions. Whatever names nothing is one
    SettingsError listing every such line; so is a selection with two versions of one code
    (both would land in the same folder)."""
    by_id = {i.id: i for i in listed}
    codes = sorted({i.code for i in listed})
    chosen: dict[str, Listed] = {}
    missing: list[str] = []
    for line in lines:
        if "|" in line:
            hits = [by_id[line]] if line in by_id else []
        elif GLOB_CHARS & set(line):
            hits = _latest(i for i in listed if fnmatch.fnmatchcase(i.code, line))
        else:
            hits = _latest(i for i in listed if i.code == line)
        if not hits:
            kind = "matches no integration code" if GLOB_CHARS & set(line) else "does not exist"
            missing.append(f"{line} {kind}{_hint(line, codes)}")
        for hit in hits:
            if not hit.valid:
                raise ServerError(
                    f"integration list of {where}: {line} selects {hit.id!r}, whose code or "
                    "version is not one OIC allows (letters, digits and _; NN.NN.NNNN); refused"
                )
            chosen.setdefault(hit.id, hit)
    if missing:
        raise SettingsError(f"integrations on {where}: " + "; ".join(missing))
    by_code: dict[str, list[str]] = {}
    for item in chosen.values():
        by_code.setdefault(item.code, []).append(item.id)
    if twice := [ids for ids in by_code.values() if len(ids) > 1]:
        raise SettingsError(
            "integrations: "
            + "; ".join(" and ".join(ids) for ids in twice)
            + " are versions of one code, which pull writes to one folder; select one version"
        )
    return list(chosen.values())
