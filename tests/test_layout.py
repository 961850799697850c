"""The house shows the flow: one import package, stages that import only earlier stages, no circle.

Stages in the order data flows: what every stage shares (errors, settings, Arabic text helpers, the weights,
durable writes), corpus -> passages -> embeddings -> index -> answers, and on top the API, eval, the CLI and the web
app. Imports inside functions count as much as those at the top of a file: a lazy import is still a
dependency."""
from __future__ import annotations

import ast
import tomllib
from pathlib import Path

from tests.conftest import ROOT

FOLDERS = {"jisr": ROOT / "search", "jisr.embeddings": ROOT / "embeddings", "jisr.web": ROOT / "web"}
STAGES = [  # (stage, module name prefixes), earliest first
    ("shared", ("jisr.errors", "jisr.settings", "jisr.arabic", "jisr.weights", "jisr.durable")),
    ("corpus", ("jisr.corpus",)),
    ("passages", ("jisr.passages",)),
    ("embeddings", ("jisr.embeddings",)),
    ("index", ("jisr.index",)),
    ("answers", ("jisr.answers",)),
    ("on top", ("jisr.api", "jisr.evaluate", "jisr.cli", "jisr.web", "jisr")),
]


def modules() -> dict[str, Path]:
    """Every module of the package by its dotted name, from the folders pyproject maps to it."""
    found = {}
    for package, folder in FOLDERS.items():
        for path in folder.rglob("*.py"):
            parts = path.relative_to(folder).with_suffix("").parts
            if package == "jisr" and parts[0] in ("embeddings", "web"):
                continue
            name = ".".join((package, *parts)).removesuffix(".__init__")
            found[name] = path
    return found


def imports(name: str, path: Path, known: set[str]) -> set[str]:
    """The package's modules that ``name`` imports (at its top or inside functions)."""
    out = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            targets = [f"{node.module}.{a.name}" for a in node.names] + [node.module]
        else:
            continue
        for target in targets:
            while target and target not in known:
                target = target.rpartition(".")[0]
            if target and target != name and not name.startswith(target + "."):  # not its own package
                out.add(target)
    return out


def stage(name: str) -> int:
    return next(i for i, (_, prefixes) in enumerate(STAGES)
                if any(name == p or name.startswith(p + ".") for p in prefixes))


def graph() -> dict[str, set[str]]:
    found = modules()
    return {name: imports(name, path, set(found)) for name, path in found.items()}


def test_no_module_imports_a_later_stage():
    later = [(a, b) for a, targets in graph().items() for b in targets
             if b != "jisr" and stage(b) > stage(a)]
    assert later == [], later


def test_no_import_circle():
    edges = {a: {b for b in targets if b != "jisr"} for a, targets in graph().items()}
    state: dict[str, int] = {}

    def visit(node: str, path: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(edges.get(node, ())):
            if state.get(nxt) == 1:
                raise AssertionError(" -> ".join(path[path.index(nxt):] + [nxt]) if nxt in path else nxt)
            if nxt not in state:
                visit(nxt, path + [nxt])
        state[node] = 2

    for node in sorted(edges):
        if node not in state:
            visit(node, [node])


STORES = ("jisr.index.local", "jisr.index.milvus")  # the two stores
FACTORY = "jisr.index.stores"  # the one module that picks a store


def _within(name: str, prefixes: tuple[str, ...]) -> bool:
    return any(name == p or name.startswith(p + ".") for p in prefixes)


def store_leaks(edges: dict[str, set[str]]) -> list[tuple[str, str]]:
    """(importer, store module) for every import of a store's module from outside the stores and the factory."""
    return sorted((a, b) for a, targets in edges.items() for b in targets
                  if _within(b, STORES) and not _within(a, STORES + (FACTORY,)))


def test_only_the_store_factory_imports_a_store():
    """The stores are sealed: everything else reaches them through jisr.index.stores and the types of
    jisr.index.contract, so a third store, or a change inside one, touches no caller."""
    assert store_leaks(graph()) == []


def test_a_store_leak_is_caught(tmp_path):
    """The check above can fail: a module of the ranking that imports a store inside a function is a leak."""
    leaky = tmp_path / "leaky.py"
    leaky.write_text("def f():\n    from jisr.index.milvus.store import LITE\n    return LITE\n", encoding="utf-8")
    found = modules()
    edges = {**graph(), "jisr.answers.leaky": imports("jisr.answers.leaky", leaky, set(found))}
    assert store_leaks(edges) == [("jisr.answers.leaky", "jisr.index.milvus.store")]


def test_the_distribution_installs_one_package_with_every_folder_of_code():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]
    packages = {name for name in modules() if (modules()[name].name == "__init__.py")}
    assert set(config["packages"]) == packages  # a new stage folder is shipped, or this fails
    assert {p.split(".")[0] for p in config["packages"]} == {"jisr"}
    assert config["package-dir"] == {"jisr": "search", "jisr.embeddings": "embeddings", "jisr.web": "web"}


def test_no_code_imports_the_folders_by_their_own_names():
    """search, embeddings and web are folders here, not import names: code that imports them so would load a
    second copy of a module (or someone else's package called embeddings)."""
    for path in [*ROOT.glob("search/**/*.py"), *ROOT.glob("embeddings/*.py"), *ROOT.glob("web/*.py"),
                 *ROOT.glob("tests/*.py"), *ROOT.glob("benchmarks/*.py")]:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                [node.module] if isinstance(node, ast.ImportFrom) and node.module and node.level == 0 else []
            assert not any(n.split(".")[0] in ("search", "embeddings", "web") for n in names), (path, names)


def test_no_module_shadows_a_name_the_package_exports():
    """``jisr.build`` is the build function: a submodule ``jisr/build.py`` would replace it with a
    module once anything imported that submodule (CI failed on exactly that under the old layout)."""
    import jisr

    top = {name.split(".")[1] for name in modules() if name.count(".") >= 1}
    assert not top & set(jisr.__all__)
    import jisr.index.build  # noqa: F401  (the build module, under its stage)

    assert callable(jisr.build) and isinstance(jisr.Index, type)
