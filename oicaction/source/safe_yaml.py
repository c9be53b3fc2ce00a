"""Parse untrusted YAML (a project's project.yaml) with PyYAML's safe loader, and refuse what the
safe loader still lets through: explicit tags, and anchors and aliases.

SafeLoader never runs code, but `&a [*b, *b, ...]` nested a few levels deep makes a small file
stand for billions of nodes, fatal to whoever walks or dumps it. OIC's own exports use no tags,
anchors or aliases at all, so any of them is refused outright, with the line it is on.
"""

from __future__ import annotations

from typing import Any

import yaml
from yaml.events import AliasEvent, CollectionStartEvent, ScalarEvent
from yaml.nodes import Node

from ..errors import SourceError

MAX_YAML_BYTES = 4 * 1024 * 1024  # real project.yaml files are a few KB


class _Refused(Exception):
    """Why a document is refused; becomes a SourceError naming the file."""


class _PlainLoader(yaml.SafeLoader):
    """SafeLoader that refuses any explicit tag (`!!python/...`, `!!binary`, `!custom`), anchor
    (`&a`) or alias (`*a`)."""

    def compose_node(self, parent: Node | None, index: int) -> Node | None:
        event = self.peek_event()
        line = event.start_mark.line + 1 if event.start_mark else "?"
        if isinstance(event, AliasEvent):
            raise _Refused(f"alias *{event.anchor} at line {line} is not allowed (OIC writes none)")
        if isinstance(event, ScalarEvent | CollectionStartEvent):
            if event.anchor is not None:
                raise _Refused(
                    f"anchor &{event.anchor} at line {line} is not allowed (OIC writes none)"
                )
            if event.tag not in (None, "!"):
                raise _Refused(f"explicit tag {event.tag!r} at line {line} is not allowed")
        return super().compose_node(parent, index)


def load_yaml(data: bytes, where: str) -> Any:
    """The document in `data` as plain Python values; SourceError naming `where` otherwise."""
    if len(data) > MAX_YAML_BYTES:
        raise SourceError(
            f"{where}: {len(data)} bytes, over the {MAX_YAML_BYTES}-byte limit for YAML", file=where
        )
    loader = None
    try:
        loader = _PlainLoader(data)  # reads the first bytes: a file that is not UTF-8 fails here
        return loader.get_single_data()
    except _Refused as exc:
        raise SourceError(f"{where}: refused YAML: {exc}", file=where) from None
    except yaml.reader.ReaderError as exc:  # bytes that do not decode, or a control character
        what = "a character YAML does not allow" if exc.encoding == "unicode" else "not UTF-8"
        raise SourceError(f"{where}: {what} (at byte {exc.position})", file=where) from None
    except yaml.YAMLError as exc:
        detail = " ".join(str(exc).split())
        raise SourceError(f"{where}: not valid YAML ({detail})", file=where) from None
    except RecursionError:
        raise SourceError(f"{where}: refused YAML: nested too deeply", file=where) from None
    finally:
        if loader is not None:
            loader.dispose()
