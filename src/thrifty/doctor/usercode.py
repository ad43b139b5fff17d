"""Which frames are the user's own code, and how a site is named to the user: `app.py:12 (in json/decoder.py:353)`.

Every place that shows a site (the text, JSON and HTML reports, findings, budget errors, the pytest plugin's failure
listing) names it through `site_label`, with the user's innermost line first and the library frame that actually
allocated beside it. "User code" is a file under the user's roots (the script's directory, or the current directory
for -m and -c), outside the stdlib, site-packages/dist-packages and thrifty itself; `include`/`exclude` glob lists
override that, matched against the absolute path and the path relative to a root.

This module runs in the target's process too (the probes name object sites with it), so it imports only what
`python -c pass` has already imported; fnmatch is imported when a glob list is given, i.e. in the analyzer.
"""
import os
import sys

# Annotations naming typing's types are strings: this module runs in the target, without `import typing`.
TYPE_CHECKING = False  # mypy takes any `TYPE_CHECKING` as true; at run time this module runs in the target's
if TYPE_CHECKING:     # process, where importing typing would make the target's own import of it look free
    from typing import Any

_PKG = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))  # the thrifty package
_STDLIB = os.path.dirname(os.path.abspath(os.__file__))  # os.py sits at the top of the stdlib
_PREFIXES = tuple({os.path.join(os.path.realpath(p), "lib") + os.sep
                   for p in (sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix)})
_THIRD_PARTY = (os.sep + "site-packages" + os.sep, os.sep + "dist-packages" + os.sep)
# the pseudo-files of code a user typed: `python -c code`, `python < script`, the REPL
_TYPED = ("<string>", "<stdin>")


def typed_target(target: "dict[str, Any]") -> bool:
    """Whether the target is code the user typed, whose `<string>` / `<stdin>` frames are the user's: `-c code`, or
    `-` (the program on stdin). A target that does not say its kind is taken as typed code."""
    kind = target.get("kind", "code")
    return bool(kind == "code" or (kind == "script" and target.get("value") == "-"))


def target_display(target: "dict[str, Any]") -> str:
    """How a report names its target: `app.py`, `-m json.tool`, `-c <code>`, `- (the program on stdin)`."""
    kind, value = target.get("kind", "script"), str(target.get("value", "?"))
    if kind == "module":
        return f"-m {value}"
    if kind == "code":
        return "-c <code>"
    return "- (the program on stdin)" if value == "-" else value


def is_import_frame(frame: "list[Any] | tuple[Any, ...]") -> bool:
    """The recorder's `["<import>", 0, module]` pseudo-frame: the stack passes through the import of `module`."""
    return bool(frame[0] == "<import>")


# realpath of absolute directories: a run's files sit in a few dozen directories, and os.path.realpath of each file
# lstat()ed every component of its path (~1,100 system calls for the evidence of a run through a harness, as many
# again in the analyzer). Bounded: memory in the target's process.
_REAL_DIRS: "dict[str, str]" = {}
_REAL_DIRS_MAX = 1024


def _realpath(path: str) -> str:
    """os.path.realpath(path), the directory's part remembered: an absolute path's directory is resolved once, and
    then only its last component is looked at (one lstat: is it a symlink?)."""
    head, tail = os.path.split(path)
    if not os.path.isabs(head) or tail in ("", ".", "..") or head != os.path.normpath(head):
        return os.path.realpath(path)  # relative (the cwd may change) or not normal: as python resolves it
    real_head = _REAL_DIRS.get(head)
    if real_head is None:
        real_head = os.path.realpath(head)
        if len(_REAL_DIRS) < _REAL_DIRS_MAX:
            _REAL_DIRS[head] = real_head
    joined = os.path.join(real_head, tail)
    return os.path.realpath(joined) if os.path.islink(joined) else joined


def _is_library_real(real: str) -> bool:
    return (real.startswith(_PKG + os.sep) or real.startswith(_STDLIB + os.sep) or real.startswith(_PREFIXES)
            or any(t in real for t in _THIRD_PARTY))


def is_library_file(path: str) -> bool:
    """The stdlib, site-packages/dist-packages or thrifty itself: code the user does not change."""
    return _is_library_real(_realpath(path))


def _globs(what: str, patterns: object) -> tuple[str, ...]:
    if patterns is None:
        return ()
    if isinstance(patterns, (str, bytes)) or not isinstance(patterns, (list, tuple)) or not all(
            isinstance(p, str) for p in patterns):
        raise TypeError(f"{what} must be a list of glob strings such as ['src/*', '*/mylib/*'], "
                        f"got {patterns!r}")
    return tuple(patterns)


class UserCode:
    """A callable `filename -> bool`: is this the user's own code? Each distinct filename is classified once."""

    def __init__(self, roots: list[str] | None = None, include: list[str] | tuple[str, ...] | None = (),
                 exclude: list[str] | tuple[str, ...] | None = (), typed: bool = True) -> None:
        self.roots = tuple(os.path.realpath(r) + os.sep for r in (roots or [os.getcwd()]))
        self.include = _globs("include", include)
        self.exclude = _globs("exclude", exclude)
        self.typed = typed  # `<string>` is the user's (a -c target): False when the target is a file
        self._seen: dict[str, bool] = {}

    def __call__(self, filename: str | None) -> bool:
        if not filename:
            return False
        got = self._seen.get(filename)
        if got is None:
            got = self._seen[filename] = self._classify(filename)
        return got

    def _globbed(self, real: str, patterns: tuple[str, ...]) -> bool:
        import fnmatch  # only reached with a glob list: in the analyzer, never in the target's process

        names = [real] + [real[len(r):] for r in self.roots if real.startswith(r)]
        return any(fnmatch.fnmatch(n, p) for n in names for p in patterns)

    def _classify(self, filename: str) -> bool:
        if filename.startswith("<"):
            return self.typed and filename in _TYPED
        real = _realpath(filename)
        if self.exclude and self._globbed(real, self.exclude):
            return False
        if self.include and self._globbed(real, self.include):
            return True
        return not _is_library_real(real) and real.startswith(self.roots)


def short_path(path: str) -> str:
    """A path as the user reads it: relative to the current directory when under it; a library file by its place
    in its package (`json/decoder.py`), not by the interpreter's install path."""
    if path.startswith("<"):
        return path
    for base in (_STDLIB, os.path.dirname(_PKG)):
        if path.startswith(base + os.sep):
            return path[len(base) + 1:]
    for t in _THIRD_PARTY:
        if t in path:
            return path.split(t, 1)[1]
    try:
        rel = os.path.relpath(path)
    except ValueError:
        return path
    return path if rel.startswith("..") else rel


def site_label(site: "dict[str, Any]", function: bool = False, full: bool = False) -> str:
    """The one way a site is named to a user: the user's line, then the library frame that allocated, e.g.
    `app.py:12 (in json/decoder.py:353)`. `site` has file, line, function and optionally `in` (the library frame)
    and `user_code` (False: no frame of the stack is the user's; the label says so). full: the user's file as given
    (an exception message, read wherever the program's current directory is), not shortened."""
    if site["file"] == "<import>":
        head = f"import {site['function']}"
    else:
        path = site["file"] if full else short_path(site["file"])
        head = f"{path}:{site['line']}" if (site.get("line") or 0) > 0 else path  # no line: the file's compilation
        if function and site.get("function"):
            head += f" in {site['function']}"
    inner = site.get("in")
    if inner:
        where = (f"import {inner['function']}" if inner["file"] == "<import>"
                 else f"{short_path(inner['file'])}:{inner['line']}")
        head += f" (in {where})"
    if site.get("user_code") is False:
        head += " [not your code]"
    return head


def guard_site(tb: object, filename: str, line: int, function: str) -> str:
    """How a budget or no_alloc error names the refused allocation (called by the guard in C): the innermost frame
    of the user's code on the exception's traceback, in full, with the allocating frame beside it, e.g.
    `at /src/app.py:12 in main (in json/decoder.py:353)`; the allocating frame alone when it is the user's own or no
    frame of the traceback is."""
    import os

    user = UserCode(sorted({os.getcwd(), os.path.realpath(sys.path[0] or os.getcwd())}))
    best = None
    while tb is not None:
        code = tb.tb_frame.f_code  # type: ignore[attr-defined]
        if user(code.co_filename):
            best = (code.co_filename, tb.tb_lineno, code.co_qualname)  # type: ignore[attr-defined]
        tb = tb.tb_next  # type: ignore[attr-defined]
    inner = {"file": filename, "line": line, "function": function}
    if best is None or (best[0], best[1]) == (filename, line) or user(filename):
        site = {**inner, "in": None}
    else:
        site = {"file": best[0], "line": best[1], "function": best[2], "in": inner}
    return "at " + site_label(site, function=True, full=True)
