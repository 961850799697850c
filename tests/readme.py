"""The README's commands and the docs' sample answers, read from the README and docs/ themselves.

tests/test_readme.py runs the README's first command and the curl examples of the docs' "JSON API"
(docs/searching.md; the README's own curl commands are among them) and checks the answers against the
samples printed under them; this script writes those samples from a real run, so they are regenerated
in one command instead of edited by hand:

    python tests/readme.py          # rewrite the docs' sample answers from a real `jisr serve`
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
DOCS = ROOT / "docs"
SAMPLES = DOCS / "searching.md"  # the page whose "JSON API" holds the curl examples with their answers
COMMAND_LINE = DOCS / "command-line.md"  # the page whose "Synopsis" names every option
_FENCE = re.compile(r"```(\w*)\n(.*?)```", re.S)
_SERVING = re.compile(r"serving \d+ passages .* on (http://[0-9.:]+)/")
README_URL = "http://127.0.0.1:8000"


def section(title: str, text: str | None = None, path: Path = README) -> str:
    """The text under the heading ``## title`` of the README (or of ``path``), up to the next heading of
    that level."""
    text = path.read_text(encoding="utf-8") if text is None else text
    match = re.search(rf"^## {re.escape(title)}\n(.*?)(?=^## |\Z)", text, re.S | re.M)
    if match is None:
        raise LookupError(f"{path.relative_to(ROOT)} has no section '## {title}'")
    return match.group(1)


def blocks(text: str) -> list[tuple[str, str]]:
    """The fenced code blocks of ``text``: (language, body)."""
    return _FENCE.findall(text)


def two_commands() -> tuple[str, str]:
    """The README's first command (install and serve) and its test command."""
    serve, test = [body.strip() for lang, body in blocks(section("Two commands")) if lang == "sh"][:2]
    return serve, test


def jisr_step(command: str) -> list[str]:
    """The `jisr ...` step that ends a README command, as arguments after `jisr`."""
    last = shlex.split(command.split("&&")[-1])
    if not last or Path(last[0]).name != "jisr":
        raise ValueError(f"the README's command does not end in a `jisr` step: {command}")
    return last[1:]


def curl_examples(text: str | None = None) -> list[tuple[str, str, tuple[int, int]]]:
    """Each curl example of the docs' "JSON API" (docs/searching.md): (the command, the sample answer
    printed under it, where that sample lies in the page: a span of character offsets)."""
    full = SAMPLES.read_text(encoding="utf-8") if text is None else text
    api = section("JSON API", full, SAMPLES)
    offset = full.index(api)
    found = []
    fences = list(_FENCE.finditer(api))
    for command, answer in zip(fences, fences[1:]):
        if command.group(1) == "sh" and command.group(2).lstrip().startswith("curl") and answer.group(1) == "json":
            found.append(
                (command.group(2).strip(), answer.group(2).strip(), (offset + answer.start(2), offset + answer.end(2)))
            )
    return found


def readme_curls() -> list[str]:
    """The curl commands of the README's "JSON API", one a line."""
    return [
        line.strip()
        for lang, body in blocks(section("JSON API"))
        if lang == "sh"
        for line in body.splitlines()
        if line.strip().startswith("curl")
    ]


def curl(command: str, base: str) -> str:
    """Run one README curl command against the server at ``base`` instead of the README's address."""
    args = [a.replace(README_URL, base) for a in shlex.split(command)]
    out = subprocess.run(args, capture_output=True, text=True, timeout=120)
    if out.returncode != 0:
        raise RuntimeError(f"{command} failed ({out.returncode}): {out.stderr}")
    return out.stdout.strip()


def synopsis() -> dict[str, str]:
    """The docs' synopsis (docs/command-line.md): each command's text, with the option groups it names
    spelled out."""
    body = next(b for lang, b in blocks(section("Synopsis", path=COMMAND_LINE)) if lang == "text")
    entries: dict[str, str] = {}
    current = None
    for line in body.splitlines():
        head = re.match(r"(jisr \w+|[A-Z]+ OPTIONS):", line) or re.match(r"(jisr \w+)\b", line)
        if head:
            current = head.group(1)
            entries[current] = line[head.end() :]
        elif current and line.strip():
            entries[current] += " " + line.strip()
    groups = {name: text for name, text in entries.items() if name.endswith("OPTIONS")}

    def expand(text: str, depth: int = 0) -> str:
        if depth > 5:
            raise ValueError("option groups of the synopsis name each other in a circle")
        return re.sub(r"\[([A-Z]+ OPTIONS)\]", lambda m: expand(groups[m.group(1)], depth + 1), text)

    return {name.split()[1]: expand(text) for name, text in entries.items() if name.startswith("jisr ")}


def jisr_command() -> str:
    """The installed `jisr` console script beside this interpreter, as the README's `.venv/bin/jisr`."""
    script = Path(sys.executable).with_name("jisr")
    if not script.exists():
        raise FileNotFoundError(f"no `jisr` script beside {sys.executable}: pip install -e . first")
    return str(script)


@contextmanager
def first_command(model_cache: str | None = None, timeout: float = 900) -> Iterator[tuple[str, Path, list[str]]]:
    """The README's first command's `jisr` step, run as a new user runs it: in a folder holding a copy of
    the default corpus and no index, on any free port (``--port 0`` added). Yields the server's address,
    its folder, and the lines it printed until it served."""
    with tempfile.TemporaryDirectory(prefix="jisr-first-") as tmp:
        folder = Path(tmp)
        shutil.copytree(ROOT / "seeds", folder / "seeds")
        env = {**os.environ, **({"JISR_MODEL_CACHE": model_cache} if model_cache else {})}
        env.pop("JISR_INDEX", None)
        proc = subprocess.Popen(
            [jisr_command(), *jisr_step(two_commands()[0]), "--port", "0"],
            cwd=folder,
            env=env,
            stderr=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            text=True,
        )
        printed: list[str] = []
        try:
            for line in proc.stderr:  # waits for the line that says it serves, however long the build takes
                printed.append(line.rstrip("\n"))
                served = _SERVING.search(line)
                if served:
                    break
            else:
                raise RuntimeError(f"`jisr serve` exited ({proc.wait()}) before serving:\n" + "\n".join(printed))
            threading.Thread(
                target=lambda: printed.extend(line.rstrip("\n") for line in proc.stderr), daemon=True
            ).start()  # a full pipe would stop the server
            yield served.group(1), folder, printed
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def write_samples() -> int:
    """Replace each curl example's sample answer in docs/searching.md with the real one."""
    text = SAMPLES.read_text(encoding="utf-8")
    with first_command() as (base, _, _):
        answers = [curl(command, base) for command, _, _ in curl_examples(text)]
    for (_, _, (start, end)), answer in sorted(zip(curl_examples(text), answers), key=lambda x: -x[0][2][0]):
        shown = json.dumps(json.loads(answer), ensure_ascii=False, indent=2)  # a reader's form, one field a line
        text = text[:start] + shown + "\n" + text[end:]
    SAMPLES.write_text(text, encoding="utf-8")
    print(f"wrote {len(answers)} sample answers into {SAMPLES}")
    return 0


if __name__ == "__main__":
    sys.exit(write_samples())
