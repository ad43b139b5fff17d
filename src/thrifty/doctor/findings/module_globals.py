"""Globals: what each module-level name of the user's own modules would free when deleted, and the fix that fits it.

Measured in the target (thrifty.doctor.heapscan.measure_globals): bytes = what `del name` would free
(thrifty.sizeof(deep=True, exclusive=True); 0 for an alias of an object something else holds), minus what the
boxed-numbers and duplicates findings already count inside it. The fix depends on the value and is measured there
by building it: a set of ints or strs as thrifty.FrozenSet, a lookup dict as thrifty.FrozenMap, numbers as a typed
array, a big str/bytes compressed with thrifty.lz. A dict the code fills from a function is a cache: the fix is to
bound it (functools.lru_cache). Modules, classes and functions are structure, not state, and are skipped.
"""
from __future__ import annotations

import ast

TYPE_CHECKING = False  # mypy takes any `TYPE_CHECKING` as true; typing is not imported at run time: its import
if TYPE_CHECKING:     # is ~4 ms of every doctor run's start-up, and every annotation here is a string (PEP 563)
    from typing import Any

from thrifty.doctor import heapscan
from thrifty.doctor.findings.base import Finding, saving
from thrifty.doctor.usercode import short_path

MIN_BYTES = heapscan.GLOBAL_MIN_BYTES  # smaller globals are not worth a line in the report
MIN_SAVING_SHARE = 0.125  # a measured fix that saves less of the global's bytes is not offered


def measure(namespaces: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """[{file, name, bytes, ...}] for each data name of each user module (file -> its globals dict), in-process."""
    return heapscan.measure_globals(namespaces)


class _Source:
    """What the module's source says about its names: where each is first bound, and which dicts a function fills
    (`name[key] = value` or `name.setdefault(...)` inside a def: a cache)."""

    def __init__(self, file: str) -> None:
        self.lines: dict[str, int] = {}
        self.filled: set[str] = set()
        try:
            with open(file, encoding="utf-8") as f:
                tree = ast.parse(f.read())
        except (OSError, SyntaxError, ValueError):
            return
        self._bound_at(tree)
        for fn in ast.walk(tree):
            if not isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            for n in ast.walk(fn):
                if isinstance(n, ast.Assign):
                    for t in n.targets:
                        if isinstance(t, ast.Subscript) and isinstance(t.value, ast.Name):
                            self.filled.add(t.value.id)
                elif (isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) and n.func.attr == "setdefault"
                      and isinstance(n.func.value, ast.Name)):
                    self.filled.add(n.func.value.id)


    def _bound_at(self, node: ast.AST) -> None:
        """The line of each name's first binding in code that runs at module level: assignments, `for` and `with ...
        as` targets, `:=`, imports, also inside `if __name__ == "__main__":`, `try:` and loops; not in a def or class."""
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)):
                continue
            targets: list[ast.AST] = []
            if isinstance(child, ast.Assign):
                targets = list(child.targets)
            elif isinstance(child, (ast.AnnAssign, ast.AugAssign, ast.For, ast.AsyncFor, ast.NamedExpr)):
                targets = [child.target]
            elif isinstance(child, (ast.With, ast.AsyncWith)):
                targets = [item.optional_vars for item in child.items if item.optional_vars is not None]
            elif isinstance(child, (ast.Import, ast.ImportFrom)):
                for alias in child.names:
                    self.lines.setdefault(alias.asname or alias.name.split(".")[0], child.lineno)
            for t in targets:
                for n in ast.walk(t):
                    if isinstance(n, ast.Name):
                        self.lines.setdefault(n.id, child.lineno)  # type: ignore[attr-defined]
            self._bound_at(child)


def _fix(g: dict[str, Any], src: _Source) -> tuple[str, int]:
    """(the fix's words, the measured saving or 0)."""
    name, size, m = g["name"], g["bytes"], g.get("fix") or {}
    built = m.get("bytes")
    kind = m.get("kind")
    if kind == "dict" and name in src.filled:
        per = g["deep_bytes"] // max(g["len"] or 1, 1)
        return (f"a cache that only grows ({g['len']} entries, ≈ {per} bytes each, measured): bound it — "
                f"functools.lru_cache(maxsize=...) on the function that fills `{name}`, so it keeps at most maxsize "
                "entries", 0)
    # a measured fix is offered when it saves a real share: a FrozenMap of a dict whose bytes are its values' strs
    # saved 3%, not worth trading a dict for a read-only table
    if built is not None and size - built >= size * MIN_SAVING_SHARE:
        save = size - built
        what = {"frozenset": f"a constant set: thrifty.FrozenSet({name}) takes {built} bytes (measured, built from "
                             "the run's value)",
                "dict": f"a lookup table: thrifty.FrozenMap({name}) takes {built} bytes (measured, built from the "
                        "run's value)",
                "numbers": f"numbers: array.array({m.get('typecode')!r}) of the same values takes {built} bytes "
                           f"(measured), or thrifty.Ring({m.get('typecode')!r}, maxlen=...) when only the latest "
                           "matter",
                "text": f"text: stream it instead of holding it all, or keep it compressed with thrifty.lz "
                        f"({built} bytes compressed, measured)"}.get(str(kind))
        if what:
            return f"{what}; {saving(save)}", save
    # no measured fix fits the value: what applies depends on what it is (a Ring or a cache size means nothing for
    # an executor, a parsed document or a str)
    scope = (f"keep it inside the function that uses it (e.g. a main()), so it is freed when that returns, or "
             f"`del {name}` once done with it")
    if g["type"] in ("list", "deque"):
        return (f"if only the latest items matter, bound it: thrifty.Ring(typecode, maxlen=...) or "
                f"collections.deque(maxlen=...); otherwise {scope}", 0)
    if g["type"] == "dict":
        return (f"if it caches computed values, bound it: functools.lru_cache(maxsize=...) on the function that "
                f"computes them; if its values are lists that keep growing, bound each: collections.deque(maxlen=...) "
                f"or thrifty.Ring(typecode, maxlen=...); otherwise {scope}", 0)
    return scope, 0


def findings(measured: list[dict[str, Any]], min_bytes: int = MIN_BYTES, is_user: Any = None) -> list[Finding]:
    out = []
    sources: dict[str, _Source] = {}
    for g in measured:
        if (g["bytes"] < min_bytes or g.get("merged_into") or not g.get("freed_by_del", True)
                or (is_user is not None and not is_user(g["file"]))):
            continue
        src = sources.get(g["file"]) or sources.setdefault(g["file"], _Source(g["file"]))
        unit = {"str": "characters", "bytes": "bytes", "bytearray": "bytes"}.get(g["type"], "items")
        count = f", {g['len']} {unit}" if g["len"] is not None else ""
        freed = g.get("deep_bytes", g["bytes"])
        claimed = (f"; {g['claimed']} of them are counted by other findings (equal strings, numbers held as objects), "
                   f"so this one counts {g['bytes']}" if g.get("claimed") else "")
        fix, save = _fix(g, src)
        # a value other modules of the user's bind too (`from pkg import REGISTRY`): freed by `del` in each
        others = g.get("also_in") or []
        also = (f" here and in {', '.join(short_path(f) for f in others)} (which import{'s' if len(others) == 1 else ''}"
                " it)" if others else "")
        out.append(Finding(
            habit="globals", kind="global", file=g["file"], line=src.lines.get(g["name"], 0),
            title=f"module-level `{g['name']}` retains {g['bytes']} bytes at exit",
            evidence=f"{g['type']}{count}; `del {g['name']}`{also} would free {freed} bytes (thrifty.sizeof(deep=True, "
                     f"exclusive=True): nothing else holds it){claimed}",
            fix=fix, bytes=g["bytes"], data={**g, "saving": save}))
    return out
