"""Every write of badge imports: a badge from another issuer (a link, pasted JSON (OB 3.0,
OB 2.0, VC-JWT) or a baked PNG/SVG), checked by the one verify pipeline and kept with its
verdict.

The pipeline may fetch over the network (through the safe fetcher), so it runs outside any
transaction; only storing the result is atomic.

A wallet can also add a credential through the Open Badges API (``upsert_credential``): the
caller verifies it first, and an equal credential already imported is replaced.

Each import is also checked against the learner: is it issued to one of their confirmed
addresses or identifiers (``report["recipient"]``, :func:`recipient_of`)? The imports page
refuses a badge issued to someone else; one kept otherwise (a wallet's, or an address the
learner removed since) is shown as "not issued to you", never as plainly valid.
"""

from __future__ import annotations

import datetime as dt
import json

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from accounts.models import User
from earners import selectors as earner_selectors
from earners.imports import selectors
from earners.models import ImportedBadge, ImportSource
from openbadges import ob2verify, ob3
from verification import checks, pipeline, ratelimit
from verification.report import Report, Status, Verdict

MAX_IMPORTS = 200

# What ``report["recipient"]`` says about the learner: the badge names one of their confirmed
# addresses or identifiers; names someone else; or names nobody that can be checked.
YOURS, NOT_YOURS, UNKNOWN = "yours", "not_yours", "unknown"
# The formats issued to a person (an endorsement or a CLR is checked as it is).
_PERSONAL = ("ob3", "ob3-vc1.1", "vc", "vc-jwt")


def _ob2_matches(recipient: object, typed: str) -> bool:
    if ob2verify.recipient_matches(typed, recipient):
        return True
    if not isinstance(recipient, dict) or ob3.identifier_kind(recipient.get("type")) is None:
        return False
    identity = {
        "identityType": ob3.identifier_kind(recipient.get("type")),
        "hashed": recipient.get("hashed"),
        "identityHash": recipient.get("identity"),
        "salt": recipient.get("salt"),
    }
    return ob3.identifier_matches(typed, identity)


def recipient_of(user: User, report: Report) -> str:
    """Whether the verified badge was issued to ``user``: each confirmed address and each
    identifier an institution vouched for is hashed with the badge's salt, as the verify
    page does with what a person types (nothing is stored but the outcome)."""
    document = report.credential
    fmt = str(report.format)
    if not isinstance(document, dict) or not (fmt in _PERSONAL or fmt.startswith("ob2")):
        return ""
    keys = earner_selectors.learner_keys(user)
    typed = [*keys.emails, *(value for _institution, _kind, value in keys.identities)]
    if fmt.startswith("ob2"):
        recipient = document.get("recipient")
        if not isinstance(recipient, dict):
            return UNKNOWN
        return YOURS if any(_ob2_matches(recipient, t) for t in typed) else NOT_YOURS
    outcomes = {checks.recipient(document, t).status for t in typed}
    if Status.PASS in outcomes:
        return YOURS
    return NOT_YOURS if outcomes == {Status.FAIL} else UNKNOWN


def _run(imported: ImportedBadge, *, by_learner: bool = True) -> Report:
    """The pipeline on what was imported. Asked by the learner, it counts against their
    verification limit (``verification.ratelimit``: raises ``Limited``); the periodic
    re-check is not the learner's doing and counts against none."""
    if imported.source == ImportSource.URL:
        asked = pipeline.VerifyRequest(url=imported.source_url)
    elif imported.source == ImportSource.IMAGE:
        asked = pipeline.VerifyRequest(
            upload=bytes(imported.upload or b""), filename=imported.filename
        )
    else:
        asked = pipeline.VerifyRequest(text=imported.text)
    if not by_learner:
        return pipeline.verify(asked)
    return ratelimit.verify_as(ratelimit.user_key(imported.user_id), asked)


def _apply(imported: ImportedBadge, report: Report) -> None:
    data = report.as_json()
    data["recipient"] = recipient_of(imported.user, report)
    claims = data.get("claims") or {}
    imported.verdict = str(report.verdict)
    imported.headline = report.headline[:300]
    imported.format = str(report.format)[:30]
    imported.name = str(claims.get("name") or "")[:300]
    imported.issuer_name = str((claims.get("issuer") or {}).get("name") or "")[:300]
    imported.report = data
    imported.checked_at = report.checked_at
    if imported.source == ImportSource.URL and report.credential is not None:
        # Keep what the link served, so the learner's export has the credential itself.
        imported.text = json.dumps(report.credential, ensure_ascii=False)


def import_badge(
    *, user: User, url: str = "", text: str = "", upload: bytes | None = None, filename: str = ""
) -> ImportedBadge:
    """Verify what the learner gave and keep it; refuse input that is not a badge at all."""
    if ImportedBadge.objects.filter(user=user).count() >= MAX_IMPORTS:
        raise ValidationError(_("You can import at most 200 badges."))
    if upload is not None:
        imported = ImportedBadge(
            user=user, source=ImportSource.IMAGE, upload=upload, filename=filename[:200]
        )
    elif url.strip():
        imported = ImportedBadge(user=user, source=ImportSource.URL, source_url=url.strip())
    elif text.strip():
        imported = ImportedBadge(user=user, source=ImportSource.JSON, text=text.strip())
    else:
        raise ValidationError(_("Paste a badge link, its JSON, or choose a badge image."))
    report = _run(imported)
    if report.verdict in (Verdict.BAD_INPUT,) or report.format == "unknown":
        raise ValidationError(report.headline)
    _apply(imported, report)
    if imported.report.get("recipient") == NOT_YOURS:
        raise ValidationError(
            _(
                "This badge was issued to someone else: none of your confirmed e-mail "
                "addresses or student identifiers matches its recipient. If it is yours, add "
                "and confirm the address it was sent to under E-mail addresses, then import it "
                "again."
            )
        )
    return _store(imported=imported)


@transaction.atomic
def _store(*, imported: ImportedBadge) -> ImportedBadge:
    imported.save()
    return imported


def recheck_import(*, imported: ImportedBadge, by_learner: bool = False) -> ImportedBadge:
    """Run the pipeline again (revocation, expiry, keys may have changed) and save;
    ``by_learner`` when the learner pressed "check again" (counted against their limit)."""
    report = _run(imported, by_learner=by_learner)
    _apply(imported, report)
    return _store_check(imported=imported)


@transaction.atomic
def _store_check(*, imported: ImportedBadge) -> ImportedBadge:
    imported.save(
        update_fields=[
            "verdict",
            "headline",
            "format",
            "name",
            "issuer_name",
            "report",
            "checked_at",
        ]
    )
    return imported


@transaction.atomic
def remove_import(*, user: User, imported: ImportedBadge) -> None:
    if imported.user_id != user.pk:
        raise PermissionDenied
    imported.delete()


def _newer(existing: str, incoming: str) -> bool:
    """Whether the stored copy's ``validFrom`` is later than the incoming one's."""
    try:
        before, after = parse_datetime(existing or ""), parse_datetime(incoming or "")
    except ValueError:  # well-formed but impossible, like month 13
        return False
    if before is None or after is None:
        return False
    # A date without a zone is read as UTC, so the two can be compared.
    before, after = (d if d.tzinfo else d.replace(tzinfo=dt.UTC) for d in (before, after))
    return before > after


@transaction.atomic
def upsert_credential(*, user: User, text: str, report: Report) -> tuple[ImportedBadge, bool]:
    """Keep a credential a wallet sent for ``user`` (the Open Badges API's upsertCredential);
    ``report`` is the verify pipeline's verdict on ``text``, which the caller has checked.

    An import equal to it (same issuer id and credential id, OB 3.0 "credential equality") is
    replaced by it, unless the stored one has the later ``validFrom`` ("the more up-to-date
    representation"): then the stored one stays. Returns the import the learner now holds and
    whether it is a new credential (not a replacement)."""
    data = report.as_json()
    key = selectors.credential_key(
        (data.get("claims") or {}).get("issuer", {}).get("id"), data.get("credential_id")
    )
    if key is None:
        raise ValidationError(_("The credential has no id, or its issuer has none."))
    # One upsert per learner at a time: two equal credentials arriving together stay one.
    list(User.objects.select_for_update().filter(pk=user.pk).values_list("pk", flat=True))
    equal = selectors.equal_imports(user, key)
    incoming = str((data.get("claims") or {}).get("valid_from") or "")
    kept = next((pk for pk, valid_from in equal if _newer(valid_from, incoming)), None)
    if kept is not None:
        return ImportedBadge.objects.get(pk=kept), False
    if not equal and ImportedBadge.objects.filter(user=user).count() >= MAX_IMPORTS:
        raise ValidationError(_("You can import at most 200 badges."))
    ImportedBadge.objects.filter(pk__in=[pk for pk, _valid_from in equal]).delete()
    imported = ImportedBadge(user=user, source=ImportSource.JSON, text=text.strip())
    _apply(imported, report)
    imported.save()
    return imported, not equal
