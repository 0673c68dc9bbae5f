"""Print the import graph of a Python package as JSON: {module: [imported modules inside the package]}.

Every import counts, wherever it stands: module level, inside a function, under TYPE_CHECKING. A
function-local import that dodges a cycle at run time is still a cycle in the design, so it is reported.
`from pkg import name` resolves to the submodule `pkg.name` when that module exists, else to `pkg`.
Importing a module does not add edges to its parent packages' __init__ (the usual convention).
"""

import ast
import json
import sys
from pathlib import Path


def module_name(root: Path, path: Path) -> str:
    parts = list(path.relative_to(root.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def graph(root: Path) -> dict[str, list[str]]:
    files = {module_name(root, p): p for p in sorted(root.rglob("*.py"))}
    edges: dict[str, list[str]] = {}
    for name, path in files.items():
        is_pkg = path.name == "__init__.py"
        package = name if is_pkg else name.rpartition(".")[0]
        targets: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.name in files:
                        targets.add(alias.name)
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base = package.split(".")
                    if node.level > 1:
                        base = base[: len(base) - (node.level - 1)]
                    base_name = ".".join(base + ([node.module] if node.module else []))
                else:
                    base_name = node.module or ""
                for alias in node.names:
                    sub = f"{base_name}.{alias.name}"
                    if sub in files:
                        targets.add(sub)
                    elif base_name in files:
                        targets.add(base_name)
        targets.discard(name)
        edges[name] = sorted(targets)
    return edges


if __name__ == "__main__":
    json.dump(graph(Path(sys.argv[1]).resolve()), sys.stdout, indent=1)
