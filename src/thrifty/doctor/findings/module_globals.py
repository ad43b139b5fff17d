"""Globals: what each module-level name of the user's own modules retains when the program ends.

Retained = thrifty.sizeof(value, deep=True, exclusive=True): the value and everything reachable that nothing
outside it keeps, i.e. what `del name` would free. Modules, classes and functions are structure, not state, and
are skipped.
"""
from __future__ import annotations

import ast
import types
from typing import Any

import thrifty
from thrifty.doctor.findings.base import Finding, is_user_file

_STRUCTURE = (types.ModuleType, type, types.FunctionType, types.BuiltinFunctionType, types.MethodType)
MIN_BYTES = 4096  # smaller globals are not worth a line in the report


def measure(namespaces: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """[{file, name, bytes, type, len}] for each data name of each user module (file -> its globals dict)."""
    out = []
    for file, ns in namespaces.items():
        if not is_user_file(file):
            continue
        for name in list(ns):
            if name.startswith("__") and name.endswith("__"):
                continue
            value = ns[name]
            if isinstance(value, _STRUCTURE):
                continue
            try:
                size = thrifty.sizeof(value, deep=True, exclusive=True)
            except Exception:  # a user __sizeof__ that raises: the name is reported without a size
                size = 0
            try:
                n = len(value)
            except Exception:
                n = None
            out.append({"file": file, "name": name, "bytes": size, "type": type(value).__name__, "len": n})
    return sorted(out, key=lambda g: -g["bytes"])


def _assign_lines(file: str) -> dict[str, int]:
    """Line of the first module-level binding of each name."""
    try:
        with open(file, encoding="utf-8") as f:
            tree = ast.parse(f.read())
    except (OSError, SyntaxError, ValueError):
        return {}
    lines: dict[str, int] = {}
    for node in tree.body:
        targets = node.targets if isinstance(node, ast.Assign) else [node.target] if isinstance(
            node, (ast.AnnAssign, ast.AugAssign)) else []
        for t in targets:
            for n in ast.walk(t):
                if isinstance(n, ast.Name):
                    lines.setdefault(n.id, node.lineno)
    return lines


def findings(measured: list[dict[str, Any]], min_bytes: int = MIN_BYTES) -> list[Finding]:
    out = []
    lines_of: dict[str, dict[str, int]] = {}
    for g in measured:
        if g["bytes"] < min_bytes:
            continue
        lines = lines_of.setdefault(g["file"], _assign_lines(g["file"]))
        count = f", {g['len']} items" if g["len"] is not None else ""
        out.append(Finding(
            habit="globals", kind="global", file=g["file"], line=lines.get(g["name"], 0),
            title=f"module-level `{g['name']}` retains {g['bytes']} bytes at exit",
            evidence=f"{g['type']}{count}; thrifty.sizeof(deep=True, exclusive=True) = {g['bytes']} bytes",
            fix="bound it — thrifty.Ring(typecode, maxlen=...) for recent values, functools.lru_cache(maxsize=...) "
                "for a cache — or move it into the object or function that needs it, so it is freed with them",
            bytes=g["bytes"], data=dict(g)))
    return out
