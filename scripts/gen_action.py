"""Write action.yml's inputs, outputs and `with:` lists, and README's inputs table, from the
Settings model, so that each input is described once: in oicaction/settings.py.

    .venv/bin/python scripts/gen_action.py           # rewrite the generated blocks
    .venv/bin/python scripts/gen_action.py --check   # exit 1, with a diff, if they drifted

Adding an input is one edit (a Settings field with its description) plus running this script.
Only the text between the `>>> gen_action.py: NAME` and `<<< gen_action.py: NAME` markers is
written; everything else in both files is kept as it is.
"""

from __future__ import annotations

import argparse
import difflib
import re
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from oicaction.outputs import OUTPUTS  # noqa: E402
from oicaction.settings import Settings, input_name  # noqa: E402

ACTION = REPO / "action.yml"
README = REPO / "README.md"
WIDTH = 100
# The steps of action.yml that run the container: the prebuilt image, or the Dockerfile built.
RUN_STEPS = ("prebuilt", "built")


class Input(NamedTuple):
    name: str
    description: str
    default: str | None


def inputs() -> list[Input]:
    """The action's inputs, in the Settings model's order, with its descriptions and defaults."""
    found = []
    for field_name, field in Settings.model_fields.items():
        default = field.default
        if isinstance(default, bool):
            text: str | None = "true" if default else "false"
        else:
            text = None if default is None else str(default)
        if not field.description:
            raise SystemExit(f"gen_action.py: Settings.{field_name} has no description")
        found.append(Input(input_name(field_name), field.description, text))
    return found


def _folded(key: str, text: str, indent: str) -> list[str]:
    """`key: >-` and the text wrapped under it: a folded block needs no quoting or escaping."""
    body = textwrap.wrap(text, WIDTH - len(indent) - 2, break_on_hyphens=False)
    return [f"{indent}{key}: >-", *(f"{indent}  {line}" for line in body)]


def _quoted(text: str) -> str:
    """A YAML double-quoted scalar (JSON's escaping is valid YAML)."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def block_inputs(indent: str) -> list[str]:
    lines = []
    for item in inputs():
        lines.append(f"{indent}{item.name}:")
        lines += _folded("description", item.description, indent + "  ")
        lines.append(f"{indent}  required: false")
        if item.default is not None:
            lines.append(f"{indent}  default: {_quoted(item.default)}")
    return lines


def block_outputs(indent: str) -> list[str]:
    lines = []
    for name, description in OUTPUTS.items():
        lines.append(f"{indent}{name}:")
        lines += _folded("description", description, indent + "  ")
        either = " || ".join(f"steps.{step}.outputs.{name}" for step in RUN_STEPS)
        lines.append(f"{indent}  value: ${{{{ {either} }}}}")
    return lines


def block_with(indent: str) -> list[str]:
    return [f"{indent}{item.name}: ${{{{ inputs.{item.name} }}}}" for item in inputs()]


def block_input_names(indent: str) -> list[str]:
    return [f"{indent}OIC_ACTION_INPUTS: {' '.join(item.name for item in inputs())}"]


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def block_readme_inputs(indent: str) -> list[str]:
    lines = ["| input | default | meaning |", "|---|---|---|"]
    for item in inputs():
        default = f"`{item.default}`" if item.default is not None else ""
        lines.append(f"| `{item.name}` | {_cell(default)} | {_cell(item.description)} |")
    return [indent + line for line in lines]


YAML_BLOCKS: dict[str, Callable[[str], list[str]]] = {
    "inputs": block_inputs,
    "outputs": block_outputs,
    "with": block_with,
    "input-names": block_input_names,
}
README_BLOCKS: dict[str, Callable[[str], list[str]]] = {"inputs": block_readme_inputs}


def fill(text: str, start: str, end: str, blocks: dict[str, Callable[[str], list[str]]]) -> str:
    """Replace what stands between each pair of markers; `start`/`end` are regexes with a NAME
    group, matched against whole lines (the start marker's indentation is the block's)."""
    lines, out, i, seen = text.split("\n"), [], 0, set()
    while i < len(lines):
        out.append(lines[i])
        m = re.fullmatch(r"(\s*)" + start, lines[i])
        if not m:
            i += 1
            continue
        indent, name = m.group(1), m.group("name")
        if name not in blocks:
            raise SystemExit(f"gen_action.py: unknown block {name!r}")
        stop, j = re.compile(r"\s*" + end.replace("NAME", re.escape(name))), i + 1
        while j < len(lines) and not stop.fullmatch(lines[j]):
            j += 1
        if j == len(lines):
            raise SystemExit(f"gen_action.py: block {name!r} has no end marker")
        out += blocks[name](indent)
        out.append(lines[j])
        seen.add(name)
        i = j + 1
    if missing := set(blocks) - seen:
        raise SystemExit(f"gen_action.py: no marker for {sorted(missing)}")
    return "\n".join(out)


def generate() -> dict[Path, str]:
    """Each file as it should be."""
    action = fill(
        ACTION.read_text(encoding="utf-8"),
        r"# >>> gen_action\.py: (?P<name>[a-z-]+).*",
        r"# <<< gen_action\.py: NAME.*",
        YAML_BLOCKS,
    )
    readme = fill(
        README.read_text(encoding="utf-8"),
        r"<!-- >>> gen_action\.py: (?P<name>[a-z-]+).*-->",
        r"<!-- <<< gen_action\.py: NAME.*-->",
        README_BLOCKS,
    )
    return {ACTION: action, README: readme}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--check", action="store_true", help="change nothing; exit 1 on drift")
    args = ap.parse_args(argv)
    drifted = []
    for path, wanted in generate().items():
        current = path.read_text(encoding="utf-8")
        if current == wanted:
            continue
        drifted.append(path)
        if args.check:
            diff = difflib.unified_diff(
                current.splitlines(), wanted.splitlines(), str(path), "generated", lineterm=""
            )
            print("\n".join(diff))
        else:
            path.write_text(wanted, encoding="utf-8")
            print(f"wrote {path.relative_to(REPO)}")
    if args.check and drifted:
        names = ", ".join(str(p.relative_to(REPO)) for p in drifted)
        print(f"{names} drifted from oicaction/settings.py: run scripts/gen_action.py")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
