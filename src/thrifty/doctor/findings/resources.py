"""Unreleased resources: files, sockets and anything else finalized unclosed (it emits a ResourceWarning).

Python ignores ResourceWarning by default and scripts often filter warnings, so the collector pins an "always"
filter for ResourceWarning at the front of warnings.filters (it stays first when the script adds its own filters)
(warnings.catch_warnings' copies of the list stay pinned too) and takes the warning at warnings._showwarnmsg, the one place every shown warning passes. It records the warning
and the site that allocated the object (the open() call, via tracemalloc) and shows nothing: the report does.
Other categories pass through to the script's own filters and display unchanged.
"""
from __future__ import annotations

import warnings
from collections import defaultdict
from typing import Any

from thrifty.doctor.findings.base import Finding, site_of

_PIN = ("always", None, ResourceWarning, None, 0)


class _PinnedFilters(list):
    """warnings.filters that keeps the doctor's ResourceWarning filter first whatever the script inserts."""

    def insert(self, index: Any, item: Any) -> None:
        super().insert(index, item)
        if self and self[0] is not _PIN:
            if _PIN in self:
                super().remove(_PIN)
            super().insert(0, _PIN)

    def __getitem__(self, index: Any) -> Any:
        # warnings.catch_warnings installs a copy made by slicing: keep the copy pinned too
        got = super().__getitem__(index)
        return _PinnedFilters(got) if isinstance(index, slice) else got

    def __setitem__(self, index: Any, value: Any) -> None:
        super().__setitem__(index, value)
        if not self or self[0] is not _PIN:
            super().insert(0, _PIN)


class ResourceCollector:
    def __init__(self) -> None:
        self.groups: dict[tuple[str, tuple[str, int] | None], dict[str, Any]] = defaultdict(
            lambda: {"count": 0, "example": ""}
        )
        self._saved: tuple[Any, Any] | None = None

    def start(self) -> None:
        self._saved = (warnings.filters, warnings._showwarnmsg)  # type: ignore[attr-defined]
        warnings.filters = _PinnedFilters([_PIN] + list(warnings.filters))
        warnings._filters_mutated()  # type: ignore[attr-defined]
        original = warnings._showwarnmsg  # type: ignore[attr-defined]

        def take(msg: warnings.WarningMessage) -> None:
            if issubclass(msg.category, ResourceWarning):
                self.record(msg.message, msg.source)
            else:
                original(msg)

        warnings._showwarnmsg = take  # type: ignore[attr-defined]

    def record(self, message: Any, source: Any) -> None:
        text = str(message)
        what = type(source).__name__ if source is not None else text.split(" <", 1)[0].replace("unclosed ", "")
        site = site_of(source) if source is not None else None
        g = self.groups[(what, site)]
        g["count"] += 1
        g["example"] = g["example"] or text

    def stop(self) -> None:
        if self._saved is None:
            return
        import gc

        gc.collect()  # unclosed objects in cycles are finalized now, while the hook is in place
        filters, show = self._saved
        current = warnings.filters
        filters[:] = [f for f in current if f is not _PIN] if isinstance(current, _PinnedFilters) else current
        warnings.filters = filters
        warnings._filters_mutated()  # type: ignore[attr-defined]
        warnings._showwarnmsg = show  # type: ignore[attr-defined]
        self._saved = None


def findings(groups: dict[tuple[str, tuple[str, int] | None], dict[str, Any]]) -> list[Finding]:
    out = []
    for (what, site), g in groups.items():
        file, line = site or ("<unknown site>", 0)
        out.append(Finding(
            habit="references", kind="resource", file=file, line=line,
            title=f"{g['count']} {what} finalized without close()",
            evidence=f"{g['count']} ResourceWarning(s), e.g. {g['example']}",
            fix="close it deterministically: `with open(...) as f:` (or contextlib.closing / ExitStack); an "
                "unclosed file holds its OS handle and buffer until the GC finds it",
            bytes=0, data={"what": what, "count": g["count"], "example": g["example"]}))
    return out
