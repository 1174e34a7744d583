"""Sphinx directives of the hepcombine documentation, generated from the package itself:

* ``.. hepcombine-cli::`` — ``hepcombine --help`` and every subcommand's ``--help``, from
  :func:`hepcombine.cli.build_parser`, so the reference cannot drift from the program;
* ``.. hepcombine-schema:: config.json`` — the YAML configuration schema shipped in
  ``hepcombine/schemas/``, rendered as nested tables of its properties (type, required,
  description) with the schema itself below.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from docutils import nodes
from docutils.parsers.rst import Directive
from docutils.statemachine import StringList


class CliDirective(Directive):
    has_content = False

    def run(self) -> list[nodes.Node]:
        from hepcombine.cli import build_parser

        parser = build_parser()
        out: list[nodes.Node] = []
        sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
        top = nodes.section(ids=["hepcombine"])
        top += nodes.title(text="hepcombine")
        top += nodes.literal_block(text=parser.format_help())
        out.append(top)
        for name, p in sub.choices.items():
            sec = nodes.section(ids=[f"hepcombine-{name}"])
            sec += nodes.title(text=f"hepcombine {name}")
            sec += nodes.literal_block(text=p.format_help())
            out.append(sec)
        return out


def _type(prop: dict[str, Any]) -> str:
    if "type" in prop:
        t = prop["type"]
        return " | ".join(t) if isinstance(t, list) else str(t)
    for key in ("oneOf", "anyOf"):
        if key in prop:
            return " | ".join(_type(p) for p in prop[key])
    if "$ref" in prop:
        return prop["$ref"].rsplit("/", 1)[-1]
    if "enum" in prop:
        return "one of " + ", ".join(repr(v) for v in prop["enum"])
    return "any"


def _rows(schema: dict[str, Any], prefix: str, defs: dict[str, Any], depth: int = 0) -> list[str]:
    lines: list[str] = []
    props = schema.get("properties", {})
    required = set(schema.get("required", []))
    for name, prop in props.items():
        if "$ref" in prop and prop["$ref"].startswith("#/$defs/"):
            target = defs.get(prop["$ref"].rsplit("/", 1)[-1], {})
            merged = {**target, **{k: v for k, v in prop.items() if k != "$ref"}}
        else:
            merged = prop
        desc = " ".join(str(merged.get("description", "")).split())
        if "enum" in merged:
            desc += " One of: " + ", ".join(f"``{v}``" for v in merged["enum"]) + "."
        if "default" in merged:
            desc += f" Default: ``{json.dumps(merged['default'])}``."
        key = f"{prefix}{name}"
        lines += [
            f"   * - ``{key}``",
            f"     - {_type(prop)}",
            f"     - {'yes' if name in required else ''}",
            f"     - {desc or ' '}",
        ]
        if depth < 3:
            nested = merged
            if merged.get("type") == "array" and isinstance(merged.get("items"), dict):
                nested = merged["items"]
                if "$ref" in nested:
                    nested = defs.get(nested["$ref"].rsplit("/", 1)[-1], {})
                lines += _rows(nested, f"{key}[].", defs, depth + 1)
            elif "properties" in nested:
                lines += _rows(nested, f"{key}.", defs, depth + 1)
            elif isinstance(merged.get("additionalProperties"), dict):
                nested = merged["additionalProperties"]
                if "$ref" in nested:
                    nested = defs.get(nested["$ref"].rsplit("/", 1)[-1], {})
                if "properties" in nested:
                    lines += _rows(nested, f"{key}.<name>.", defs, depth + 1)
    return lines


class SchemaDirective(Directive):
    required_arguments = 1
    has_content = False

    def run(self) -> list[nodes.Node]:
        import hepcombine

        path = Path(hepcombine.__file__).parent / "schemas" / self.arguments[0]
        text = path.read_text(encoding="utf-8")
        schema = json.loads(text)
        defs = schema.get("$defs", schema.get("definitions", {}))
        rst = [
            ".. list-table::",
            "   :header-rows: 1",
            "   :widths: 25 15 8 52",
            "",
            "   * - key",
            "     - type",
            "     - required",
            "     - description",
            *_rows(schema, "", defs),
            "",
            "The schema itself:",
            "",
            ".. code-block:: json",
            "",
            *("   " + ln for ln in json.dumps(schema, indent=2).splitlines()),
            "",
        ]
        node = nodes.section()
        node.document = self.state.document
        self.state.nested_parse(StringList(rst), self.content_offset, node)
        return list(node.children)


def _escape_pipes(line: str) -> str:
    """``|x|`` in prose (absolute values, ``|λ| ≤ 1``) is not an RST substitution: escape
    every ``|`` outside inline literals, except in table rows."""
    if line.lstrip().startswith(("|", "+")):
        return line
    parts = line.split("``")
    return "``".join(p if i % 2 else p.replace("|", "\\|") for i, p in enumerate(parts))


def _process_docstring(
    app: Any, what: str, name: str, obj: Any, options: Any, lines: list[str]
) -> None:
    lines[:] = [_escape_pipes(ln) for ln in lines]


def setup(app: Any) -> dict[str, Any]:
    app.connect("autodoc-process-docstring", _process_docstring)
    app.add_directive("hepcombine-cli", CliDirective)
    app.add_directive("hepcombine-schema", SchemaDirective)
    return {"parallel_read_safe": True, "version": "1"}
