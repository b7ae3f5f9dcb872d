"""Console forms for awarding and changing awards: they validate what staff type; the rules
and writes are in ``awarding.rules`` and ``awarding.services``."""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast

from django import forms
from django.http import QueryDict
from django.utils.translation import gettext_lazy as _

from awarding import rules
from badges.models import IdentifierType, Language
from badges.services import EvidenceItem

TEXTAREA = {"rows": 3}
EVIDENCE_ROWS = 3


class AwardForm(forms.Form):
    """One award: the learner named by e-mail, by an institutional identifier, or both
    (``awarding.rules.check_recipient`` decides; its errors come back on these fields)."""

    email = forms.EmailField(
        label=_("Learner's e-mail address"),
        required=False,
        help_text=_(
            "Only a salted hash of it goes into the badge. Leave it empty to award to a "
            "student number or sign-in name only: then no e-mail is sent."
        ),
    )
    identifier_type = forms.ChoiceField(
        label=_("Kind of identifier"),
        choices=IdentifierType.choices,
        initial=IdentifierType.STUDENT_ID,
        required=False,
    )
    identifier = forms.CharField(
        label=_("Student number or sign-in name"),
        max_length=300,
        required=False,
        help_text=_(
            "It does not change when the learner leaves: the badge reaches them when they "
            "sign in through your institution. Only a salted hash of it goes into the badge."
        ),
    )
    name = forms.CharField(label=_("Learner's name"), max_length=200, required=False)
    language = forms.ChoiceField(label=_("Language of the badge"))
    narrative = forms.CharField(
        label=_("Narrative"),
        widget=forms.Textarea(attrs=TEXTAREA),
        required=False,
        help_text=_("How this learner met the criteria (optional)."),
    )
    valid_until = forms.DateField(
        label=_("Expires on"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=_("Leave empty to use the micro-credential's validity period."),
    )
    credits_earned = forms.DecimalField(
        label=_("Credits earned"),
        required=False,
        min_value=0,
        decimal_places=2,
        max_digits=8,
    )

    def __init__(
        self,
        *args: Any,
        languages: list[str],
        credit_value: float | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        field = cast(forms.ChoiceField, self.fields["language"])
        field.choices = [(code, Language(code).label) for code in languages]
        if credit_value is None:
            del self.fields["credits_earned"]
        else:
            self.fields["credits_earned"].help_text = _(
                "Only for partial credit: leave empty when the learner earned all "
                "%(credits)s credits."
            ) % {"credits": f"{credit_value:g}"}
        for n in range(1, EVIDENCE_ROWS + 1):
            self.fields[f"evidence_url_{n}"] = forms.URLField(
                label=_("Evidence %(n)s: link") % {"n": n},
                required=False,
                assume_scheme="https",
                max_length=2000,
            )
            self.fields[f"evidence_narrative_{n}"] = forms.CharField(
                label=_("Evidence %(n)s: narrative") % {"n": n},
                widget=forms.Textarea(attrs={"rows": 2}),
                required=False,
            )

    def recipient(self) -> tuple[str, str, str]:
        """``(email, identifier_type, identifier)`` for ``award_badge``: the kind goes only
        with an identifier (the menu always has one chosen)."""
        email = self.cleaned_data.get("email") or ""
        identifier = self.cleaned_data.get("identifier") or ""
        if not identifier.strip():
            return email, "", ""
        return email, self.cleaned_data.get("identifier_type") or "", identifier

    def evidence(self) -> list[EvidenceItem]:
        return [
            EvidenceItem(
                url=self.cleaned_data.get(f"evidence_url_{n}") or "",
                narrative=self.cleaned_data.get(f"evidence_narrative_{n}") or "",
            )
            for n in range(1, EVIDENCE_ROWS + 1)
        ]

    def expiry(self) -> datetime | None:
        """The day typed, as the end of that day (``awarding.rules.end_of_day``)."""
        day = self.cleaned_data.get("valid_until")
        return rules.end_of_day(day) if day else None

    def evidence_rows(self) -> list[tuple[forms.BoundField, forms.BoundField]]:
        return [
            (self[f"evidence_url_{n}"], self[f"evidence_narrative_{n}"])
            for n in range(1, EVIDENCE_ROWS + 1)
        ]


MAX_REFERENCES_UPLOAD = 1024 * 1024


class StatusChangeForm(forms.Form):
    """Revoke, suspend or reinstate one award: a reason and whether to tell the learner."""

    reason = forms.CharField(
        label=_("Reason"),
        max_length=1000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Shown on the badge page and to anyone who verifies the badge."),
    )
    notify_earner = forms.BooleanField(
        label=_("Tell the learner by e-mail"), required=False, initial=True
    )


class BulkRevokeForm(forms.Form):
    """Choose awards to revoke: selected ones, one micro-credential, a date range and/or a
    list of credential ids or e-mail addresses (typed or uploaded, one per line)."""

    achievement = forms.ChoiceField(label=_("Micro-credential"), required=False)
    awarded_from = forms.DateField(
        label=_("Awarded on or after"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    awarded_until = forms.DateField(
        label=_("Awarded on or before"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    references = forms.CharField(
        label=_("Credential ids or e-mail addresses"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("One per line: the credential's link, its id, or the learner's e-mail."),
    )
    upload = forms.FileField(
        label=_("Or upload a list"),
        required=False,
        help_text=_("A text or CSV file; the first column of each line is used."),
    )
    reason = forms.CharField(
        label=_("Reason"),
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Shown on each badge page and to anyone who verifies the badges."),
    )
    notify_earner = forms.BooleanField(label=_("Tell the learners by e-mail"), required=False)
    confirm = forms.BooleanField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args: Any, achievements: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = cast(forms.ChoiceField, self.fields["achievement"])
        field.choices = [("", _("Any")), *achievements]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        lines = (cleaned.get("references") or "").splitlines()
        upload = cleaned.get("upload")
        if upload is not None:
            if upload.size > MAX_REFERENCES_UPLOAD:
                raise forms.ValidationError(_("The list is too large (1 MB at most)."))
            try:
                text = upload.read().decode("utf-8-sig")
            except UnicodeDecodeError:
                raise forms.ValidationError(_("Upload a UTF-8 text or CSV file.")) from None
            lines += text.splitlines()
        references = []
        for line in lines:
            first = line.split(",")[0].strip().strip('"')
            if first and first.lower() not in {"id", "credential", "email", "e-mail"}:
                references.append(first)
        cleaned["reference_list"] = references
        # Carry an uploaded list into the confirmation step.
        if isinstance(self.data, QueryDict):
            data = self.data.copy()
            data["references"] = "\n".join(references)
            self.data = data
        return cleaned

    def day_bounds(self) -> tuple[datetime | None, datetime | None]:
        start = self.cleaned_data.get("awarded_from")
        end = self.cleaned_data.get("awarded_until")
        return (
            rules.start_of_day(start) if start else None,
            rules.end_of_day(end) if end else None,
        )


class AwardFilterForm(forms.Form):
    """The awards list's search, filters and sort: a GET form, so a filtered list is a link
    that can be kept and shared. A value that does not validate is left out of the filter
    (and shown as an error), never guessed."""

    q = forms.CharField(
        label=_("Search"),
        required=False,
        max_length=200,
        help_text=_("Learner name, e-mail address, student number or credential id."),
        widget=forms.TextInput(attrs={"type": "search"}),
    )
    achievement = forms.ChoiceField(label=_("Micro-credential"), required=False)
    issuer = forms.ChoiceField(label=_("Issuer"), required=False)
    state = forms.ChoiceField(label=_("Status"), required=False)
    awarded_from = forms.DateField(
        label=_("Awarded on or after"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    awarded_until = forms.DateField(
        label=_("Awarded on or before"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    batch = forms.ChoiceField(label=_("Bulk upload"), required=False)
    sort = forms.ChoiceField(
        label=_("Sort by"),
        required=False,
        choices=[
            ("newest", _("Newest first")),
            ("oldest", _("Oldest first")),
            ("name", _("Learner name")),
        ],
    )

    STATE_CHOICES = [
        ("", _("Any")),
        ("issued", _("Issued, not claimed")),
        ("claimed", _("Claimed")),
        ("revoked", _("Revoked")),
        ("suspended", _("Suspended")),
        ("expired", _("Expired")),
        ("superseded", _("Superseded")),
    ]

    def __init__(
        self,
        *args: Any,
        achievements: list[tuple[str, str]],
        issuers: list[tuple[str, str]],
        batches: list[tuple[str, str]],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        choices = {
            "achievement": achievements,
            "issuer": issuers,
            "batch": batches,
        }
        for name, options in choices.items():
            cast(forms.ChoiceField, self.fields[name]).choices = [("", _("Any")), *options]
        cast(forms.ChoiceField, self.fields["state"]).choices = self.STATE_CHOICES

    def value(self, name: str) -> Any:
        """The cleaned value of ``name``, or None when it is empty or did not validate."""
        if not self.is_bound:
            return None
        self.is_valid()
        return self.cleaned_data.get(name) or None if name not in self.errors else None


class BulkActionForm(forms.Form):
    """Confirm a bulk action on the awards list's selection or on every award matching its
    filter: the reason (revoke, suspend), whether to tell the learners, and the number the
    person was shown (``expected``), which must still be the number matched."""

    ACTIONS = ("revoke", "suspend", "reinstate", "resend")

    action = forms.ChoiceField(
        choices=[
            ("revoke", _("Revoke")),
            ("suspend", _("Suspend")),
            ("reinstate", _("Reinstate")),
            ("resend", _("Resend e-mail")),
        ]
    )
    reason = forms.CharField(
        label=_("Reason"),
        max_length=1000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Shown on each badge page and to anyone who verifies the badges."),
    )
    notify_earner = forms.BooleanField(label=_("Tell the learners by e-mail"), required=False)
    expected = forms.IntegerField(required=False, min_value=0, widget=forms.HiddenInput)
