"""Plain records: what the analyzer's few data classes took from `dataclasses` (equality, a readable repr, a dict
copy), without importing it. `dataclasses` (with `inspect`, which it imports) and the code it compiles for each class
were a fifth of the doctor's parent start-up, which every run pays; each class here spells out its `__init__`."""
from __future__ import annotations

TYPE_CHECKING = False  # mypy takes any `TYPE_CHECKING` as true; typing is not imported at run time
if TYPE_CHECKING:
    from typing import Any


class Record:
    """A record whose fields are `FIELDS`, in order: equal when of the same class with equal fields."""

    FIELDS: tuple[str, ...] = ()

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        return all(getattr(self, f) == getattr(other, f) for f in self.FIELDS)

    __hash__ = None  # type: ignore[assignment]  # mutable, as a dataclass with eq is

    def __repr__(self) -> str:
        return f"{type(self).__qualname__}({', '.join(f'{f}={getattr(self, f)!r}' for f in self.FIELDS)})"

    def as_dict(self) -> dict[str, Any]:
        """The fields as a dict; lists, tuples and dicts in them copied (as dataclasses.asdict copies them)."""
        return {f: _copy(getattr(self, f)) for f in self.FIELDS}


def _copy(value: Any) -> Any:
    if isinstance(value, dict):
        return {_copy(k): _copy(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_copy(v) for v in value)
    if isinstance(value, Record):
        return value.as_dict()
    return value
