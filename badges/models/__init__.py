"""The records of achievements, awards, status lists, bulk uploads, e-mails and API tokens,
one module per aggregate. Every write goes through a ``services`` module (DESIGN.md §3)."""

from badges.models.achievements import (
    CONTENT_FIELDS,
    Achievement,
    AchievementType,
    AchievementVersion,
    Language,
    ResultType,
    VersionStatus,
)
from badges.models.awards import (
    Award,
    AwardEvidence,
    AwardStatus,
    AwardStatusEvent,
    IdentifierType,
    StatusAction,
)
from badges.models.bulk import (
    BatchState,
    BulkBatch,
    BulkRow,
    DuplicateHandling,
    RowState,
)
from badges.models.notifications import (
    AwardNotification,
    NotificationKind,
)
from badges.models.statuslists import (
    StatusEntry,
    StatusList,
    StatusPurpose,
)
from badges.models.tokens import (
    IdempotentRequest,
    IssuerApiToken,
)

__all__ = [
    "CONTENT_FIELDS",
    "Achievement",
    "AchievementType",
    "AchievementVersion",
    "Award",
    "AwardEvidence",
    "AwardNotification",
    "AwardStatus",
    "AwardStatusEvent",
    "BatchState",
    "BulkBatch",
    "BulkRow",
    "DuplicateHandling",
    "IdempotentRequest",
    "IdentifierType",
    "IssuerApiToken",
    "Language",
    "NotificationKind",
    "ResultType",
    "RowState",
    "StatusAction",
    "StatusEntry",
    "StatusList",
    "StatusPurpose",
    "VersionStatus",
]
