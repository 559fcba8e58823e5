"""One error for refused operator actions, carrying per-field messages."""

from __future__ import annotations

from collections.abc import Mapping, Sequence


class GovernanceError(ValueError):
    """An operator action was refused. ``errors`` maps each field to its messages."""

    def __init__(self, message: str, errors: Mapping[str, Sequence[str]] | None = None) -> None:
        self.errors = {k: list(v) for k, v in (errors or {}).items()}
        detail = "; ".join(f"{k}: {', '.join(v)}" for k, v in self.errors.items())
        super().__init__(f"{message} ({detail})" if detail else message)
