"""W3C Bitstring Status Lists of an issuer and each award's entries in them."""

from __future__ import annotations

import secrets
import uuid
from typing import ClassVar

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from badges.models.awards import Award
from issuers.models import Issuer, SigningKey


def new_draw_key() -> bytes:
    """A fresh random key for a list's index permutation (:attr:`StatusList.draw_key`)."""
    return secrets.token_bytes(32)


class StatusPurpose(models.TextChoices):
    """``statusPurpose`` of a W3C Bitstring Status List (Bitstring Status List v1.0 §2.1)."""

    REVOCATION = "revocation", _("Revocation")
    SUSPENSION = "suspension", _("Suspension")


class StatusList(models.Model):
    """One W3C Bitstring Status List of an issuer, served signed at ``/status/<id>``.

    Each award gets one entry at a random index in the issuer's open revocation list and one
    in its open suspension list (DESIGN.md §5, research §4.1). The bits follow from the
    awards' ``status`` and are kept in ``bits``, updated in the same transaction as every
    status change together with ``version``. The signed ``BitstringStatusListCredential`` is
    kept with the ``version`` it was built from: a task re-signs it after each change commits,
    and a request that still finds it behind re-signs it from ``bits`` first
    (``badges.statuslists.serving``).
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    issuer = models.ForeignKey(Issuer, on_delete=models.PROTECT, related_name="status_lists")
    purpose = models.CharField(max_length=12, choices=StatusPurpose.choices)
    length = models.PositiveIntegerField(default=131_072)
    # Entries drawn before the list counts as full (random draws stay cheap below ~75 %).
    capacity = models.PositiveIntegerField(default=98_304)
    is_full = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    version = models.PositiveBigIntegerField(default=0)
    signed_version = models.BigIntegerField(default=-1)
    signed_json = models.TextField(blank=True)
    signed_at = models.DateTimeField(null=True, blank=True)
    signed_with = models.ForeignKey(
        SigningKey, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    # The bitstring now (Bitstring Status List v1.0 §3.1, index 0 the most significant bit of
    # the first byte). Missing trailing bytes are zeros, so a new list starts empty; NULL means
    # "not known": it is computed from the entries and the awards' status on first use
    # (``badges.statuslists.serving``), which is also how a list is repaired.
    bits = models.BinaryField(null=True, blank=True, default=bytes, editable=False)
    # The secret of the list's index permutation: the n-th award drawn into the list gets index
    # permutation(n), a bijection keyed by this, so indexes are distinct without probing and
    # look random to anyone without the key (``badges.statuslists.services``).
    draw_key = models.BinaryField(max_length=32, default=new_draw_key, editable=False)

    class Meta:
        ordering: ClassVar[list[str]] = ["issuer", "purpose", "created_at"]
        constraints: ClassVar[list[models.BaseConstraint]] = [
            models.CheckConstraint(
                condition=Q(length__gte=131_072), name="statuslist_minimum_length"
            ),
            models.CheckConstraint(
                condition=Q(capacity__lte=models.F("length")), name="statuslist_capacity"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.issuer.slug} {self.purpose} {self.pk}"


class StatusEntry(models.Model):
    """An award's index in one status list. Unique per list: the database refuses a second
    award at the same index, whatever the concurrency (research security §3.2 item 4).

    A credential that is not an award (an ``EndorsementCredential``, app ``endorsements``)
    holds an entry too: ``award`` empty, ``holder`` its id (no foreign key: its table is in an
    app above this one), and its bit kept here, ``set_at`` (an award's bit follows from the
    award's status instead)."""

    # No index of their own: the unique constraints below lead with these columns.
    award = models.ForeignKey(
        Award,
        on_delete=models.CASCADE,
        related_name="status_entries",
        db_index=False,
        null=True,
        blank=True,
    )
    status_list = models.ForeignKey(
        StatusList, on_delete=models.PROTECT, related_name="entries", db_index=False
    )
    purpose = models.CharField(max_length=12, choices=StatusPurpose.choices)
    index = models.PositiveIntegerField()
    holder = models.UUIDField(null=True, blank=True)
    set_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering: ClassVar[list[str]] = ["status_list", "index"]
        constraints: ClassVar[list[models.BaseConstraint]] = [
            models.UniqueConstraint(fields=["status_list", "index"], name="statusentry_index"),
            models.UniqueConstraint(fields=["award", "purpose"], name="statusentry_purpose"),
            models.UniqueConstraint(
                fields=["holder", "purpose"],
                condition=Q(holder__isnull=False),
                name="statusentry_holder_purpose",
            ),
            models.CheckConstraint(
                condition=Q(award__isnull=False, holder__isnull=True)
                | Q(award__isnull=True, holder__isnull=False),
                name="statusentry_one_holder",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.status_list_id}#{self.index}"
