"""The rooms hold (docs/architecture.md): no import cycle, an engine without Dagster, a
planner without module-level mutable state."""

import ast
import importlib
import pkgutil
import subprocess
import sys
from pathlib import Path
from types import MappingProxyType, ModuleType

import pytest

import iterable_sync
from iterable_sync.sync import plan

PACKAGE_DIR = Path(iterable_sync.__file__).parent
#: The emulator is a room of its own (it imports nothing else of ours) and keeps its own
#: app <-> admin loop; every other module of the package is checked.
OUTSIDE = ("iterable_sync.emulator",)
#: The engine: planning and sending over a warehouse session and an Iterable client.
ENGINE = (
    "iterable_sync.warehouse",
    "iterable_sync.sync.planning",
    "iterable_sync.sync.sending",
    "iterable_sync.sync.engine",
    "iterable_sync.sync.destinations",
    "iterable_sync.sync.binding",
    *(f"iterable_sync.sync.plan.{m.name}" for m in pkgutil.iter_modules(plan.__path__)),
)


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE_DIR.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def modules() -> dict[str, Path]:
    found = {module_name(p): p for p in PACKAGE_DIR.rglob("*.py")}
    return {name: p for name, p in found.items() if not name.startswith(OUTSIDE)}


def importable() -> list[str]:
    """Every module but a ``__main__``, which runs its command when imported."""
    return sorted(name for name in modules() if not name.endswith("__main__"))


def imports_of(name: str, path: Path, known: set[str]) -> set[str]:
    """The package's modules ``name`` imports, wherever the import stands (a function-local
    import closes a loop as surely, only later)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                base = f"{anchor}.{base}" if base else anchor
            for alias in node.names:
                # `from package import module` imports the module; else the name's module.
                sub = f"{base}.{alias.name}"
                found.add(sub if sub in known else base)
    return {target for target in found if target in known and target != name}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in graph[node]:
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_no_module_of_the_package_imports_itself_through_others():
    known = modules()
    names = set(known)
    graph = {name: imports_of(name, path, names) for name, path in known.items()}
    # The graph is read, not guessed: the planner's modules are in it, with their arrows.
    assert "iterable_sync.sync.plan.diff" in graph["iterable_sync.sync.planning"]
    assert cycles(graph) == []


def test_cycles_finds_a_loop():
    # The check above can fail: a loop of three is one component.
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert cycles(graph) == [["a", "b", "c"]]


@pytest.mark.parametrize("name", importable())
def test_every_module_imports(name):
    assert isinstance(importlib.import_module(name), ModuleType)


def test_the_engine_imports_no_dagster():
    # A fresh interpreter: this test process has Dagster loaded already.
    code = (
        "import importlib, sys\n"
        f"for name in {list(ENGINE)!r}:\n"
        "    importlib.import_module(name)\n"
        "print(sorted({m.split('.')[0] for m in sys.modules if m.split('.')[0] in"
        " ('dagster', 'dagster_snowflake')}))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


MUTABLE = (dict, list, set, bytearray)


@pytest.mark.parametrize("name", [n for n in ENGINE if n.startswith("iterable_sync.sync.plan.")])
def test_the_planner_keeps_no_module_level_mutable_state(name):
    module = importlib.import_module(name)
    mutable = sorted(
        attribute
        for attribute, value in vars(module).items()
        if isinstance(value, MUTABLE)
        and not isinstance(value, MappingProxyType)
        and not attribute.startswith("__")
    )
    assert mutable == []
