"""The import graph: no cycle between the project's modules, and layers that point down
only (operations → catalog, accounts; catalog → accounts; never back).

Every import counts, those inside functions too: a function-level import hides a cycle, it
does not remove it. Tests and migrations are left out (tests may reach across apps).
"""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("accounts", "catalog", "operations", "toplivres")
# What each app may import from the others (toplivres holds shared helpers and the URLs).
ALLOWED = {
    "accounts": {"toplivres"},
    "catalog": {"accounts", "toplivres"},
    "operations": {"accounts", "catalog", "toplivres"},
}


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def project_modules() -> dict[str, Path]:
    modules = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            parts = path.relative_to(ROOT).parts
            if "tests" in parts or "migrations" in parts:
                continue
            modules[_module_name(path)] = path
    return modules


def imports_of(name: str, path: Path, modules: dict) -> set[str]:
    """The project modules `name` imports, anywhere in its body."""
    found = set()
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            targets = [f"{base}.{alias.name}" for alias in node.names] + [base]
        else:
            continue
        for target in targets:
            # The longest project module the target names: a module, or its package.
            while target and target not in modules:
                target = target.rpartition(".")[0]
            if target and target != name:
                found.add(target)
    return found


def graph() -> dict[str, set[str]]:
    modules = project_modules()
    return {name: imports_of(name, path, modules) for name, path in modules.items()}


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in edges.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return found


def test_no_import_cycle_between_the_projects_modules():
    assert cycles(graph()) == []


def test_apps_import_only_downwards():
    wrong = sorted(
        f"{source} imports {target}"
        for source, targets in graph().items()
        for target in targets
        if (app := source.split(".")[0]) in ALLOWED
        and (other := target.split(".")[0]) != app
        and other not in ALLOWED[app]
    )
    assert wrong == []


def test_the_checks_see_a_cycle_and_a_layer_crossing():
    # The detector itself: a cycle of three, and an edge from accounts up to operations.
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    modules = project_modules()
    assert "operations.models.ledger" in modules and "accounts.models" in modules
    assert "accounts.models" in graph()["operations.models.ledger"]
