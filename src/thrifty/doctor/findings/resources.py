"""Unreleased resources: files, sockets and anything else finalized unclosed (it emits a ResourceWarning).

The in-run half (the ResourceWarning capture) is thrifty.doctor.probe.ResourceCollector; this module turns what it
recorded into findings. Only resources opened in the user's code are findings (the fix, a `with` block, goes
there); the others are summarized in one line by `outside_user_code`.
"""
from __future__ import annotations

TYPE_CHECKING = False  # mypy takes any `TYPE_CHECKING` as true; typing is not imported at run time: its import
if TYPE_CHECKING:     # is ~4 ms of every doctor run's start-up, and every annotation here is a string (PEP 563)
    from typing import Any

from thrifty.doctor.findings.base import Finding
from thrifty.doctor.probe import ResourceCollector  # noqa: F401  (the in-run half, re-exported)


def groups_list(groups: Any) -> list[dict[str, Any]]:
    if isinstance(groups, dict):
        return [{"what": w, "site": site, **g} for (w, site), g in groups.items()]
    return list(groups)


def findings(groups: Any, is_user: Any = None) -> list[Finding]:
    out = []
    for g in groups_list(groups):
        site = g["site"]
        if not site or (is_user is not None and not is_user(site[0])):
            continue
        file, line = site
        out.append(Finding(
            habit="references", kind="resource", file=file, line=line,
            title=f"{g['count']} {g['what']} finalized without close()",
            evidence=f"{g['count']} ResourceWarning(s), e.g. {g['example']}",
            fix="close it deterministically: `with open(...) as f:` (or contextlib.closing / ExitStack); an "
                "unclosed file holds its OS handle and buffer until the GC finds it",
            bytes=0, data={"what": g["what"], "count": g["count"], "example": g["example"]}))
    return out


def outside_user_code(groups: Any, is_user: Any = None) -> int:
    """How many unclosed resources were opened outside the user's code or have no recorded site."""
    return sum(g["count"] for g in groups_list(groups)
               if not g["site"] or (is_user is not None and not is_user(g["site"][0])))
