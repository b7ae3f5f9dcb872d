"""Everything the platform keeps about a learner, in one zip: each credential
exactly as signed, each imported badge as given, and a JSON summary of the rest."""

from __future__ import annotations

import io
import json
import zipfile
from typing import Any

from django.utils import timezone

from accounts.models import User
from earners import selectors
from earners.models import Collection, ImportedBadge, LearnerEmail, LearnerProfile


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def summary(user: User) -> dict[str, Any]:
    awards = list(selectors.backpack(user))
    profile = LearnerProfile.objects.filter(user=user).first()
    return {
        "exported_at": timezone.now().isoformat(),
        "account": {"email": user.email, "name": user.name, "joined": _iso(user.date_joined)},
        "addresses": [
            {"email": a.email, "verified_at": _iso(a.verified_at)}
            for a in LearnerEmail.objects.filter(user=user)
        ],
        "profile": {
            "public": bool(profile and profile.public),
            "display_name": profile.display_name if profile else "",
        },
        "badges": [
            {
                "id": str(a.pk),
                "file": f"credentials/{a.pk}.json",
                "name": a.credential.get("credentialSubject", {})
                .get("achievement", {})
                .get("name", ""),
                "issuer": a.credential.get("issuer", {}).get("name", ""),
                "privacy": _privacy(a),
                "views_last_30_days": selectors.award_stats(a).total_views,
            }
            for a in awards
        ],
        "collections": [
            {
                "name": c.name,
                "badges": [str(a.pk) for a in c.awards.all()],
                "expires_at": _iso(c.expires_at),
                "revoked_at": _iso(c.revoked_at),
            }
            for c in Collection.objects.filter(owner=user).prefetch_related("awards")
        ],
        "imported": [
            {
                "id": str(i.pk),
                "file": _import_file(i),
                "source": i.source,
                "source_url": i.source_url,
                "name": i.name,
                "verdict": i.verdict,
                "checked_at": _iso(i.checked_at),
            }
            for i in ImportedBadge.objects.filter(user=user)
        ],
    }


def _import_file(imported: ImportedBadge) -> str:
    if imported.text:
        return f"imported/{imported.pk}.json"
    suffix = "svg" if imported.filename.lower().endswith(".svg") else "png"
    return f"imported/{imported.pk}.{suffix}"


def _privacy(award: Any) -> dict[str, Any]:
    preference = selectors.preference_of(award)
    if preference is None:
        return {}
    return {
        "visibility": preference.visibility,
        "show_name": preference.show_name,
        "include_evidence": preference.include_evidence,
    }


def export_zip(user: User) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("summary.json", json.dumps(summary(user), ensure_ascii=False, indent=2))
        for award in selectors.backpack(user):
            archive.writestr(f"credentials/{award.pk}.json", award.credential_json)
        for imported in ImportedBadge.objects.filter(user=user):
            if imported.text:
                archive.writestr(f"imported/{imported.pk}.json", imported.text)
            if imported.upload:
                name = _import_file(ImportedBadge(pk=imported.pk, filename=imported.filename))
                archive.writestr(name, bytes(imported.upload))
    return buffer.getvalue()
