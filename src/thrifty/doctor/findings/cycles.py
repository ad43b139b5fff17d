"""Reference cycles: objects that only the cyclic garbage collector reclaimed during the run.

The in-run half (the gc callback that records them) is thrifty.doctor.probe.CycleCollector; this module turns its
groups into findings. Only groups created in the user's code are findings: the fix (a weak back-reference) must be
applicable where the objects are made. Cycles the stdlib or a library made (a module's import, its internals) are
summarized in one line by `outside_user_code`.
"""
from __future__ import annotations

TYPE_CHECKING = False  # mypy takes any `TYPE_CHECKING` as true; typing is not imported at run time: its import
if TYPE_CHECKING:     # is ~4 ms of every doctor run's start-up, and every annotation here is a string (PEP 563)
    from typing import Any

from thrifty.doctor.findings.base import Finding
from thrifty.doctor.probe import CycleCollector, example_chain  # noqa: F401  (the in-run half, re-exported)


def groups_list(groups: Any) -> list[dict[str, Any]]:
    """The collector's {(type, site): counts} or the evidence's [{type, site, ...}] as the latter."""
    if isinstance(groups, dict):
        return [{"type": t, "site": site, **g} for (t, site), g in groups.items()]
    return list(groups)


def findings(groups: Any, is_user: Any = None) -> list[Finding]:
    out = []
    for g in groups_list(groups):
        site = g["site"]
        if not site or (is_user is not None and not is_user(site[0])):
            continue
        file, line = site
        out.append(Finding(
            habit="references", kind="cycle", file=file, line=line,
            title=f"{g['objects']} {g['type']} objects freed only by the cyclic GC",
            evidence=f"{g['objects']} objects, {g['bytes']} bytes reclaimed in {g['collections']} collections"
                     + (f"; example: {g['chain']}" if g.get("chain") else ""),
            fix="break the cycle: keep the back-reference as a weakref.ref (or weakref.proxy), or clear it when done; "
                "memory then returns at once instead of waiting for a collection",
            bytes=g["bytes"], data={"type": g["type"], "objects": g["objects"], "chain": g.get("chain"),
                                    "collections": g["collections"]}))
    return out


def outside_user_code(groups: Any, is_user: Any = None) -> dict[str, int]:
    """{objects, bytes} of the cycles made outside the user's code or with no recorded site (not findings: nothing
    there for the user to change, or nowhere to change it)."""
    rest = [g for g in groups_list(groups)
            if not g["site"] or (is_user is not None and not is_user(g["site"][0]))]
    return {"objects": sum(g["objects"] for g in rest), "bytes": sum(g["bytes"] for g in rest)}
