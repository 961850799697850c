"""MkDocs hook: the reference pages are written from the code at every build, so they cannot drift from it.

mkdocs.yml names this file under ``hooks:``; ``mkdocs build`` (and ``serve``) call :func:`on_files`, which adds:

- ``reference/cli.md`` from the argparse parser of ``jisr.cli``,
- ``reference/settings.md`` from ``jisr.settings`` (what ``jisr config --json`` prints, with defaults),
- ``reference/http-api.md`` from the OpenAPI document the server gives at ``/openapi.json``,
- ``reference/python-api.md`` from the docstrings of ``jisr.Index``, ``jisr.build``, ``jisr.Answer``, ...,
- ``results/...``: every file of ``benchmarks/results/`` and the page's screenshots (``web/screenshots/``),
  so the docs link the measured figures where the benchmarks write them, never a copy typed by hand.

Nothing generated is committed: ``python docs/gen_reference.py DIR`` writes the four pages to DIR to read them.
"""

from __future__ import annotations

import argparse
import dataclasses
import inspect
import json
import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mkdocs.config.defaults import MkDocsConfig
    from mkdocs.structure.files import Files

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results"
SCREENSHOTS = ROOT / "web" / "screenshots"
_GENERATED = "<!-- written by docs/gen_reference.py from the code at every `mkdocs build`: edit the code -->\n\n"


def _cell(text: object) -> str:
    """Text that fits in one Markdown table cell."""
    return str(text).replace("|", "\\|").replace("\n", " ").strip()


def cli_reference() -> str:
    """Every `jisr` command with its usage and each option's help, from the parser `jisr` itself runs."""
    from jisr.cli import _parser

    parser = _parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    helps = {choice.dest: choice.help for choice in sub._choices_actions}
    out = [
        "# Command line reference\n",
        _GENERATED,
        "Every command and option of `jisr`, read from its argument parser (`search/cli.py`); "
        "`jisr COMMAND --help` prints the same. Settings that an option gives can also come from the "
        "environment or `jisr.toml`: see [Settings](settings.md).\n",
    ]
    for name, command in sub.choices.items():
        out.append(f"\n## jisr {name}\n")
        if helps.get(name):
            out.append(f"{helps[name]}\n")
        usage = command.format_usage().replace("usage: ", "", 1).strip()
        out.append(f"\n```text\n{usage}\n```\n")
        if command.description:
            out.append(f"\n{command.description}\n")
        out.append("\n| option | help |\n|---|---|\n")
        for action in command._actions:
            if isinstance(action, argparse._HelpAction):
                continue
            names = ", ".join(action.option_strings) or (action.metavar or action.dest)
            text = (action.help or "").replace("%(default)s", str(action.default)).replace("%%", "%")
            if action.choices:
                text += f" (one of: {', '.join(map(str, action.choices))})"
            out.append(f"| `{_cell(names)}` | {_cell(text)} |\n")
    return "".join(out)


def settings_reference() -> str:
    """Every setting: its default, unit, environment variables, option and help, from ``jisr.settings``."""
    from jisr import settings

    by_setting = {name: dest for dest, name in settings.flags().items()}
    described = settings.Settings().describe()
    out = [
        "# Settings reference\n",
        _GENERATED,
        "Each setting has one name, default and unit. It is taken from the command line, else its environment "
        "variable, else a TOML file (`--config FILE`, else `./jisr.toml`; the keys are the names below, e.g. "
        "`queue_depth = 16`), else its default. `jisr config` prints each with its value and where it came "
        "from (`--json` for a program), secrets masked; `GET /api/settings` shows a running server's. "
        "Sizes take a unit (`4GB`, `512MiB`). Read from `search/settings.py`.\n",
    ]
    for group in settings.GROUPS:
        out.append(f"\n## {group}\n\n{inspect.getdoc(settings.GROUPS[group]) or ''}\n\n")
        out.append("| setting | unit | help, default and environment |\n|---|---|---|\n")
        for name, info in described.items():
            if info["group"] != group:
                continue
            dest = by_setting.get(name)
            names = [f"`{name}`", *([f"`--{dest.replace('_', '-')}`"] if dest else [])]
            out.append(f"| {'<br>'.join(names)} | {_cell(info['unit'])} | {_cell(settings.help_text(name))} |\n")
    return "".join(out)


def _schema_text(schema: dict) -> str:
    if "$ref" in schema:
        return schema["$ref"].rsplit("/", 1)[-1]
    kind = schema.get("type", "")
    if "enum" in schema:
        kind += " (" + ", ".join(map(str, schema["enum"])) + ")"
    limits = (("minimum", "≥"), ("maximum", "≤"), ("maxLength", "length ≤"))
    bounds = [f"{word} {schema[key]}" for key, word in limits if key in schema]
    if "default" in schema:
        bounds.append(f"default {json.dumps(schema['default'])}")
    return kind + (", " + ", ".join(bounds) if bounds else "")


def http_reference() -> str:
    """Every path and method of the JSON API, its parameters and answers, from the server's OpenAPI document."""
    from jisr.web.openapi import spec

    document = spec()
    out = [
        "# HTTP API reference\n",
        _GENERATED,
        f"{document['info'].get('title', '')} {document['info'].get('version', '')}: read from the OpenAPI "
        "document (`web/openapi.py`) that a server gives at `GET /openapi.json`. Errors are JSON "
        '`{"error", "message"}`.\n',
    ]
    for path, operations in document["paths"].items():
        for method, op in operations.items():
            out.append(f"\n## {method.upper()} `{path}`\n\n{op.get('summary', '')}\n")
            if op.get("description"):
                out.append(f"\n{op['description']}\n")
            params = op.get("parameters", [])
            if params:
                out.append("\n| parameter | in | type | description |\n|---|---|---|---|\n")
                for p in params:
                    schema = p.get("schema") or next(iter(p.get("content", {}).values()), {}).get("schema", {})
                    required = " (required)" if p.get("required") else ""
                    out.append(
                        f"| `{p['name']}`{required} | {p['in']} | {_cell(_schema_text(schema))} | "
                        f"{_cell(p.get('description', ''))} |\n"
                    )
            body = op.get("requestBody", {}).get("content", {})
            if body:
                kinds = ", ".join(f"`{kind}` ({_schema_text(v.get('schema', {}))})" for kind, v in body.items())
                out.append(f"\nBody: {kinds}\n")
            out.append("\n| status | answer |\n|---|---|\n")
            for status, answer in op.get("responses", {}).items():
                out.append(f"| {status} | {_cell(answer.get('description', ''))} |\n")
    out.append("\n## Schemas\n")
    for name, schema in document["components"]["schemas"].items():
        out.append(f"\n### {name}\n\n")
        if schema.get("description"):
            out.append(f"{schema['description']}\n\n")
        props = schema.get("properties", {})
        if props:
            required = set(schema.get("required", []))
            out.append("| field | type | description |\n|---|---|---|\n")
            for field, sub in props.items():
                mark = " (always)" if field in required else ""
                out.append(f"| `{field}`{mark} | {_cell(_schema_text(sub))} | {_cell(sub.get('description', ''))} |\n")
    return "".join(out)


def _documented(title: str, obj: object, members: tuple[str, ...] = ()) -> str:
    out = [f"\n## {title}\n"]
    if callable(obj) and not inspect.isclass(obj):
        out.append(f"\n```text\n{title}{inspect.signature(obj)}\n```\n")
    out.append(f"\n{inspect.getdoc(obj) or ''}\n")
    if inspect.isclass(obj) and dataclasses.is_dataclass(obj):
        out.append("\n| field | type |\n|---|---|\n")
        out.extend(f"| `{f.name}` | {_cell(f.type)} |\n" for f in dataclasses.fields(obj) if not f.name.startswith("_"))
    for name in members:
        member = inspect.getattr_static(obj, name)
        func = member.__func__ if isinstance(member, (classmethod, staticmethod)) else member
        if isinstance(func, property):
            out.append(f"\n### {title}.{name}\n\n{inspect.getdoc(func) or ''}\n")
            continue
        out.append(
            f"\n### {title}.{name}\n\n```text\n{name}{inspect.signature(func)}\n```\n\n{inspect.getdoc(func) or ''}\n"
        )
    return "".join(out)


def _public(cls: type) -> tuple[str, ...]:
    """The public methods and properties a class defines itself, in the order of its source."""
    return tuple(
        name
        for name, value in vars(cls).items()
        if not name.startswith("_") and (callable(value) or isinstance(value, (property, classmethod, staticmethod)))
    )


def python_reference() -> str:
    """The public Python API, ``import jisr``: signatures and docstrings as the code holds them."""
    import jisr
    from jisr import errors, settings

    out = ["# Python API reference\n", _GENERATED, f"{inspect.getdoc(jisr)}\n"]
    out.append(_documented("jisr.build", jisr.build))
    for name in ("Index", "SearchRequest", "Answer", "BuildOptions"):
        cls = getattr(jisr, name)
        out.append(_documented(f"jisr.{name}", cls, _public(cls)))
    out.append(_documented("jisr.errors", errors))
    classes = [
        cls
        for _, cls in inspect.getmembers(errors, inspect.isclass)
        if issubclass(cls, errors.Error) and cls.__module__ == errors.__name__
    ]
    out.append("\n| error | when |\n|---|---|\n")
    out.extend(
        f"| `jisr.errors.{cls.__name__}` | {_cell((inspect.getdoc(cls) or '').split(chr(10) * 2)[0])} |\n"
        for cls in classes
    )
    out.append(_documented("jisr.settings", settings))
    for name in ("load", "current", "names", "describe"):
        if hasattr(settings, name):
            out.append(_documented(f"jisr.settings.{name}", getattr(settings, name)))
    return "".join(out)


def results_index() -> str:
    """One line per results file: what it measured and the CPU it ran on, read from the file's own header."""
    out = [
        "# Benchmark results\n",
        _GENERATED,
        "Every figure the docs cite comes from one of these files, written by the script named in it "
        "(`benchmarks/`); each says the CPU it ran on. Figures move with the machine and its neighbours: "
        "compare rows of one file, measured in one run, rather than files.\n\n"
        "| file | what it measured | CPU |\n|---|---|---|\n",
    ]
    for path in sorted(RESULTS.rglob("*.md")):
        lines = path.read_text(encoding="utf-8").splitlines()
        title = next((line.lstrip("# ") for line in lines if line.startswith("# ")), path.stem)
        cpu = next(
            (re.sub(r"^(CPU|Machine): ", "", line) for line in lines if re.match(r"(CPU|Machine): ", line)),
            "(see the file)",
        )
        uri = path.relative_to(RESULTS).as_posix()
        flags = [flag for flag in ("avx512f", "avx512_bf16", "amx_bf16") if f"{flag} yes" in cpu]
        extra = f" ({', '.join(flags)})" if flags else (" (AVX2 only)" if "avx2 yes" in cpu else "")
        shown = cpu.split(";")[0] + extra
        out.append(f"| [{uri}](results/{uri}) | {_cell(title)} | {_cell(shown)} |\n")
    return "".join(out)


PAGES: dict[str, Callable[[], str]] = {
    "results.md": results_index,
    "reference/cli.md": cli_reference,
    "reference/settings.md": settings_reference,
    "reference/http-api.md": http_reference,
    "reference/python-api.md": python_reference,
}


def _result_page(path: Path) -> str:
    """A results file as a docs page: its links to files beside it kept, links elsewhere made plain text."""
    text = path.read_text(encoding="utf-8")

    def keep(match: re.Match) -> str:
        target = match.group(2).split("#")[0]
        inside = (
            target
            and not re.match(r"[a-z]+:", target)
            and (path.parent / target).resolve().is_relative_to(RESULTS)
            and (path.parent / target).exists()
        )
        return match.group(0) if inside or re.match(r"https?:", target) else f"{match.group(1)} (`{target}`)"

    return re.sub(r"(?<!!)\[([^\]]*)\]\(([^)]*)\)", keep, text)


def on_files(files: Files, config: MkDocsConfig) -> Files:
    """MkDocs calls this with the docs' files: the generated pages and the results files are added to them."""
    from mkdocs.structure.files import File

    for uri, write in PAGES.items():
        files.append(File.generated(config, uri, content=write()))
    for path in sorted(RESULTS.rglob("*")):
        if path.is_file():
            uri = "results/" + path.relative_to(RESULTS).as_posix()
            if path.suffix == ".md":
                files.append(File.generated(config, uri, content=_result_page(path)))
            else:
                files.append(File.generated(config, uri, abs_src_path=str(path)))
    for path in sorted(SCREENSHOTS.glob("*.png")):
        files.append(File.generated(config, f"screenshots/{path.name}", abs_src_path=str(path)))
    return files


if __name__ == "__main__":
    target = Path(sys.argv[1] if len(sys.argv) > 1 else "reference")
    for uri, write in PAGES.items():
        (target / Path(uri).name).parent.mkdir(parents=True, exist_ok=True)
        (target / Path(uri).name).write_text(write(), encoding="utf-8")
    print(f"wrote {len(PAGES)} reference pages to {target}")
