"""Imports: the modules the user's code imports whose import leaves the most memory live (habit: footprint).

From the report's import table (the recorder's `<import>` frames): a module imported by a line of the user's code
whose import, its own imports included, left at least MIN_BYTES live at the end of the run. On a device the import
bill is often the largest single cost; the fix is to pay it only where it is needed, or not at all. A module of the
user's own is not one: what its import holds is its own lines' (the sites, the globals findings). Which fix
applies depends on how the file uses what the import binds (read from its source): never (remove the import), only
inside functions (import it there: runs that never call them do not pay), or at module level, i.e. on every run
(importing it later would save nothing: only a lighter module would).
"""
from __future__ import annotations

import ast

TYPE_CHECKING = False  # mypy takes any `TYPE_CHECKING` as true; typing is not imported at run time: its import
if TYPE_CHECKING:     # is ~4 ms of every doctor run's start-up, and every annotation here is a string (PEP 563)
    from typing import Any

from thrifty.doctor.findings.base import Finding

MIN_BYTES = 512 * 1024  # an import that leaves less is not worth a line (json: ~100 KiB, datetime: ~230 KiB)
_LIGHTER = "use a lighter module (or a part of the package) that does the one thing you use"


def usage(path: str, line: int) -> tuple[str, list[Any]] | None:
    """How `path` uses the names its import statement on `line` binds: ("module", [line]) when code that runs on
    every run reads one (module level, `if __name__ == "__main__":`, class bodies, decorators, default values);
    ("functions", [names]) when only function bodies do; ("unused", []) when nothing does; None when the source
    cannot tell (not readable, `import *`, the name listed in `__all__` for other modules to import)."""
    try:
        with open(path, encoding="utf-8") as f:
            tree = ast.parse(f.read())
    except (OSError, SyntaxError, ValueError):
        return None
    stmt = next((n for n in ast.walk(tree) if isinstance(n, (ast.Import, ast.ImportFrom))
                 and n.lineno <= line <= (n.end_lineno or n.lineno)), None)
    if stmt is None or any(a.name == "*" for a in stmt.names):
        return None
    # `import a.b` binds `a`; `from a import b` binds `b`
    names = {a.asname or (a.name.split(".")[0] if isinstance(stmt, ast.Import) else a.name) for a in stmt.names}
    exported = {c.value for n in tree.body if isinstance(n, (ast.Assign, ast.AugAssign, ast.AnnAssign))
                for t in (n.targets if isinstance(n, ast.Assign) else [n.target])
                if isinstance(t, ast.Name) and t.id == "__all__"
                for c in ast.walk(n) if isinstance(c, ast.Constant) and isinstance(c.value, str)}
    if names & exported:
        return None
    at_module: list[int] = []
    functions: list[str] = []

    def walk(node: ast.AST, function: str | None) -> None:
        if isinstance(node, ast.Name) and node.id in names and not isinstance(node.ctx, ast.Store):
            if function is None:
                at_module.append(node.lineno)
            elif function not in functions:
                functions.append(function)
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            inner = getattr(node, "name", "<lambda>")
            for field, value in ast.iter_fields(node):  # decorators, defaults, annotations: where it is defined
                for item in value if isinstance(value, list) else [value]:
                    if isinstance(item, ast.AST):
                        walk(item, inner if field == "body" else function)
            return
        for child in ast.iter_child_nodes(node):
            walk(child, function)

    walk(tree, None)
    if at_module:
        return "module", [min(at_module)]
    return ("functions", functions) if functions else ("unused", [])


def findings(report: dict[str, Any] | None, is_user: Any = None, min_bytes: int = MIN_BYTES) -> list[Finding]:
    out = []
    for row in (report or {}).get("imports", []):
        at = row.get("imported_at")
        if not at or row["live_at_end"] < min_bytes or (is_user is not None and not is_user(at["file"])):
            continue
        if row.get("file") and is_user is not None and is_user(row["file"]):
            continue  # a module of the user's own: what it holds is its lines' and its globals' (counted once)
        name = row["module"]
        in_function = at.get("function") not in (None, "<module>")
        where = f"in {at.get('function')}()" if in_function else "at module level"
        used = usage(at["file"], at["line"])
        if in_function:  # already lazy: only runs that call that function pay
            fix = f"only runs that call {at.get('function')}() pay for it already; to pay less, {_LIGHTER}"
        elif used is None:
            fix = (f"import {name} inside the function that needs it, so only runs that call it pay for it; or "
                   f"{_LIGHTER}")
        elif used[0] == "unused":
            where += ", and nothing in this file uses what it binds"
            fix = (f"remove `import {name}`: nothing in this file uses it (keep it only when importing it does something "
                   "the program needs, or another module imports it from here)")
        elif used[0] == "module":
            where += f", and used at module level (line {used[1][0]}), so every run pays for it"
            fix = (f"importing it later would save nothing: every run uses it (line {used[1][0]}); to pay less, "
                   f"{_LIGHTER}")
        else:
            calls = ", ".join(f"{f}()" for f in used[1][:3])
            where += f", and used only inside {calls}"
            fix = (f"import {name} inside {calls}, so only runs that call {'it' if len(used[1]) == 1 else 'them'} "
                   f"pay for it; or {_LIGHTER}")
        out.append(Finding(
            habit="footprint", kind="import", file=at["file"], line=at["line"],
            title=f"`import {name}` leaves {row['live_at_end']} bytes live ({100 * row['share_of_peak']:.0f}% of the "
                  "peak)",
            evidence=f"imported {where}; its import (with the modules it imports) left {row['live_at_end']} bytes "
                     f"live at exit and held {row['live_at_peak']} at the peak, {row['self_live_at_end']} of them its "
                     "own module's",
            fix=fix, bytes=row["live_at_end"], data={"module": name, "used": used[0] if used else None, **{
                k: row[k] for k in ("live_at_end", "live_at_peak", "self_live_at_end", "self_live_at_peak",
                                    "share_of_peak")}}))
    return out
