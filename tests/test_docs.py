"""The docs site builds with --strict, its reference pages are the code's, and every command and sample in
docs/ and the README is checked: `jisr` commands by the real argument parser, curl commands and their
answers by the server's OpenAPI document, JSON, TOML, YAML, systemd and nginx samples by what reads them.
The JSON API's curl examples are also run against a real server (tests/test_readme.py)."""

from __future__ import annotations

import argparse
import configparser
import json
import re
import shlex
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests import readme
from tests.conftest import ROOT

PAGES = sorted((ROOT / "docs").rglob("*.md")) + [ROOT / "README.md"]
# Programs a sample may run besides `jisr` and `curl`: a typo'd command is not one of them.
OTHER_PROGRAMS = {
    "python",
    "python3",
    "pip",
    "mkdir",
    "cp",
    "apt-get",
    "command",
    "npm",
    "mkdocs",
    "ray",
    "milvus-lite",
    "systemctl",
}
FREE_FORM = {"text", "mermaid"}  # file trees, the synopsis (tests/test_readme.py), diagrams


def _mkdocs(*args: str) -> subprocess.CompletedProcess:
    if shutil.which("mkdocs", path=str(Path(sys.executable).parent)) is None:
        pytest.fail("mkdocs is not installed: pip install -e '.[docs]' (the README's test command does)")
    return subprocess.run(
        [sys.executable, "-m", "mkdocs", *args],
        capture_output=True,
        text=True,
        timeout=600,
        env={"NO_MKDOCS_2_WARNING": "1", "PATH": str(Path(sys.executable).parent)},
    )


def test_the_docs_build_strict_with_reference_pages_written_from_the_code(tmp_path):
    from jisr import settings
    from jisr.cli import _parser
    from jisr.web.openapi import spec

    built = _mkdocs("build", "--strict", "-f", str(ROOT / "mkdocs.yml"), "-d", str(tmp_path / "site"))
    assert built.returncode == 0, built.stderr[-3000:]
    site = tmp_path / "site"

    def page(uri: str) -> str:
        return (site / uri / "index.html").read_text(encoding="utf-8")

    cli = page("reference/cli")
    sub = next(a for a in _parser()._actions if isinstance(a, argparse._SubParsersAction))
    for name, command in sub.choices.items():
        assert f"jisr {name}" in cli
        for flag in (flag for option in command._actions for flag in option.option_strings):
            assert flag in cli, f"the CLI reference lacks jisr {name} {flag}"
    settings_page = page("reference/settings")
    for name in settings.names():
        assert f"<code>{name}</code>" in settings_page and settings.env_names(name)[0] in settings_page
    http = page("reference/http-api")
    for path in spec()["paths"]:
        assert path in http, f"the HTTP API reference lacks {path}"
    python = page("reference/python-api")
    assert "jisr.Index.open" in python and "jisr.build" in python and "jisr.SearchRequest" in python
    results = page("results")
    for path in (ROOT / "benchmarks" / "results").rglob("*.md"):
        uri = path.relative_to(ROOT / "benchmarks" / "results").with_suffix("").as_posix()
        assert (site / "results" / uri / "index.html").is_file() and f'href="{uri}/"' in results


def test_a_broken_link_fails_the_strict_build(tmp_path):
    for folder in ("docs", "benchmarks/results", "web/screenshots"):  # the hook reads the last two beside docs/
        shutil.copytree(ROOT / folder, tmp_path / folder)
    shutil.copy(ROOT / "mkdocs.yml", tmp_path / "mkdocs.yml")
    with (tmp_path / "docs" / "security.md").open("a", encoding="utf-8") as page:
        page.write("\nSee [the results](results/no-such-file.md).\n")
    built = _mkdocs("build", "--strict", "-f", str(tmp_path / "mkdocs.yml"), "-d", str(tmp_path / "site"))
    assert built.returncode != 0 and "no-such-file.md" in built.stderr
    assert len(re.findall(r"^WARNING", built.stderr, re.M)) == 1, built.stderr  # the planted link, nothing else


def _samples() -> list[tuple[str, int, str, str, str | None]]:
    """Every fenced block of the docs and the README: (page, index, language, body, the block after it)."""
    found = []
    for path in PAGES:
        blocks = readme.blocks(path.read_text(encoding="utf-8"))
        for i, (lang, body) in enumerate(blocks):
            after = blocks[i + 1] if i + 1 < len(blocks) else None
            found.append((path.relative_to(ROOT).as_posix(), i, lang, body, after))
    return found


SAMPLES = _samples()


def _commands(body: str) -> list[list[str]]:
    """A shell block's commands: lines joined at a trailing backslash, split at && and |, comments dropped."""
    commands = []
    for line in body.replace("\\\n", " ").splitlines():
        for part in re.split(r"&&|\|\||(?<![|])\|(?![|])", line):
            words = shlex.split(part.strip().strip("()"), comments=True)
            words = [w for w in words if not re.fullmatch(r"\d?>+|>/dev/null", w)]
            if words:
                commands.append(words)
    return commands


def _check_jisr(args: list[str]) -> None:
    from jisr.cli import _parser

    try:
        _parser().parse_args(args)
    except SystemExit as refused:
        pytest.fail(f"`jisr {shlex.join(args)}` is refused by jisr's parser ({refused.code})")


def _operation(args: list[str]) -> tuple[str, dict]:
    """A curl command's method and the OpenAPI operation it calls."""
    from jisr.web.openapi import spec

    method, url, i = None, None, 0
    while i < len(args):
        word = args[i]
        if word == "-X":
            method, i = args[i + 1], i + 2
            continue
        if word in ("-H", "-d", "-F", "--data-binary"):
            method = method or ("POST" if word != "-H" else None)
            i += 2
            continue
        if not word.startswith("-"):
            url = word
        i += 1
    assert url and url.startswith(readme.README_URL), f"curl {shlex.join(args)}: not the server's address"
    method = (method or "GET").lower()
    path = urlsplit(url).path
    for template, operations in spec()["paths"].items():
        if re.fullmatch(re.sub(r"\\\{\w+\\\}", ".+", re.escape(template)), path) and method in operations:
            return method, operations[method]
    pytest.fail(f"curl {shlex.join(args)}: {method.upper()} {path} is not in the server's OpenAPI document")


def _json_schema(schema: object) -> object:
    """An OpenAPI 3.0 schema as JSON Schema: `nullable` becomes a null type; $refs kept."""
    if isinstance(schema, list):
        return [_json_schema(s) for s in schema]
    if not isinstance(schema, dict):
        return schema
    out = {key: _json_schema(value) for key, value in schema.items() if key != "nullable"}
    if schema.get("nullable"):
        out = {"anyOf": [out, {"type": "null"}]}
    return out


def _check_answer(operation: dict, answer: str) -> None:
    """The sample answer is JSON that one of the operation's documented answers allows."""
    import jsonschema

    from jisr.web.openapi import spec

    value = json.loads(answer)
    components = _json_schema(spec()["components"])
    problems = []
    for status, response in operation["responses"].items():
        schema = response.get("content", {}).get("application/json", {}).get("schema")
        if schema is None:
            continue
        try:
            jsonschema.validate(value, {**_json_schema(schema), "components": components})
            return
        except jsonschema.ValidationError as error:
            problems.append(f"{status}: {error.message}")
    pytest.fail(f"the sample answer fits none of the documented answers: {problems}")


def _check_shell(body: str, after: tuple[str, str] | None) -> None:
    commands = _commands(body)
    assert commands, "an empty shell block"
    curls = [words for words in commands if words[0] == "curl"]
    for words in commands:
        program = Path(words[0]).name
        if program == "jisr":
            _check_jisr(words[1:])
        elif program == "curl":
            _, operation = _operation(words[1:])
            if len(curls) == 1 and after and after[0] == "json":
                _check_answer(operation, after[1])
        else:
            assert program in OTHER_PROGRAMS or program.startswith("."), f"unknown program {words[0]!r}"


def _check_toml(body: str, tmp_path: Path) -> None:
    from jisr import settings

    values = tomllib.loads(body)
    assert set(values) <= set(settings.names()), set(values) - set(settings.names())
    (tmp_path / "jisr.toml").write_text(body, encoding="utf-8")
    loaded = settings.load(config_file=tmp_path / "jisr.toml")
    assert all(loaded.sources[name].startswith("file") for name in values), loaded.sources


def _check_systemd(body: str) -> None:
    from jisr import settings

    unit = configparser.ConfigParser(interpolation=None, strict=True)
    unit.optionxform = str
    unit.read_string(body)
    assert {"Unit", "Service", "Install"} <= set(unit.sections())
    start = shlex.split(unit["Service"]["ExecStart"])
    assert Path(start[0]).name == "jisr" and start[1] == "serve"
    _check_jisr(start[1:])
    known = {env for name in settings.names() for env in settings.env_names(name)}
    for assignment in shlex.split(unit["Service"].get("Environment", "")):
        assert assignment.split("=")[0] in known, assignment


def _check_nginx(body: str) -> None:
    from jisr import settings

    assert body.count("{") == body.count("}")
    targets = re.findall(r"proxy_pass\s+([^;]+);", body)
    assert targets and set(targets) == {f"http://{settings.default('host')}:{settings.default('port')}"}


def _check_yaml(body: str) -> None:
    import yaml

    from jisr import settings
    from jisr.web.openapi import spec

    config = yaml.safe_load(body)
    for job in config["scrape_configs"]:
        assert job["metrics_path"] in spec()["paths"]
        for group in job["static_configs"]:
            assert group["targets"] == [f"{settings.default('host')}:{settings.default('port')}"]


@pytest.mark.parametrize("page,index,lang,body,after", SAMPLES, ids=[f"{s[0]}#{s[1]}" for s in SAMPLES])
def test_every_sample_of_the_docs_is_checked(tmp_path, page, index, lang, body, after):
    if lang == "sh":
        _check_shell(body, after)
    elif lang == "json":
        json.loads(body)
    elif lang == "python":
        compile(body, f"{page} block {index}", "exec")
    elif lang == "toml":
        _check_toml(body, tmp_path)
    elif lang == "ini":
        _check_systemd(body)
    elif lang == "nginx":
        _check_nginx(body)
    elif lang == "yaml":
        _check_yaml(body)
    else:
        assert lang in FREE_FORM, f"{page} block {index}: give the block a language this test checks ({lang!r})"


def test_the_checks_refuse_a_command_jisr_would_refuse():
    with pytest.raises(pytest.fail.Exception, match="refused by jisr's parser"):
        _check_shell("jisr serve --index my-index --memory-budgett 4GB", None)
    with pytest.raises(pytest.fail.Exception, match="not in the server's OpenAPI document"):
        _check_shell("curl -X PATCH http://127.0.0.1:8000/api/documents/x", None)
    with pytest.raises(pytest.fail.Exception, match="fits none of the documented answers"):
        _check_shell("curl -X DELETE http://127.0.0.1:8000/api/documents/x", ("json", '{"generation": "two"}'))


def test_every_metric_the_docs_name_is_one_the_server_exports():
    exported = set(re.findall(r'"(jisr_\w+)"', (ROOT / "web" / "metrics.py").read_text(encoding="utf-8")))
    named = {
        re.sub(r"_(total|bucket|count|sum)$", "", name)
        for path in PAGES
        for name in re.findall(r"\bjisr_[a-z_]+\b", path.read_text(encoding="utf-8"))
    }
    assert named and named <= exported, named - exported


def test_getting_started_gives_the_readmes_two_commands_verbatim():
    page = (ROOT / "docs" / "getting-started.md").read_text(encoding="utf-8")
    assert all(command in page for command in readme.two_commands())


def test_the_readme_stays_short():
    assert len((ROOT / "README.md").read_text(encoding="utf-8").splitlines()) <= 200
