"""Count the import circles over bot/ and commands/, as issue 17 counts them; exit 1 if there is any.

Nodes: one per package or module directly under bot/ and commands/ (`bot.signals` holds everything in
bot/signals/, `bot.config` is bot/config.py, `commands.signals` is commands/signals.py); the packages'
own `__init__.py` files are the nodes `bot` and `commands`.

Edges: every `import` and `from … import` in those files, wherever it stands (at the top, inside a
function, inside `try:`), except under `if TYPE_CHECKING:` (such imports never run). `from bot import x`
counts as an import of `bot.x` when bot/x.py or bot/x/ exists. `importlib.import_module("bot.…")` with a
literal name counts too. Imports of anything outside bot and commands are left out.

Prints every strongly connected component with more than one node (a circle: each of its nodes imports
every other one, through the others), largest first, with its size, and one import per edge inside it
(file:line) so that it can be broken. `--quiet` prints the summary line only.

Usage: python scripts/import_circles.py [ROOT] [--quiet]   (ROOT: the checkout, default: this one)
"""

from __future__ import annotations

import ast
import sys
from collections import defaultdict
from pathlib import Path

TOPS = ("bot", "commands")


def _is_type_checking(test: ast.expr) -> bool:
    if isinstance(test, ast.Name):
        return test.id == "TYPE_CHECKING"
    return isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"


def _imports(tree: ast.AST) -> list[tuple[str, list[str], int, int]]:
    """(module, names, level, line) for every import that runs, skipping `if TYPE_CHECKING:` bodies."""
    found: list[tuple[str, list[str], int, int]] = []

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, ast.Import):
            found.extend((alias.name, [], 0, node.lineno) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            found.append((node.module or "", [a.name for a in node.names], node.level, node.lineno))
        elif (
            isinstance(node, ast.Call)
            and (
                (isinstance(node.func, ast.Attribute) and node.func.attr == "import_module")
                or (isinstance(node.func, ast.Name) and node.func.id == "import_module")
            )
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            found.append((node.args[0].value, [], 0, node.lineno))
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    return found


def _module_name(root: Path, path: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def node_of(root: Path, dotted: str) -> str | None:
    """The node a module belongs to: `bot.signals.service` → `bot.signals`; None outside bot/commands."""
    parts = dotted.split(".")
    if parts[0] not in TOPS:
        return None
    if len(parts) == 1:
        return parts[0]
    base = root / parts[0] / parts[1]
    if base.is_dir() or base.with_suffix(".py").is_file():
        return f"{parts[0]}.{parts[1]}"
    return parts[0]


def graph(root: Path) -> dict[str, dict[str, tuple[str, int]]]:
    """node → {imported node: (one file, its line)} over every .py file under bot/ and commands/."""
    edges: dict[str, dict[str, tuple[str, int]]] = defaultdict(dict)
    for top in TOPS:
        for path in sorted((root / top).rglob("*.py")):
            if "migrations" in path.relative_to(root).parts[:2]:
                continue  # Alembic's revisions: loaded by Alembic, imported by nothing
            module = _module_name(root, path)
            source = node_of(root, module)
            if source is None:
                continue
            edges.setdefault(source, {})
            package = module if path.name == "__init__.py" else module.rpartition(".")[0]
            for name, names, level, line in _imports(ast.parse(path.read_text(), str(path))):
                if level:
                    anchor = package.split(".")
                    anchor = anchor[: len(anchor) - (level - 1)]
                    name = ".".join([*anchor, name] if name else anchor)
                targets = [f"{name}.{n}" for n in names if n != "*"] if names else []
                # `from bot import x`: the node bot.x when x is a module or package, else the package bot.
                resolved = {node_of(root, t) for t in targets} if targets else {node_of(root, name)}
                for target in resolved:
                    if target is not None and target != source:
                        edges[source].setdefault(target, (str(path.relative_to(root)), line))
    return edges


def circles(edges: dict[str, dict[str, tuple[str, int]]]) -> list[list[str]]:
    """The strongly connected components with more than one node (Tarjan's algorithm, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    found: list[list[str]] = []
    counter = 0
    for start in sorted(edges):
        if start in index:
            continue
        work = [(start, iter(sorted(edges.get(start, {}))))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(edges.get(child, {})))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
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
    return sorted(found, key=lambda c: (-len(c), c))


def main(argv: list[str]) -> int:
    quiet = "--quiet" in argv
    args = [a for a in argv if a != "--quiet"]
    root = Path(args[0]).resolve() if args else Path(__file__).resolve().parent.parent
    edges = graph(root)
    found = circles(edges)
    for number, component in enumerate(found, 1):
        members = set(component)
        print(f"circle {number}: {len(component)} nodes: {', '.join(component)}")
        if quiet:
            continue
        for source in component:
            for target, (path, line) in sorted(edges[source].items()):
                if target in members:
                    print(f"    {source} → {target}  ({path}:{line})")
    in_circles = sum(len(c) for c in found)
    print(f"{len(edges)} nodes, {len(found)} import circle(s), {in_circles} nodes in them")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
