"""Parse untrusted YAML (a project's project.yaml) with PyYAML's safe loader, and refuse what
the safe loader still lets through: explicit tags, and aliases that expand into a bomb.

PyYAML's SafeLoader never runs code, but `&a [*b, *b, ...]` nested a few levels deep makes a
small file stand for billions of nodes: harmless while shared, fatal to whoever walks or dumps
it. So the document is composed first (aliases stay shared, linear in the file size), its
expanded size is counted over the node graph with memoisation (cheap however large the
expansion), and only a document within MAX_NODES, without cycles and without tags is
constructed. OIC's own exports use no tags and no aliases at all.
"""

from __future__ import annotations

from typing import Any

import yaml
from yaml.events import CollectionStartEvent, ScalarEvent
from yaml.nodes import MappingNode, Node, SequenceNode

from ..errors import SourceError

MAX_YAML_BYTES = 4 * 1024 * 1024  # real project.yaml files are a few KB
MAX_NODES = 100_000  # after expanding aliases; a real project.yaml has a few hundred


class _Refused(Exception):
    """Why a document is refused; becomes a SourceError naming the file."""


class _NoTagLoader(yaml.SafeLoader):
    """SafeLoader that refuses any explicit tag (`!!python/...`, `!!binary`, `!custom`)."""

    def compose_node(self, parent: Node | None, index: int) -> Node | None:
        event = self.peek_event()
        if isinstance(event, ScalarEvent | CollectionStartEvent) and event.tag not in (None, "!"):
            line = event.start_mark.line + 1 if event.start_mark else "?"
            raise _Refused(f"explicit tag {event.tag!r} at line {line} is not allowed")
        return super().compose_node(parent, index)


def _expanded_size(root: Node) -> int:
    """Nodes the document stands for once every alias is expanded; refuses cycles."""
    sizes: dict[int, int] = {}
    visiting: set[int] = set()

    def size(node: Node) -> int:
        key = id(node)
        if key in sizes:
            return sizes[key]
        if key in visiting:
            raise _Refused("an alias refers to a node that contains it (recursive document)")
        visiting.add(key)
        total = 1
        if isinstance(node, SequenceNode):
            total += sum(size(child) for child in node.value)
        elif isinstance(node, MappingNode):
            total += sum(size(k) + size(v) for k, v in node.value)
        visiting.discard(key)
        sizes[key] = min(total, MAX_NODES + 1)  # capped: a bomb's count can be astronomical
        return sizes[key]

    return size(root)


def load_yaml(data: bytes, where: str) -> Any:
    """The document in `data` as plain Python values; SourceError naming `where` otherwise."""
    if len(data) > MAX_YAML_BYTES:
        raise SourceError(
            f"{where}: {len(data)} bytes, over the {MAX_YAML_BYTES}-byte limit for YAML", file=where
        )
    loader = _NoTagLoader(data)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        nodes = _expanded_size(node)
        if nodes > MAX_NODES:
            raise _Refused(f"aliases expand it to more than {MAX_NODES} nodes (YAML alias bomb?)")
        return loader.construct_document(node)
    except _Refused as exc:
        raise SourceError(f"{where}: refused YAML: {exc}", file=where) from None
    except yaml.YAMLError as exc:
        detail = " ".join(str(exc).split())
        raise SourceError(f"{where}: not valid YAML ({detail})", file=where) from None
    except RecursionError:
        raise SourceError(f"{where}: refused YAML: nested too deeply", file=where) from None
    finally:
        loader.dispose()
