"""Code findings: habits visible in the ast of the user's files that ran.

Each check is static; `confirm` then upgrades a finding when the run's evidence backs it (the line allocated a lot,
the list it names was large at exit, the file it opened was finalized unclosed). Static-only findings stay in the
report, ranked below confirmed ones.
"""
from __future__ import annotations

import ast

TYPE_CHECKING = False  # mypy takes any `TYPE_CHECKING` as true; typing is not imported at run time: its import
if TYPE_CHECKING:     # is ~4 ms of every doctor run's start-up, and every annotation here is a string (PEP 563)
    from typing import Any, Iterator

from thrifty.doctor.findings.base import Finding

LOOPS = (ast.For, ast.AsyncFor, ast.While, ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)
SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.Module, ast.ClassDef)
REDUCERS = {"sum", "min", "max", "any", "all"}


def _name(node: ast.AST) -> str | None:
    """'a' or 'a.b.c' for a Name/Attribute chain, else None."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        base = _name(node.value)
        return f"{base}.{node.attr}" if base else None
    return None


def _is_list_value(v: ast.AST) -> bool:
    return isinstance(v, (ast.List, ast.ListComp)) or (
        isinstance(v, ast.Call) and isinstance(v.func, ast.Name) and v.func.id == "list"
    )


def _is_str_value(v: ast.AST) -> bool:
    return (isinstance(v, ast.Constant) and isinstance(v.value, str)) or isinstance(v, ast.JoinedStr) or (
        isinstance(v, ast.Call) and isinstance(v.func, ast.Name) and v.func.id in ("str", "repr", "format")
    )


def _is_open(v: ast.AST) -> bool:
    return isinstance(v, ast.Call) and _name(v.func) in ("open", "io.open")


class _Scope:
    def __init__(self, node: ast.AST) -> None:
        self.node = node
        self.lists: set[str] = set()  # names assigned a list in this scope
        self.strs: set[str] = set()  # names assigned a str in this scope
        self.closed: set[str] = set()  # names with .close() called, used in `with`, or returned
        self.opened: list[tuple[str, ast.Call]] = []  # name = open(...)


def _annotations(tree: ast.Module) -> dict[ast.AST, _Scope]:
    """Per scope: which names hold lists/strs, which files are opened and which closed."""
    scopes: dict[ast.AST, _Scope] = {}

    def walk(node: ast.AST, scope: _Scope) -> None:
        for child in ast.iter_child_nodes(node):
            inner = scope
            if isinstance(child, SCOPES):
                inner = scopes.setdefault(child, _Scope(child))
            if isinstance(child, (ast.Assign, ast.AnnAssign)):
                targets = child.targets if isinstance(child, ast.Assign) else [child.target]
                for t in targets:
                    n = _name(t)
                    if n and child.value is not None:
                        if _is_list_value(child.value):
                            scope.lists.add(n)
                        if _is_str_value(child.value):
                            scope.strs.add(n)
                        if (isinstance(t, ast.Name) and isinstance(child.value, ast.Call)
                                and _name(child.value.func) in ("open", "io.open")):
                            scope.opened.append((n, child.value))
            elif isinstance(child, ast.Call) and isinstance(child.func, ast.Attribute) and child.func.attr in (
                "close", "__exit__", "detach"
            ):
                n = _name(child.func.value)
                if n:
                    scope.closed.add(n)
            elif isinstance(child, ast.withitem):
                n = _name(child.context_expr)
                if n:
                    scope.closed.add(n)
            elif isinstance(child, ast.Return) and child.value is not None:
                n = _name(child.value)
                if n:
                    scope.closed.add(n)  # the caller owns it now
            elif isinstance(child, ast.Call):
                # handing the file to another function or container (closing.push, ExitStack, a list) moves ownership
                for a in list(child.args) + [k.value for k in child.keywords]:
                    n = _name(a)
                    if n:
                        scope.closed.add(n)
            walk(child, inner)

    scopes[tree] = _Scope(tree)
    walk(tree, scopes[tree])
    return scopes


def _lookup(scopes: list[_Scope], attr: str, name: str) -> bool:
    return any(name in getattr(s, attr) for s in scopes)


def check_source(path: str, text: str) -> list[Finding]:
    """All static code findings in one file (confirmed=False; see confirm)."""
    try:
        tree = ast.parse(text, filename=path)
    except SyntaxError:
        return []
    scopes = _annotations(tree)
    out: list[Finding] = []

    def add(kind: str, habit: str, node: ast.AST, title: str, fix: str, **data: object) -> None:
        out.append(Finding(habit=habit, kind=kind, file=path, line=getattr(node, "lineno", 0), title=title,
                           evidence="static only (no runtime evidence at this line)", fix=fix, confirmed=False,
                           data=dict(data)))

    def visit(node: ast.AST, chain: list[_Scope], loop: ast.AST | None) -> None:
        for child in ast.iter_child_nodes(node):
            c_chain, c_loop = chain, loop
            if isinstance(child, SCOPES):
                c_chain, c_loop = [scopes[child]] + chain, None
            for f in _check_node(child, chain, loop is not None):
                extra = dict(f[5])
                if loop is not None:
                    # the innermost loop's lines: `confirm` calls the finding hot when the run shows the loop busy
                    first = getattr(loop, "lineno", 0)  # every loop node (statement or comprehension) has one
                    extra["loop_lines"] = [first, getattr(loop, "end_lineno", first)]
                add(*f[:5], **extra)
            if isinstance(child, LOOPS):
                c_loop = child
            visit(child, c_chain, c_loop)

    visit(tree, [scopes[tree]], None)
    # open() bound to a name that is never closed, handed on, returned or used in `with`
    for scope in scopes.values():
        for name, call in scope.opened:
            if name not in scope.closed:
                add("code.open", "references", call, f"open() bound to `{name}` is never closed",
                    "use `with open(...) as f:` so the file closes when the block ends (the doctor's resources "
                    "finding shows the ones the run left open)", name=name)
    return out


def _check_node(node: ast.AST, chain: list[_Scope], loop: bool) -> Iterator[tuple[Any, ...]]:
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
        attr, recv = node.func.attr, _name(node.func.value)
        if attr == "pop" and len(node.args) == 1 and isinstance(node.args[0], ast.Constant) and node.args[0].value == 0:
            yield ("code.pop0", "data structures", node, f"`{recv or 'list'}.pop(0)` moves every remaining item",
                   "a queue: thrifty.Ring (typed, bounded, popleft in O(1)) or collections.deque", {"name": recv})
        elif attr == "insert" and node.args and isinstance(node.args[0], ast.Constant) and node.args[0].value == 0:
            yield ("code.insert0", "data structures", node, f"`{recv or 'list'}.insert(0, …)` moves every item",
                   "thrifty.Ring.appendleft or collections.deque.appendleft (O(1))", {"name": recv})
        elif attr in ("read", "readlines") and not node.args and not node.keywords:
            yield ("code.readall", "footprint", node, f"`.{attr}()` loads the whole file into memory",
                   "stream it: thrifty.lines(f) / thrifty.iter_chunks(f, size), or `for line in f`",
                   {"name": recv, "opened_here": _is_open(node.func.value)})
        elif attr == "join" and node.args and isinstance(node.args[0], ast.ListComp):
            yield ("code.listcomp", "object creation", node, "list comprehension passed to str.join",
                   "pass a generator expression (join materializes its input, so the gain here is small)",
                   {"consumer": "join"})
    if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and _is_open(node.func.value)
            and node.func.attr not in ("close", "__enter__")):
        yield ("code.open", "references", node.func.value, f"`open(...).{node.func.attr}()` never closes the file",
               "use `with open(...) as f:` so the file closes when the block ends, not when the GC finds it",
               {"name": None})
    if isinstance(node, (ast.For, ast.AsyncFor, ast.comprehension)) and _is_open(node.iter):
        yield ("code.open", "references", node.iter, "iterating over `open(...)` never closes the file",
               "use `with open(...) as f: for line in f:` so the file closes when the block ends", {"name": None})
    if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in REDUCERS and node.args
            and isinstance(node.args[0], ast.ListComp)):
        yield ("code.listcomp", "object creation", node,
               f"list comprehension built only to be consumed by {node.func.id}()",
               f"drop the brackets: {node.func.id}(x for x in ...) never builds the list", {"consumer": node.func.id})
    if isinstance(node, ast.Global):
        yield ("code.global", "globals", node, f"`global {', '.join(node.names)}` rebinds module state",
               "keep the state in an object you pass around (or a bounded thrifty.Ring) so its size is owned and "
               "visible", {"names": list(node.names)})
    if loop and isinstance(node, ast.Compare):
        for op, comp in zip(node.ops, node.comparators):
            n = _name(comp)
            if isinstance(op, (ast.In, ast.NotIn)) and n and _lookup(chain, "lists", n):
                yield ("code.in_list", "data structures", node, f"`in {n}` scans a list on every loop iteration",
                       "build a frozenset once (or thrifty.FrozenSet for a compact, typed one) and test against it",
                       {"name": n})
    if loop and isinstance(node, ast.AugAssign) and isinstance(node.op, ast.Add):
        n = _name(node.target)
        if n and (_lookup(chain, "strs", n) or _is_str_value(node.value)):
            yield ("code.str_concat", "object creation", node, f"`{n} += …` builds a string piece by piece in a loop",
                   "append the pieces to a list and ''.join them once (or write to io.StringIO)", {"name": n})
