"""After the run, in the target's process: walk what the program left alive and measure what each finding claims.

Imported by `Probes.evidence` once the tracker stopped, so what it imports is not part of the target's figures.
Everything returned is plain data (the evidence dict, docs/doctor-findings.md, "Evidence").

Each object is claimed by one finding at most: a sequence of numbers held as objects by the boxed-numbers
finding, the copies of equal strings by the duplicates finding, and a global keeps only what is left of what
`del name` would free once those are taken out (a global that *is* a boxed sequence is that finding's, not a second
one). What `del name` frees is 0 for an alias (a second name for one value, or a value something else holds); the
value is charged to the global that holds it. Sizes are thrifty.sizeof's walk, in C.
"""
from __future__ import annotations

import gc
import sys
import types

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing's import (and linecache's, in _is_import_line) cost the recorder's end ~7 ms of CPU
    from typing import Any

from thrifty import _ext
from thrifty.doctor.usercode import is_library_file

GLOBAL_MIN_BYTES = 4096  # smaller globals are not measured further
DUP_MIN_LEN = 64  # shorter strings are not worth interning
BOXED_MIN_LEN = 1000  # shorter number sequences are not worth a typed array
BIG_TEXT = 4096  # a str/bytes global this large is measured compressed
_STRUCTURE = (types.ModuleType, type, types.FunctionType, types.BuiltinFunctionType, types.MethodType)
_INT_CODES = ("b", "B", "h", "H", "i", "I", "q", "Q")  # smallest itemsize first


def evidence(probes: Any, raw: dict[str, Any] | None) -> dict[str, Any]:
    """The evidence dict for `thrifty.doctor.findings.build` (plain data)."""
    sites = probes.sites
    namespaces = dict(probes.namespaces)
    for m in list(sys.modules.values()):
        f = getattr(m, "__file__", None)
        if f and f not in namespaces and f.endswith(".py") and sites.is_user(f):
            namespaces[f] = vars(m)
    # sizes first: the scans below hold references to what they find, which would make it look shared
    held: list[tuple[dict[str, Any], Any]] = []
    glob = measure_globals(namespaces, held=held)
    skip = {id(namespaces), id(probes.namespaces), id(held)}
    boxed, boxed_objs = scan_boxed(sites, exclude=skip)
    dups, dup_objs = scan_duplicates(sites, exclude=skip)
    claim(held, boxed, bool(boxed_objs or dup_objs))  # while boxed_objs and dup_objs hold what the scans found
    del held, boxed_objs, dup_objs
    for b in boxed:
        b.pop("id", None)
    glob.sort(key=lambda g: -g["bytes"])
    return {
        "version": 1,
        "files": sorted(f for f in namespaces if f.endswith(".py") and not is_library_file(f)),
        "cycles": [{"type": t, "site": site, **g} for (t, site), g in probes.cycles.groups.items()],
        "resources": [{"what": w, "site": site, **g} for (w, site), g in probes.resources.groups.items()],
        "globals": glob,
        "duplicates": dups,
        "boxed_numbers": boxed,
    }


# ---- numbers held as Python objects -------------------------------------------------------------------------

def _deque_type() -> Any:
    """collections.deque when the program loaded it, else None (no deque can exist then): importing collections (and
    array, which imports it) here, after every run, was ~10% of the recorder's CPU on a program that never did."""
    return getattr(sys.modules.get("_collections"), "deque", None)


def typecode(kind: str, lo: int, hi: int) -> str:
    """The array.array typecode of the narrowest items that hold every value: 'd' for floats."""
    import array  # only for a sequence of numbers found: see _deque_type

    if kind == "f":
        return "d"
    for code in _INT_CODES:
        bits = array.array(code).itemsize * 8
        lo_ok, hi_ok = (-(1 << (bits - 1)), (1 << (bits - 1)) - 1) if code.islower() else (0, (1 << bits) - 1)
        if lo_ok <= lo and hi <= hi_ok:
            return code
    return "q"


def typed_size(code: str, n: int) -> int:
    import array

    return sys.getsizeof(array.array(code)) + n * array.array(code).itemsize


def scan_boxed(sites: Any, min_len: int = BOXED_MIN_LEN, exclude: set[int] | None = None
               ) -> tuple[list[dict[str, Any]], list[Any]]:
    """([{type, kind, len, bytes, own_bytes, typed_bytes, typecode, site, id}], the sequences) for each
    numbers-only list/tuple/deque made in the user's code, most bytes saved first. bytes = sizeof(deep=True): the
    sequence and its number objects; own_bytes = the same with exclusive=True; typed_bytes = array.array of the
    same values. The walk over the heap is in C (thrifty._ext._boxed_numbers)."""
    skip = set(exclude or ())
    out, objs = [], []
    walk = _ext._boxed_numbers
    for seq, kind, lo, hi, items in walk([o for o in gc.get_objects() if id(o) not in skip], min_len,
                                         _deque_type()):
        # a list object often comes from CPython's free list (allocated before the run: no site); its item array
        # is always the run's own, allocated where the list last grew (the comprehension, the append)
        site = sites.of(seq) or (sites.of_stack(_ext._tracker_site_at(items)) if items else None)
        if site is None:  # the stdlib's, thrifty's or untraced: not the user's to change
            continue
        code = typecode(kind, lo, hi)
        out.append({"type": type(seq).__name__, "kind": "float" if kind == "f" else "int", "len": len(seq),
                    "bytes": _ext.sizeof(seq, deep=True), "own_bytes": _ext.sizeof(seq, deep=True, exclusive=True),
                    "typed_bytes": typed_size(code, len(seq)), "typecode": code, "site": site, "id": id(seq)})
        objs.append(seq)
    out.sort(key=lambda g: -(g["bytes"] - g["typed_bytes"]))
    return out, objs


# ---- equal strings ------------------------------------------------------------------------------------------

def _is_import_line(site: tuple[str, int]) -> bool:
    import linecache  # only when a duplicate was found (it imports tokenize)

    line = linecache.getline(site[0], site[1]).lstrip()
    return line.startswith("import ") or (line.startswith("from ") and " import " in line)


def scan_duplicates(sites: Any, min_len: int = DUP_MIN_LEN, exclude: set[int] | None = None
                    ) -> tuple[list[dict[str, Any]], dict[int, Any]]:
    """([{type, length, copies, bytes_wasted, sites, preview, size}], {id: copy} of every copy) for each group of
    equal live str/bytes with a copy made in the user's code, largest waste first. Strings are not tracked by the
    GC, so they are found through the containers that are (thrifty._ext._strings_in, in C)."""
    skip = set(exclude or ())
    strings_in = _ext._strings_in
    found = {id(r): r for r in strings_in([o for o in gc.get_objects() if id(o) not in skip], min_len)}
    groups: dict[Any, dict[int, Any]] = {}
    for i, r in found.items():
        groups.setdefault((type(r), r), {})[i] = r
    out, objs = [], {}
    for (t, _), members in groups.items():
        if len(members) < 2:
            continue
        copies = list(members.values())
        one = sys.getsizeof(copies[0])
        where: list[tuple[str, int]] = []
        for o in copies[:50]:
            s = sites.of(o)
            if s and _is_import_line(s):
                continue  # made while importing a module (docstrings, names): not the user's data
            if s and s not in where:
                where.append(s)
            if len(where) == 3:
                break
        if not where:
            continue
        out.append({"type": t.__name__, "length": len(copies[0]), "copies": len(copies), "size": one,
                    "bytes_wasted": one * (len(copies) - 1), "sites": where, "preview": repr(copies[0][:40])})
        objs.update(members)
    out.sort(key=lambda g: -g["bytes_wasted"])
    return out, objs


# ---- globals ------------------------------------------------------------------------------------------------

def _module_dicts(ns: dict[str, Any]) -> list[dict[str, Any]]:
    """The dicts that are this module's namespace: ns, and the live globals of its functions (runpy hands back a
    copy of the namespace; the functions keep the original), and the module's own in sys.modules."""
    out = [ns]
    name, file = ns.get("__name__"), ns.get("__file__")
    mod = sys.modules.get(name) if isinstance(name, str) else None
    cands = [vars(mod)] if mod is not None and getattr(mod, "__file__", None) == file else []
    cands += [v.__globals__ for v in list(ns.values()) if isinstance(v, types.FunctionType)]
    for d in cands:
        if d.get("__file__") == file and not any(d is o for o in out):
            out.append(d)
    return out


def _is_namespace_of(d: Any, ns: dict[str, Any]) -> bool:
    return (type(d) is dict and d.get("__file__") == ns.get("__file__")
            and d.get("__name__") == ns.get("__name__") and "__builtins__" in d)


def _freed_by_del(value: Any, refs: int, ns: dict[str, Any], dicts: list[dict[str, Any]],
                  elsewhere: dict[int, str] | None = None, also: list[str] | None = None) -> bool:
    """Would `del name` (in every copy of the namespace) free value? Only when nothing else refers to it. elsewhere:
    the other user modules' namespaces (id -> file): a value they bind too (`from pkg import REGISTRY`) is freed by
    `del` in each, whose files go to `also`, rather than be nobody's."""
    held = sum(1 for d in dicts for v in d.values() if v is value)
    if refs <= held:
        return True
    # other referrers: more copies of the module's namespace (runpy's) count as the module's; anything else holds it
    others = [r for r in gc.get_referrers(value) if not any(r is d for d in dicts)]
    copies = [r for r in others if _is_namespace_of(r, ns)]
    dicts.extend(copies)  # the module's from now on: aliases are taken out of every copy
    extra = sum(sum(1 for v in r.values() if v is value) for r in copies)
    if refs <= held + extra:
        return True
    shared = [r for r in others if elsewhere and id(r) in elsewhere and not any(r is c for c in copies)]
    extra += sum(sum(1 for v in r.values() if v is value) for r in shared)
    if shared and refs <= held + extra and also is not None:
        also.extend(sorted({elsewhere[id(r)] for r in shared} - {ns.get("__file__")}))  # type: ignore[index]
        return True
    return False


def _fix_measure(value: Any) -> dict[str, Any] | None:
    """What the fitting fix takes for this value, measured by building it (None when no fix fits the value)."""
    if isinstance(value, (set, frozenset)) and value:
        if all(type(k) is int for k in value) or all(type(k) is str for k in value):
            try:
                fset = _ext.FrozenSet(value)
            except (TypeError, ValueError, OverflowError):
                return None
            return {"kind": "frozenset", "bytes": _ext.sizeof(fset, deep=True)}
        return None
    if isinstance(value, dict) and value:
        try:
            fmap = _ext.FrozenMap(value)
        except (TypeError, ValueError, OverflowError):
            return {"kind": "dict", "bytes": None}
        return {"kind": "dict", "bytes": _ext.sizeof(fmap, deep=True)}
    deque = _deque_type()
    if (isinstance(value, (list, tuple)) or (deque is not None and isinstance(value, deque))) and value:
        if all(type(x) is float for x in value):
            return {"kind": "numbers", "typecode": "d", "bytes": typed_size("d", len(value))}
        if all(type(x) is int for x in value):
            lo, hi = min(value), max(value)
            if -(1 << 63) <= lo and hi < (1 << 64):
                code = typecode("i", lo, hi)
                return {"kind": "numbers", "typecode": code, "bytes": typed_size(code, len(value))}
        return None
    if isinstance(value, (str, bytes, bytearray)) and len(value) >= BIG_TEXT:
        data = value.encode("utf-8", "surrogatepass") if isinstance(value, str) else bytes(value)
        return {"kind": "text", "bytes": sys.getsizeof(b"") + len(_ext.lz_compress(data))}
    return None


def measure_globals(namespaces: dict[str, dict[str, Any]], *, held: list[Any] | None = None,
                    min_bytes: int = GLOBAL_MIN_BYTES) -> list[dict[str, Any]]:
    """[{file, name, bytes, freed_by_del, deep_bytes, claimed, merged_into, type, len, fix}] for each data name of
    each user module (file -> its globals dict), most bytes first. bytes = what `del name` would free:
    sizeof(deep=True, exclusive=True) of the value, 0 for an alias (a second name for one value, or a value
    something else holds). Aliases are measured as 0 and taken out of the namespaces while the others are measured,
    so the holder (`tables`, not `current = tables["a"]`) is charged. `held` collects (row, value) of the globals
    worth a finding, for `claim`."""
    out, todo, aliases = [], [], []
    seen: set[int] = set()
    # what getrefcount adds for a local variable and its own argument: 2 up to 3.13, 1 on 3.14, whose compiler
    # borrows the reference of a local it passes on; measured the way `value` below is passed
    probe = object()
    overhead = sys.getrefcount(probe)
    del probe
    users = {file: ns for file, ns in namespaces.items() if not is_library_file(file)}
    spaces = {id(d): file for file, ns in users.items() for d in _module_dicts(ns)}
    for file, ns in users.items():
        dicts = _module_dicts(ns)
        elsewhere = {k: f for k, f in spaces.items() if f != file}
        for name in list(ns):
            if name.startswith("__") and name.endswith("__"):
                continue
            value = ns[name]
            if isinstance(value, _STRUCTURE):
                continue
            refs = sys.getrefcount(value) - overhead  # the references beyond `value` and the call's argument
            try:
                n = len(value)
            except Exception:
                n = None
            g: dict[str, Any] = {"file": file, "name": name, "bytes": 0, "deep_bytes": 0, "freed_by_del": True, "claimed": 0,
                 "merged_into": None, "type": type(value).__name__, "len": n, "fix": None}
            out.append(g)
            also: list[str] = []
            if id(value) in seen or not _freed_by_del(value, refs, ns, dicts, elsewhere, also):
                g["freed_by_del"] = False
                aliases.append((g, value, dicts))
            else:
                todo.append((g, value))
                if also:
                    g["also_in"] = also
            seen.add(id(value))
    cand = {id(v): g for g, v in todo}
    inner_aliases: dict[int, list[Any]] = {}  # id(owner row) -> alias values charged to it
    for g, value in todo:
        try:
            g["deep_bytes"] = g["bytes"] = _ext.sizeof(value, deep=True, exclusive=True)
        except Exception:  # a user __sizeof__ that raises: the name is reported without a size
            continue
    # an alias's value is charged to the global whose value holds it (`tables` for `current = tables["a"]`): its
    # exclusive size left it out, since the alias's name refers to it too
    ours = {id(out), id(todo), id(aliases)} | {id(t) for t in todo} | {id(t) for t in aliases}
    for g, value, dicts in aliases:
        try:
            g["deep_bytes"] = _ext.sizeof(value, deep=True, exclusive=True)
        except Exception:
            continue
        if g["deep_bytes"] >= min_bytes and g["type"] not in ("str", "bytes", "int", "float"):
            owner = _owner(value, cand, ours | {id(d) for d in dicts})
            if owner is not None:
                owner["bytes"] += g["deep_bytes"]
                owner["deep_bytes"] += g["deep_bytes"]
                owner.setdefault("holds", []).append(g["name"])
                inner_aliases.setdefault(id(owner), []).append(value)
    for g, value in todo:
        if g["bytes"] >= min_bytes:
            g["fix"] = _fix_measure(value)
            if held is not None:
                held.append((g, value, inner_aliases.get(id(g), [])))
    out.sort(key=lambda g: -g["bytes"])
    return out


def _owner(value: Any, cand: dict[int, dict[str, Any]], skip: set[int], depth: int = 6) -> dict[str, Any] | None:
    """The measured global whose value holds value (a few containers up), or None."""
    frontier, seen = [value], {id(value)}
    for _ in range(depth):
        nxt: list[Any] = []
        # one walk of the heap per level for the whole frontier (gc.get_referrers visits every object each call)
        args = tuple(frontier)
        for r in gc.get_referrers(*args):
            if id(r) in cand:
                return cand[id(r)]
            if (id(r) in seen or id(r) in skip or r is frontier or r is args or r is nxt
                    or isinstance(r, types.FrameType)):
                continue
            seen.add(id(r))
            nxt.append(r)
        frontier = nxt
        if not frontier or len(seen) > 10_000:
            break
    return None


def claim(held: list[Any], boxed: list[dict[str, Any]], scanned: bool) -> None:
    """Give each object to one finding: a global that is a boxed-numbers sequence is merged into that finding; the
    boxed sequences and the copies of equal strings inside a global are taken out of its bytes. Called while the
    scans hold a reference to every sequence and string they report, so a second exclusive size (in C) leaves out
    exactly those: claimed = the first size minus the second. (A global holding every copy of a duplicated string
    thus leaves the one copy interning would keep to the duplicates finding too: no byte is counted twice.)"""
    boxed_by_id = {g["id"]: g for g in boxed}
    for g, value, aliases in held:
        if id(value) in boxed_by_id:
            g["merged_into"] = "boxed_numbers"
            boxed_by_id[id(value)]["global"] = (g["file"], g["name"])
            continue
        if not scanned:
            continue
        try:
            after = _ext.sizeof(value, deep=True, exclusive=True)
            after += sum(_ext.sizeof(a, deep=True, exclusive=True) for a in aliases)
        except Exception:
            continue
        after = min(after, g["deep_bytes"])
        g["claimed"] = g["deep_bytes"] - after
        g["bytes"] = after
