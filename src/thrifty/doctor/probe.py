"""The findings' probes: what the tracker's tables cannot tell, measured in the target's own process.

This module runs in the target's process, so at import time it imports only what `python -c pass` has already
imported plus sys, gc and thrifty._ext (a test checks it): the target's own imports must not look free. What it
gives the analyzer is plain data (dicts, lists, str, int, float, bool, None), so `repr` → `ast.literal_eval`
carries it through the run file.

During the run (`with Probes():`): cycles (a gc callback) and resources (ResourceWarning capture). The allocation
site of an object comes from the tracker's live-block tables (`_ext._tracker_site_of`), during the run and, because
the tracker is stopped with keep_sites=True, after it for objects still alive. After the run, `Probes.evidence(raw)`
walks what is left (globals, duplicates, numbers held as objects: thrifty.doctor.heapscan, imported then, when the
measurement is over) and returns the evidence dict that `thrifty.doctor.findings.build` reads in the analyzer.
"""
import gc
import sys

from thrifty import _ext
from thrifty.doctor.usercode import UserCode

# Annotations naming typing's types are strings: this module runs in the target, without `import typing`.
TYPE_CHECKING = False  # mypy takes any `TYPE_CHECKING` as true; at run time this module runs in the target's
if TYPE_CHECKING:     # process, where importing typing would make the target's own import of it look free
    from typing import Any

EVIDENCE_VERSION = 1
# containers that only hold a cycle together; a group is named after the user object they belong to
_PLUMBING = (dict, list, tuple, set, frozenset)
MAX_CHAINS = 20
SITE_SAMPLE = 64
_STACK_CACHE = 4096  # stacks whose user site Sites remembers (bounded: it is memory in the target's process)


def _xorshift(n: int) -> "list[int]":
    x, out = 0x9E3779B9, []
    for _ in range(n):
        x ^= (x << 13) & 0xFFFFFFFF
        x ^= x >> 17
        x ^= (x << 5) & 0xFFFFFFFF
        out.append(x)
    return out


# the samples' indices, drawn once, at the first sample (a sample slices it: a loop of shifts per object picked was
# the probe's cost); 512 of them (~20 KB in the target's process, which its peak RSS counts)
_XORSHIFT: "list[int]" = []


class Sites:
    """Where in the user's code an object was allocated: the innermost user frame of the tracker's stack for it.
    The user's roots default to the current directory and the target's sys.path[0] (its script's directory), taken
    at the first lookup, i.e. while the target runs. A site is *direct* when that user frame is the stack's
    innermost, i.e. the user's line itself made the object, not a library it called."""

    def __init__(self, roots: list[str] | None = None, typed: bool | None = None) -> None:
        self._roots = roots
        self._typed = typed
        self.user: UserCode | None = None
        # of_stack's answers by stack: a program's garbage comes from a few stacks, and the cycle collector asks for
        # thousands of objects' sites (walking each stack in Python was most of its time)
        self._by_stack: dict[object, tuple[tuple[str, int] | None, bool]] = {}  # (site, direct)
        self._pairs: dict[object, tuple[tuple[str, int] | None, bool]] = {}
        # counts()'s answers by tracker site, valid for one generation of the tracker's sites (_tracker_site_keys)
        self._by_key: dict[int, tuple[tuple[str, int] | None, bool]] = {}
        self._generation: object = None

    def is_user(self, filename: str) -> bool:
        if self.user is None:
            import os

            roots = self._roots or sorted({os.getcwd(), os.path.realpath(sys.path[0] or os.getcwd())})
            # `<string>` is the user's for a -c target (python sets argv[0] to "-c"), `<stdin>` for `-` (argv[0] "-"),
            # not generated code's elsewhere
            typed = self._typed if self._typed is not None else (sys.argv[:1] in (["-c"], ["-"]))
            self.user = UserCode(roots, typed=typed)
        return self.user(filename)

    def of_stack(self, frames: object) -> tuple[str, int] | None:
        """The innermost user frame of ((filename, lineno), ...), innermost first, unless the import machinery comes
        first: an object a library module made while being imported is that module's, not the user's import line's."""
        return self._site_of_stack(frames)[0]

    def _site_of_stack(self, frames: object) -> tuple[tuple[str, int] | None, bool]:
        """(of_stack's site, whether it is direct)."""
        if not frames:
            return None, False
        try:
            return self._by_stack[frames]
        except (KeyError, TypeError):  # TypeError: a stack given as a list (unhashable): not cached
            pass
        got = self._of_stack(frames)
        if len(self._by_stack) < _STACK_CACHE and isinstance(frames, tuple):
            # one (site, direct) pair per user line, shared by its many stacks (memory in the target's process)
            got = self._by_stack[frames] = self._pairs.setdefault(got, got)
        return got

    def _of_stack(self, frames: object) -> tuple[tuple[str, int] | None, bool]:
        stack: "tuple[tuple[str, int], ...]" = frames  # type: ignore[assignment]  # a tuple or a list of them
        for k, (filename, lineno) in enumerate(stack):
            if lineno <= 0:
                return None, False  # made while the target was compiled (`<compile>`, no line): no line to point at
            if self.is_user(filename):
                return (filename, lineno), k == 0
            if filename.startswith("<frozen importlib") or filename == "<import>":
                return None, False
        return None, False

    def counts(self, objs: "list[Any]", direct: bool = False) -> "dict[tuple[str, int] | None, int]":
        """{site: how many of objs have it}, the sites in the order they first appear in objs: what counting
        `self.of(o)` over objs gives, with one stack tuple built per tracker site instead of one per object (the
        cycle probe asks for thousands of objects' sites at each collection, from a few stacks). direct: an object
        a library made inside a call from the user's line counts as of no site."""
        generation, keys = _ext._tracker_site_keys(objs)
        if generation != self._generation:  # a new run, or sites recycled: a key may stand for another stack now
            self._by_key.clear()
            self._generation = generation
        by_key = self._by_key
        out: dict[tuple[str, int] | None, int] = {}
        for obj, key in zip(objs, keys):
            if key is None:  # not in the tracker's tables (tracemalloc may know it)
                got = self._site_of(obj)
            elif key in by_key:
                got = by_key[key]
            else:
                got = self._site_of(obj)
                if len(by_key) < _STACK_CACHE:
                    by_key[key] = got
            site = got[0] if got[1] or not direct else None
            out[site] = out.get(site, 0) + 1
        return out

    def of(self, obj: object) -> tuple[str, int] | None:
        """From thrifty's tracker (while it runs, or after a stop that kept its sites), else from tracemalloc when
        something else started it; None when neither recorded the object."""
        return self._site_of(obj)[0]

    def _site_of(self, obj: object) -> tuple[tuple[str, int] | None, bool]:
        frames = _ext._tracker_site_of(obj)
        return self._site_of_stack(frames if frames is not None else _ext._alloc_site(obj))


SITES = Sites()  # the process's default (the in-process doctor and the tests); Probes may bring its own roots


class CycleCollector:
    """Install with start(), remove with stop(); `groups` maps (type name, site) to counts, bytes and a chain.

    While installed, the collector saves what it finds unreachable (gc.DEBUG_SAVEALL) instead of clearing it; after
    each collection a gc callback records each saved object's type, size and allocation site, keeps one example
    chain, then clears and frees them exactly as the collector would have (thrifty._ext._gc_release). Finalizers
    and weakref callbacks ran as usual, before the save: the program sees no difference except time."""

    def __init__(self, sites: Sites | None = None) -> None:
        self.groups: dict[tuple[str, tuple[str, int] | None], dict[str, Any]] = {}
        self.collections = 0
        self.sites = sites or SITES
        self._user_modules: dict[str, bool] = {}  # module name -> are its classes the user's (_is_user_type)
        self._seed = 0  # where in _XORSHIFT the next sample starts
        self._old_debug = 0
        self._installed = False

    def start(self, collect: bool = True) -> None:
        """collect=False: there is no garbage yet (the recorder's fresh interpreter). A collection moves every object
        alive to the oldest generation, which python's own run would not have done: it changed which objects the
        collector frees at exit, and so the order their __del__ methods run in (as gc.collect() first thing in a
        script does under plain python)."""
        self._old_debug = gc.get_debug()
        if self._old_debug & gc.DEBUG_SAVEALL:
            return  # someone already keeps gc.garbage for inspection: leave it to them, report no cycles
        if collect:
            gc.collect()  # what was garbage before the run is not the program's
        gc.garbage.clear()
        gc.set_debug(self._old_debug | gc.DEBUG_SAVEALL)
        gc.callbacks.append(self._callback)
        self._installed = True

    def stop(self, collect: bool = True) -> None:
        """collect=False: the caller has just collected, with this collector installed (Probes.__exit__)."""
        if not self._installed:
            return
        if collect:
            gc.collect()  # the run's last cycles
        self._drain()
        gc.callbacks.remove(self._callback)
        gc.set_debug(self._old_debug)
        self._installed = False

    def _callback(self, phase: str, info: "dict[str, Any]") -> None:
        if phase == "stop" and gc.garbage:
            self._drain()

    def _sample(self, objs: "list[Any]") -> "list[Any]":
        """SITE_SAMPLE of objs, pseudo-random (not strided: garbage often alternates parent, child, parent, ...),
        and the same from run to run (xorshift; no `random`, which the target may import itself)."""
        n = len(objs)
        if n <= SITE_SAMPLE:
            return objs
        if not _XORSHIFT:
            _XORSHIFT.extend(_xorshift(SITE_SAMPLE * 8))
        at = self._seed
        self._seed = (at + SITE_SAMPLE) % len(_XORSHIFT)
        return [objs[x % n] for x in _XORSHIFT[at:at + SITE_SAMPLE]]

    def _drain(self) -> None:
        garbage = gc.garbage
        if not garbage:
            return
        # what recording the garbage allocates (the groups, the per-stack site cache: ~130-210 KB on pyperformance's
        # scripts, counted in their peak and end until this) is the doctor's, not the target's: the tracker leaves
        # it out. Freeing the garbage is the target's, as the collector would have done it: counted, after.
        was = _ext._tracker_own(True)
        try:
            self._record(garbage)
        finally:
            _ext._tracker_own(was)
        _ext._gc_release(garbage)

    def _record(self, garbage: "list[Any]") -> None:
        self.collections += 1
        by_type: dict[type, list[Any]] = _ext._gc_by_type(garbage)  # in C: it visits every object collected
        # the containers that hold cycles together (instance dicts, child lists) are attributed to the user objects
        # collected with them, in proportion to their numbers; alone, they form their own groups
        # a module namespace dropped whole (what `-m cProfile`, `-m trace` or exec(code, ns) ran the script in) is
        # a cycle by construction, each function to its __globals__: not a finding, nothing the user can weaken
        discarded = _discarded_namespace(by_type, garbage)
        size = _ext._gc_size  # sum(map(sys.getsizeof, objs)), in C: one call per type, not per object
        plumbing_bytes = sum(size(objs) for t, objs in by_type.items() if t in _PLUMBING)
        users = {t: objs for t, objs in by_type.items() if t not in _PLUMBING}
        n_users = sum(len(objs) for objs in users.values())
        ids = None
        for t, objs in (users or by_type).items():
            name = t.__name__ if t in _PLUMBING else f"{t.__module__}.{t.__qualname__}"
            # sites from a sample: a type's garbage nearly always comes from one or two places
            sample = self._sample(objs)
            # a library's own objects (argparse's formatters, asyncio's transports) in a cycle the library made
            # inside a call from the user's line are not the user's to weaken: of no site, unless the user's line
            # made them itself; the user's classes are the user's wherever they were instantiated
            direct = not self._is_user_type(t)
            if discarded:  # the namespace's objects count as of no site (the outside-your-code note)
                kept = [o for o in sample if id(o) not in discarded]
                sites = self.sites.counts(kept, direct)
                if len(kept) < len(sample):
                    sites[None] = sites.get(None, 0) + len(sample) - len(kept)
            else:
                sites = self.sites.counts(sample, direct)
            share = plumbing_bytes * len(objs) / n_users if users else 0
            own = size(objs) + share
            # split the counts by the sample's proportions; the most common site takes the rounding remainder
            ranked = sorted(sites.items(), key=lambda kv: -kv[1])
            counts = [len(objs) * k // len(sample) for _, k in ranked]
            counts[0] += len(objs) - sum(counts)
            for (site, k), count in zip(ranked, counts):
                g = self.groups.get((name, site))
                if g is None:
                    g = self.groups[(name, site)] = {"objects": 0, "bytes": 0, "collections": 0, "chain": None}
                g["objects"] += count
                g["bytes"] += round(own * count / len(objs))
                g["collections"] += 1
                if g["chain"] is None and site is not None and len(self.groups) <= MAX_CHAINS:
                    ids = ids or {id(x) for x in garbage}
                    g["chain"] = example_chain(next(o for o in sample if self.sites.of(o) == site), ids) or ""


    def _is_user_type(self, t: type) -> bool:
        """A class of the user's code: defined in the target's main module or in a module file of the user's."""
        name = t.__module__
        got = self._user_modules.get(name)
        if got is None:
            file = getattr(sys.modules.get(name), "__file__", None)
            got = name == "__main__" or (isinstance(file, str) and self.sites.is_user(file))
            self._user_modules[name] = got
        return got


def _discarded_namespace(by_type: "dict[type, list[Any]]", garbage: "list[Any]") -> "set[int]":
    """The ids of the garbage that module namespaces in it held (a namespace is in the garbage when a function of
    it is and so is its __globals__): the namespace's functions, classes and whatever its globals still held."""
    functions = by_type.get(type(_edge), ())
    if not functions:
        return set()
    ids = {id(o) for o in garbage}
    frontier = list({id(f.__globals__): f.__globals__ for f in functions if id(f.__globals__) in ids}.values())
    seen = {id(o) for o in frontier}
    while frontier:
        nxt = []
        for o in frontier:
            for r in gc.get_referents(o):
                if id(r) in ids and id(r) not in seen:
                    seen.add(id(r))
                    nxt.append(r)
        frontier = nxt
    return seen


# what builtin objects refer to outside a __dict__ (a function's namespace and closure, a bound method's object, a
# cell's value, a class's bases): read only on builtin types, whose getattr runs no Python code
_C_ATTRS = ("__globals__", "__closure__", "__defaults__", "__kwdefaults__", "__self__", "__func__", "cell_contents",
            "__objclass__", "__mro__", "__bases__")


def _edge(src: object, dst: object) -> str:
    """How src refers to dst, in the words a user would write."""
    if isinstance(src, dict):
        for k, v in src.items():
            if v is dst:
                return f"[{k!r}]"
        return "{key}"
    if isinstance(src, (list, tuple)):
        for i, v in enumerate(src):
            if v is dst:
                return f"[{i}]"
    d = getattr(src, "__dict__", None)
    if isinstance(d, dict):
        for k, v in d.items():
            if v is dst:
                return f".{k}"
    for slot in getattr(type(src), "__slots__", ()):
        if getattr(src, slot, None) is dst:
            return f".{slot}"
    if type(src).__module__ == "builtins":
        if isinstance(src, type) and isinstance(dst, dict):
            return ".__dict__"  # a class's namespace (its __dict__ is a mappingproxy of it)
        for name in _C_ATTRS:
            try:
                if getattr(src, name) is dst:
                    return f".{name}"
            except Exception:  # noqa: BLE001  (an empty cell, an attribute this type lacks)
                pass
    return ""  # a reference with no Python spelling: the arrow alone says it


def example_chain(start: object, among: set[int], limit: int = 8) -> str | None:
    """One cycle through start, as 'Node.parent → Node.children[0] → Node' (shortest, via breadth-first search).
    Dicts that are just an instance's __dict__ are folded into the attribute name."""
    prev: dict[int, tuple[object, object]] = {id(start): (None, None)}
    frontier = [start]
    for _ in range(limit * 2):
        nxt = []
        for o in frontier:
            for r in gc.get_referents(o):
                if id(r) not in among:
                    continue
                if r is start:
                    return _format_chain(start, o, prev)
                if id(r) not in prev:
                    prev[id(r)] = (o, r)
                    nxt.append(r)
        frontier = nxt
        if not frontier:
            break
    return None


def _format_chain(start: object, last: object, prev: dict[int, tuple[object, object]]) -> str:
    back = [last]
    while back[-1] is not start:
        back.append(prev[id(back[-1])][0])
    path = list(reversed(back)) + [start]  # start ... last, start
    parts = []
    i = 0
    while i < len(path) - 1:
        src, dst = path[i], path[i + 1]
        if isinstance(dst, dict) and getattr(src, "__dict__", None) is dst and i + 2 < len(path):
            edge = _edge(dst, path[i + 2])
            edge = "." + edge[2:-2] if edge.startswith("['") else edge
            step = 2
        else:
            edge, step = _edge(src, dst), 1
        parts.append(type(src).__qualname__ + edge)
        i += step
    return " → ".join(parts + [type(start).__qualname__])


_PIN = ("always", None, ResourceWarning, None, 0)
_SEP = "\\" if sys.platform == "win32" else "/"  # os.sep, without touching os here


class ResourceCollector:
    """Unreleased resources: files, sockets and anything else finalized unclosed (it emits a ResourceWarning).

    Python ignores ResourceWarning by default and scripts often filter warnings, so the collector pins an "always"
    filter for ResourceWarning at the front of the warning filters (it stays first when the script adds its own
    filters; warnings.catch_warnings' copies of the list stay pinned too) and takes the warning at
    warnings._showwarnmsg, the one place every shown warning passes. It records the warning and the site that
    allocated the object, then does what the program's own filters would have done (by default: nothing; -W
    default shows it, -W error raises it). Other categories pass through unchanged.

    The `warnings` module is not imported for this: plain python imports it only when the program does or when the
    first warning is shown, and importing it here would make the program's own import of it look free. Until then
    the filter is pinned in the C module's list (`_warnings.filters`, the list `warnings` adopts when imported), and
    a finder at the front of sys.meta_path installs the rest right after `warnings` has been imported, whoever
    imports it (the program, or python showing the first warning)."""

    def __init__(self, sites: Sites | None = None) -> None:
        self.groups: dict[tuple[str, tuple[str, int] | None], dict[str, Any]] = {}
        self.sites = sites or SITES
        self._saved: tuple[Any, ...] | None = None
        self._finder: _AfterImport | None = None
        self._shown: set[object] = set()  # the program's filters' registries (_program_action)

    def start(self) -> None:
        warnings = sys.modules.get("warnings")
        if warnings is not None:  # imported at start-up (-W options, PYTHONWARNINGS) or by an earlier run
            self._take_over(warnings)
            return
        import _warnings  # built in, imported by every interpreter at start-up: costs nothing

        _warnings.filters.insert(0, _PIN)
        _filters_mutated(_warnings)
        self._finder = _AfterImport("warnings", self._take_over)
        sys.meta_path.insert(0, self._finder)

    def _take_over(self, warnings: "Any") -> None:
        # the pinned list and its class, the wrapper: the doctor's, even when the target's import brings them in
        was = _ext._tracker_own(True)
        try:
            self._install(warnings)
        finally:
            _ext._tracker_own(was)

    def _install(self, warnings: "Any") -> None:
        self._finder = None
        pinned = _pinned_filters_type()
        self._saved = (warnings.filters, warnings._showwarnmsg)
        warnings.filters = pinned([_PIN] + [f for f in warnings.filters if f is not _PIN])
        warnings._filters_mutated()
        original = warnings._showwarnmsg

        def take(msg: object) -> None:
            if issubclass(msg.category, ResourceWarning):  # type: ignore[attr-defined]
                self.record(msg.message, msg.source)  # type: ignore[attr-defined]
                # then what the program's own filters say, as if the pin were not there (-W default, -X dev and
                # -W error::ResourceWarning show it or raise it under plain python: so they do here)
                was = _ext._tracker_own(True)  # deciding (and its registry) is the doctor's; showing is the program's
                try:
                    action = self._program_action(warnings, msg)
                finally:
                    _ext._tracker_own(was)
                if action == "error":
                    raise msg.message  # type: ignore[attr-defined]
                if action != "ignore":
                    original(msg)
            else:
                original(msg)

        warnings._showwarnmsg = take

    def _program_action(self, warnings: "Any", msg: "Any") -> str:
        """The action warn_explicit takes for msg under the program's filters (the pin left out), with the
        registries of "default", "module" and "once" kept here: the pinned "always" bypasses python's own."""
        text, filename = str(msg.message), msg.filename or "<unknown>"
        module = filename[:-3] if filename[-3:].lower() == ".py" else filename
        action: str = str(warnings.defaultaction)
        for f in warnings.filters:
            if f is _PIN:
                continue
            what, text_re, category, module_re, lineno = f
            if ((text_re is None or text_re.match(text)) and issubclass(msg.category, category)
                    and (module_re is None or module_re.match(module)) and (lineno == 0 or msg.lineno == lineno)):
                action = str(what)
                break
        key = {"default": (filename, text, msg.category, msg.lineno), "module": (filename, text, msg.category),
               "once": (text, msg.category)}.get(action)
        if key is not None:
            if key in self._shown:
                return "ignore"
            self._shown.add(key)
        return action

    def record(self, message: object, source: object) -> None:
        text = str(message)  # may run the program's own __str__: what it allocates stays the program's
        was = _ext._tracker_own(True)  # the doctor's bookkeeping, not the target's memory (CycleCollector._drain)
        try:
            self._record(text, source)
        finally:
            _ext._tracker_own(was)

    def _record(self, text: str, source: object) -> None:
        what = type(source).__name__ if source is not None else text.split(" <", 1)[0].replace("unclosed ", "")
        site = self.sites.of(source) if source is not None else None
        g = self.groups.get((what, site))
        if g is None:
            g = self.groups[(what, site)] = {"count": 0, "example": ""}
        g["count"] += 1
        g["example"] = g["example"] or text

    def stop(self, collect: bool = True) -> None:
        """collect=False: the caller has just collected, with this collector installed (Probes.__exit__)."""
        if collect:
            gc.collect()  # unclosed objects in cycles are finalized now, while the hook is in place
        if self._finder is not None:  # `warnings` was never imported: only the C module's list was touched
            if self._finder in sys.meta_path:
                sys.meta_path.remove(self._finder)
            self._finder = None
            import _warnings

            if _PIN in _warnings.filters:
                _warnings.filters.remove(_PIN)
                _filters_mutated(_warnings)
            return
        if self._saved is None:
            return
        warnings: "Any" = sys.modules["warnings"]
        filters, show = self._saved
        current: "Any" = warnings.filters
        ours = isinstance(current, _pinned_filters_type())  # else the program replaced the list: keep its own
        filters[:] = [f for f in current if f is not _PIN] if ours else current
        warnings.filters = filters
        warnings._filters_mutated()
        warnings._showwarnmsg = show
        self._saved = None


def _filters_mutated(module: "Any") -> None:
    """Tell the C side the filter list changed (it caches filter decisions per version of the list); 3.14's C
    module has only the lock-held variant."""
    mutated = getattr(module, "_filters_mutated", None)
    if mutated is not None:
        mutated()
        return
    module._acquire_lock()
    try:
        module._filters_mutated_lock_held()
    finally:
        module._release_lock()


class _AfterImport:
    """A sys.meta_path finder that finds nothing itself: when module `name` is imported, it asks the finders behind
    it for the spec, lets the module be created and executed as usual, then calls `then(module)`. It leaves
    sys.meta_path at the first import, and the module's __loader__ and __spec__ are the real ones.

    An import of `name` that no code asked for by name is the doctor's own: the pinned ResourceWarning filter makes
    python import `warnings` to show a warning it would have ignored (plain python imports nothing then). The code
    that imports a module names it (`import warnings`, `from warnings import warn`, `__import__("warnings")`); the
    line a file was dropped on does not. Such an import is left out of the tracker (`_ext._tracker_own`), as if it
    had not happened, up to the end of its module's execution."""

    def __init__(self, name: str, then: "Any") -> None:
        self.name, self.then = name, then
        self.real: "Any" = None
        self._own: "bool | None" = None  # the tracker's own flag before an import no code asked for

    def find_spec(self, name: str, path: "Any" = None, target: "Any" = None) -> "Any":
        if name != self.name or self.real is not None:
            return None
        if self in sys.meta_path:
            sys.meta_path.remove(self)
        if not self._asked_by_name():
            self._own = _ext._tracker_own(True)
        try:
            for finder in sys.meta_path:
                find = getattr(finder, "find_spec", None)
                spec = find(name, path, target) if find is not None else None
                if spec is not None:
                    break
            else:
                spec = None
        except BaseException:
            self._end_own()
            raise
        if spec is None or spec.loader is None or not hasattr(spec.loader, "exec_module"):
            self._end_own()
            return spec
        self.real = spec.loader
        spec.loader = self
        return spec

    def _asked_by_name(self) -> bool:
        """Does the code importing the module name it? The first frame outside the import system (and this one)."""
        f: "Any" = sys._getframe(2)
        while f is not None and (f.f_code.co_filename.startswith("<frozen importlib")
                                 or f.f_code.co_filename.endswith(("importlib" + _SEP + "__init__.py"))):
            f = f.f_back
        if f is None:
            return True  # called from C with no Python frame: python's own start-up, not a warning shown
        code = f.f_code
        return self.name in code.co_names or self.name in code.co_consts

    def _end_own(self) -> None:
        if self._own is not None:
            _ext._tracker_own(self._own)
            self._own = None

    def create_module(self, spec: "Any") -> "Any":
        try:
            return self.real.create_module(spec) if hasattr(self.real, "create_module") else None
        except BaseException:
            self._end_own()
            raise

    def exec_module(self, module: "Any") -> None:
        spec = module.__spec__
        spec.loader = module.__loader__ = self.real  # as if this finder had never been there
        try:
            self.real.exec_module(module)
        finally:
            self._end_own()
        self.then(module)


_PINNED: "list[type]" = []


def _pinned_filters_type() -> type:
    """warnings.filters that keeps the doctor's ResourceWarning filter first whatever the script inserts (a list
    subclass made once, on first use)."""
    if _PINNED:
        return _PINNED[0]

    class PinnedFilters(list):  # type: ignore[type-arg]  # warnings.filters holds tuples of mixed types
        def insert(self, index: "Any", item: "Any") -> None:
            super().insert(index, item)
            if self and self[0] is not _PIN:
                if _PIN in self:
                    super().remove(_PIN)
                super().insert(0, _PIN)

        def __getitem__(self, index: "Any") -> "Any":
            # warnings.catch_warnings installs a copy made by slicing: keep the copy pinned too
            got = super().__getitem__(index)
            return PinnedFilters(got) if isinstance(index, slice) else got

        def __setitem__(self, index: "Any", value: "Any") -> None:
            super().__setitem__(index, value)
            if not self or self[0] is not _PIN:
                super().insert(0, _PIN)

    _PINNED.append(PinnedFilters)
    return PinnedFilters


class Probes:
    """`with Probes(): run the target`, then `evidence(raw)` once the tracker stopped (with keep_sites=True).

    register_namespace(filename, namespace) names a module namespace of the target (the recorder passes
    `__main__`'s); user modules in sys.modules are found on their own. In-process, when runpy is already imported,
    runpy.run_path/run_module are wrapped to keep the namespace the script ended with."""

    def __init__(self, user_roots: list[str] | None = None, typed: bool | None = None,
                 collect_first: bool = True) -> None:
        """collect_first=False: the process has no garbage yet to set apart from the run's (CycleCollector.start)."""
        self.sites = Sites(user_roots, typed) if user_roots or typed is not None else SITES
        self._collect_first = collect_first
        self.cycles = CycleCollector(self.sites)
        self.resources = ResourceCollector(self.sites)
        self.namespaces: dict[str, dict[str, Any]] = {}
        self._saved_runpy: tuple[Any, ...] | None = None

    def register_namespace(self, filename: str, namespace: "dict[str, Any]") -> None:
        if filename:
            self.namespaces[filename] = namespace

    def _capture(self, fn: object) -> object:
        def wrapper(*args: object, **kw: object) -> object:
            ns = fn(*args, **kw)  # type: ignore[operator]
            self.register_namespace(ns.get("__file__"), ns)
            return ns

        return wrapper

    def __enter__(self) -> "Probes":
        runpy: "Any" = sys.modules.get("runpy")  # the in-process doctor runs the target with runpy; the recorder does not
        if runpy is not None:
            self._saved_runpy = (runpy.run_path, runpy.run_module)
            runpy.run_path, runpy.run_module = self._capture(runpy.run_path), self._capture(runpy.run_module)
        self.cycles.start(self._collect_first)
        self.resources.start()
        _ACTIVE[:] = [self]
        return self

    def __exit__(self, *exc: object) -> None:
        # one full collection for both collectors, while both are installed: the run's last cycles are saved for
        # the cycle collector and their unclosed resources finalized under the resource hook (a collection each
        # walked a large heap twice)
        gc.collect()
        self.resources.stop(collect=False)
        self.cycles.stop(collect=False)
        if self._saved_runpy:
            runpy: "Any" = sys.modules["runpy"]
            runpy.run_path, runpy.run_module = self._saved_runpy
            self._saved_runpy = None

    def evidence(self, raw: "dict[str, Any] | None" = None) -> "dict[str, Any]":
        """Everything the findings need, as plain data; call after the tracker stopped (with keep_sites=True, for
        the sites). Releases the tracker's kept tables when done."""
        try:
            from thrifty.doctor import heapscan  # after the run: what it imports is not the target's bill

            return heapscan.evidence(self, raw)
        finally:
            self.release()

    @staticmethod
    def release() -> None:
        """Free the tables the tracker kept for site lookups (safe to call again, or when none are kept)."""
        _ext._tracker_release()


def evidence(raw: "dict[str, Any] | None", probes: "Probes | None" = None) -> "dict[str, Any]":
    """The evidence dict of one run (plain data): `probes.evidence(raw)`, by default of the Probes entered last."""
    if probes is None:
        if not _ACTIVE:
            raise RuntimeError("thrifty.doctor.probe.evidence: no Probes was entered; use `with Probes(): ...` first")
        probes = _ACTIVE[0]
    return probes.evidence(raw)


_ACTIVE: "list[Any]" = []  # the Probes entered last, for evidence(raw)
