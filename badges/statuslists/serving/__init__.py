"""Status-list serving: the bits kept current with every status change, the signed list kept
current with the bits. The writes are in :mod:`badges.statuslists.serving.services` (every
transaction opens in a ``services`` module, STYLE.md); its docstring says how."""

from badges.statuslists.serving.services import (
    StatusListUnavailable,
    current_list_credential,
    mark_changed,
    repair_bits,
    set_holder_bit,
    sign_due_lists,
    sign_lists,
)

__all__ = [
    "StatusListUnavailable",
    "current_list_credential",
    "mark_changed",
    "repair_bits",
    "set_holder_bit",
    "sign_due_lists",
    "sign_lists",
]
