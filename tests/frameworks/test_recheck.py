"""Review flags that are stored, not computed on read: recognition evidence re-checked by
the periodic task (revoked, suspended, expired → the granted decision is flagged), and
pathway completions flagged in the transaction that revokes a counted badge."""

from __future__ import annotations

import datetime as dt
import time
from decimal import Decimal

import pytest
from django.conf import settings
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from achievements import services as achievement_services
from awarding.revocation import services as revocation_services
from badges.models import Achievement, AchievementVersion, Award, AwardStatus
from frameworks.models import CaseEvidence, Pathway, PathwayCompletion, RecognitionCase
from frameworks.pathways import selectors as pathway_selectors
from frameworks.pathways import services as pathway_services
from frameworks.pathways.trees import GroupSpec
from frameworks.recognition import selectors as recognition_selectors
from frameworks.recognition import services as recognition_services
from frameworks.recognition import tasks
from issuers.models import AuditEvent
from tests.badges.helpers import award, make_published
from tests.base import CaptureCallbacks, Cast
from tests.frameworks.helpers import draft_micro, place, system
from verification.report import Check, Report, Status

pytestmark = pytest.mark.django_db
LEARNER = "learner@example.com"
LATER = dt.timedelta(hours=25)


def placed(cast: Cast, slug: str = "data-literacy") -> AchievementVersion:
    draft = draft_micro(cast.editor, cast.issuer, slug)
    place(cast.editor, draft)
    return achievement_services.publish_version(actor=cast.editor, version=draft)


def granted_case(
    cast: Cast, given: Award, *, as_text: bool = False, outcome: str = "exemption"
) -> RecognitionCase:
    """Rival College recognised the learner's Poly Technic badge."""
    module = (
        Achievement.objects.filter(issuer=cast.other_issuer, slug="data-101").first()
        or make_published(cast.outsider, cast.other_issuer, "data-101").achievement
    )
    case = recognition_services.open_case(
        actor=cast.outsider,
        institution=cast.other_institution,
        learner_email=LEARNER,
        module=module,
    )
    if as_text:
        recognition_services.add_evidence(
            actor=cast.outsider, case=case, text=given.credential_json
        )
    else:
        recognition_services.add_evidence(
            actor=cast.outsider, case=case, url=given.credential["id"]
        )
    recognition_services.decide(
        actor=cast.outsider, case=case, outcome=outcome, rationale="Equivalent."
    )
    return case


# Periodic re-check of recognition evidence -------------------------------------------------


def test_the_beat_schedule_runs_the_recheck_every_hour() -> None:
    entry = settings.CELERY_BEAT_SCHEDULE["recheck-recognition-evidence"]
    assert entry["task"] == "frameworks.recognition.tasks.recheck_recognition_evidence"
    schedule = entry["schedule"]
    assert isinstance(schedule, float)
    assert schedule <= 3600
    assert tasks.recheck_recognition_evidence.name == entry["task"]


def test_the_task_flags_a_decision_whose_badge_was_revoked_since(cast: Cast) -> None:
    given = award(cast.awarder, placed(cast), email=LEARNER)
    case = granted_case(cast, given)
    revocation_services.revoke_award(actor=cast.editor, award=given, reason="Issued in error")

    result = recognition_services.recheck_due(now=timezone.now() + LATER)

    assert result == {"checked": 1, "flagged": 1}
    case.refresh_from_db()
    evidence = case.evidence.get()
    assert case.needs_review
    assert case.review_verdict == "revoked"
    assert evidence.later_verdict == "revoked"
    assert evidence.last_verdict == "revoked"
    assert evidence.last_checked_at is not None
    assert recognition_selectors.needs_review(case)


def test_a_stored_credential_has_its_status_checked_again(cast: Cast) -> None:
    given = award(cast.awarder, placed(cast), email=LEARNER)
    case = granted_case(cast, given, as_text=True, outcome="exemption")
    assert case.evidence.get().source_url == ""
    revocation_services.suspend_award(actor=cast.editor, award=given, reason="Under investigation")

    tasks.recheck_recognition_evidence()  # nothing is due yet: checked moments ago
    assert not RecognitionCase.objects.get(pk=case.pk).needs_review
    recognition_services.recheck_due(now=timezone.now() + LATER)

    case.refresh_from_db()
    assert case.needs_review
    assert case.review_verdict == "suspended"


def test_an_expired_badge_flags_the_decision(cast: Cast) -> None:
    given = award(
        cast.awarder,
        placed(cast),
        email=LEARNER,
        valid_until=timezone.now().replace(microsecond=0) + dt.timedelta(seconds=2),
    )
    case = granted_case(cast, given)
    time.sleep(2.5)

    recognition_services.recheck_due(now=timezone.now() + LATER)

    case.refresh_from_db()
    assert case.needs_review
    assert case.review_verdict == "expired"


def test_running_the_task_again_changes_nothing(cast: Cast) -> None:
    given = award(cast.awarder, placed(cast), email=LEARNER)
    case = granted_case(cast, given)
    revocation_services.revoke_award(actor=cast.editor, award=given, reason="Issued in error")
    later = timezone.now() + LATER

    first = recognition_services.recheck_due(now=later)
    second = recognition_services.recheck_due(now=later)

    assert first == {"checked": 1, "flagged": 1}
    assert second == {"checked": 0, "flagged": 0}
    assert AuditEvent.objects.filter(action="recognition.flagged", target=str(case.pk)).count() == 1


def test_a_valid_badge_is_recorded_as_checked_and_not_flagged(cast: Cast) -> None:
    given = award(cast.awarder, placed(cast), email=LEARNER)
    case = granted_case(cast, given)

    assert recognition_services.recheck_due(now=timezone.now() + LATER) == {
        "checked": 1,
        "flagged": 0,
    }

    evidence = case.evidence.get()
    assert evidence.last_verdict == "valid"
    assert evidence.flagged_at is None
    assert not RecognitionCase.objects.get(pk=case.pk).needs_review


def test_cases_without_a_granted_decision_are_not_rechecked(cast: Cast) -> None:
    given = award(cast.awarder, placed(cast), email=LEARNER)
    declined = granted_case(cast, given, outcome="declined")
    undecided = recognition_services.open_case(
        actor=cast.outsider,
        institution=cast.other_institution,
        learner_email=LEARNER,
        module=declined.module,
    )
    recognition_services.add_evidence(
        actor=cast.outsider, case=undecided, url=given.credential["id"]
    )

    assert recognition_selectors.due_for_recheck(timezone.now() + LATER) == []


def test_a_check_that_could_not_be_made_flags_nothing(
    cast: Cast, monkeypatch: pytest.MonkeyPatch
) -> None:
    given = award(cast.awarder, placed(cast), email=LEARNER)
    case = granted_case(cast, given)

    def unreachable(request: object, **kwargs: object) -> Report:
        report = Report(checked_at=timezone.now(), input_kind="url")
        report.add(Check("proof", Status.UNKNOWN, "fetch_failed", "The issuer did not answer."))
        return report

    monkeypatch.setattr("verification.pipeline.verify", unreachable)
    recognition_services.recheck_due(now=timezone.now() + LATER)

    evidence = case.evidence.get()
    assert evidence.last_verdict == "unknown"
    assert evidence.flagged_at is None
    assert not RecognitionCase.objects.get(pk=case.pk).needs_review


def test_flagged_cases_come_first_in_the_console_with_a_marker(cast: Cast, client: Client) -> None:
    revoked = award(cast.awarder, placed(cast), email=LEARNER)
    flagged = granted_case(cast, revoked)
    fine = award(cast.awarder, placed(cast, "data-charts"), email=LEARNER)
    RecognitionCase.objects.filter(pk=flagged.pk).update(
        opened_at=timezone.now() - dt.timedelta(days=3)
    )
    granted_case(cast, fine)
    revocation_services.revoke_award(actor=cast.editor, award=revoked, reason="Issued in error")
    recognition_services.recheck_due(now=timezone.now() + LATER)
    client.force_login(cast.outsider)

    body = client.get(reverse("manage:recognition", args=[cast.other_institution.slug]))
    html = body.content.decode()

    cases = body.context["cases"]
    assert cases[0].pk == flagged.pk
    assert len(cases) == 2
    assert html.count('data-flag="needs-review"') == 1
    assert '<dd data-count="flagged">1</dd>' in html


def test_the_assessor_keeps_a_flagged_decision_with_a_note(cast: Cast, client: Client) -> None:
    given = award(cast.awarder, placed(cast), email=LEARNER)
    case = granted_case(cast, given)
    revocation_services.suspend_award(actor=cast.editor, award=given, reason="Audit")
    recognition_services.recheck_case(actor=cast.outsider, case=case)
    client.force_login(cast.outsider)
    url = reverse("manage:recognition_case", args=[cast.other_institution.slug, case.pk])

    flagged_page = client.get(url).content.decode()
    empty_note = client.post(url, {"action": "reviewed", "note": " "})
    kept = client.post(url, {"action": "reviewed", "note": "Recognised before it was suspended."})

    assert "Suspended: the issuer has put this badge on hold." in flagged_page
    assert empty_note.status_code == 200
    assert kept.status_code == 302
    case.refresh_from_db()
    assert not case.needs_review
    assert case.reviewed_by == cast.outsider
    assert case.review_note == "Recognised before it was suspended."
    assert case.decisions.count() == 1  # the decision stands, untouched


def test_a_new_decision_answers_the_flag(cast: Cast) -> None:
    given = award(cast.awarder, placed(cast), email=LEARNER)
    case = granted_case(cast, given)
    revocation_services.revoke_award(actor=cast.editor, award=given, reason="Issued in error")
    recognition_services.recheck_case(actor=cast.outsider, case=case)

    with pytest.raises(ValidationError):
        recognition_services.decide(
            actor=cast.outsider,
            case=case,
            outcome="credit",
            credits=Decimal(15),
            credit_system=system("nzqcf-credit"),
            rationale="Again.",
        )
    recognition_services.decide(
        actor=cast.outsider, case=case, outcome="declined", rationale="Revoked."
    )

    assert not recognition_selectors.needs_review(case)
    assert case.decisions.count() == 2


def test_another_institution_cannot_review_a_case(cast: Cast, client: Client) -> None:
    given = award(cast.awarder, placed(cast), email=LEARNER)
    case = granted_case(cast, given)
    revocation_services.revoke_award(actor=cast.editor, award=given, reason="Issued in error")
    recognition_services.recheck_case(actor=cast.outsider, case=case)
    client.force_login(cast.owner)

    for slug in (cast.other_institution.slug, cast.institution.slug):
        url = reverse("manage:recognition_case", args=[slug, case.pk])
        assert client.post(url, {"action": "reviewed", "note": "Fine"}).status_code == 404
    assert RecognitionCase.objects.get(pk=case.pk).needs_review


# Pathway review flag -----------------------------------------------------------------------


def completed_pathway(
    cast: Cast, capture: CaptureCallbacks
) -> tuple[PathwayCompletion, list[Award]]:
    parts = [placed(cast, slug) for slug in ("data-cleaning", "data-charts")]
    target = make_published(
        cast.editor, cast.issuer, "data-certificate", achievement_type="Certificate"
    )
    pathway = pathway_services.create_pathway(
        actor=cast.editor,
        institution=cast.institution,
        title_en="Data analyst pathway",
        target=target.achievement,
        root=GroupSpec(rule="all", achievements=[p.achievement for p in parts]),
    )
    with capture(execute=True):
        given = [award(cast.awarder, part, email=LEARNER) for part in parts]
    completion = PathwayCompletion.objects.get(pathway=pathway)
    return completion, given


def test_revoking_a_counted_badge_stores_the_flag_with_when_and_why(
    cast: Cast, django_capture_on_commit_callbacks: CaptureCallbacks
) -> None:
    completion, given = completed_pathway(cast, django_capture_on_commit_callbacks)
    assert not completion.needs_review

    revocation_services.revoke_award(
        actor=cast.editor, award=given[0], reason="Plagiarised portfolio"
    )

    completion.refresh_from_db()
    assert completion.needs_review
    assert completion.review_award == given[0]
    assert completion.review_action == "revoked"
    assert completion.review_reason == "Plagiarised portfolio"
    assert completion.review_flagged_at == Award.objects.get(pk=given[0].pk).status_changed_at
    assert pathway_selectors.needing_review(cast.institution) == [completion]


def test_the_flag_is_read_from_the_store_not_from_award_status(
    cast: Cast, django_capture_on_commit_callbacks: CaptureCallbacks
) -> None:
    completion, given = completed_pathway(cast, django_capture_on_commit_callbacks)
    # A status written around the revocation service does not flag anything…
    Award.objects.filter(pk=given[0].pk).update(status=AwardStatus.REVOKED)
    assert pathway_selectors.needing_review(cast.institution) == []
    # …and a flag set by a suspension stays after the badge is reinstated, until reviewed.
    Award.objects.filter(pk=given[0].pk).update(status=AwardStatus.ACTIVE)
    revocation_services.suspend_award(actor=cast.editor, award=given[1], reason="Check")
    revocation_services.reinstate_award(actor=cast.editor, award=given[1])
    assert pathway_selectors.needing_review(cast.institution) == [completion]


def test_a_bulk_revocation_flags_the_completion_in_the_same_transaction(
    cast: Cast, django_capture_on_commit_callbacks: CaptureCallbacks
) -> None:
    completion, given = completed_pathway(cast, django_capture_on_commit_callbacks)

    revocation_services.bulk_revoke(
        actor=cast.editor,
        awards=Award.objects.filter(pk__in=[a.pk for a in given]),
        reason="Cohort cancelled",
    )

    completion.refresh_from_db()
    assert completion.needs_review
    assert completion.review_reason == "Cohort cancelled"


def test_staff_keep_a_flagged_pathway_credential(
    cast: Cast, client: Client, django_capture_on_commit_callbacks: CaptureCallbacks
) -> None:
    completion, given = completed_pathway(cast, django_capture_on_commit_callbacks)
    revocation_services.revoke_award(actor=cast.editor, award=given[0], reason="Wrong learner")
    client.force_login(cast.editor)
    page = reverse("manage:pathways", args=[cast.institution.slug])
    review = reverse("manage:pathway_review", args=[cast.institution.slug, completion.pk])

    listed = client.get(page).content.decode()
    kept = client.post(review, {"decision": "keep", "note": "Re-assessed in person."}, follow=True)

    assert f'data-completion="{completion.pk}"' in listed
    assert "was revoked on" in listed and "Wrong learner" in listed
    assert "Reviewed: the pathway credential stands." in kept.content.decode()
    assert f'data-completion="{completion.pk}"' not in kept.content.decode()
    completion.refresh_from_db()
    assert (completion.needs_review, completion.review_outcome) == (False, "kept")
    assert completion.award.status == AwardStatus.ACTIVE


def test_staff_revoke_a_flagged_pathway_credential(
    cast: Cast, client: Client, django_capture_on_commit_callbacks: CaptureCallbacks
) -> None:
    completion, given = completed_pathway(cast, django_capture_on_commit_callbacks)
    revocation_services.revoke_award(actor=cast.editor, award=given[0], reason="Wrong learner")
    client.force_login(cast.editor)
    review = reverse("manage:pathway_review", args=[cast.institution.slug, completion.pk])

    no_reason = client.post(review, {"decision": "revoke", "note": ""}, follow=True)
    assert "Give a reason" in no_reason.content.decode()
    assert Award.objects.get(pk=completion.award_id).status == AwardStatus.ACTIVE

    client.post(review, {"decision": "revoke", "note": "A required badge was revoked."})

    completion.refresh_from_db()
    assert (completion.needs_review, completion.review_outcome) == (False, "revoked")
    assert completion.award.status == AwardStatus.REVOKED
    assert completion.award.status_reason == "A required badge was revoked."


def test_viewers_and_outsiders_cannot_review_a_pathway_award(
    cast: Cast, client: Client, django_capture_on_commit_callbacks: CaptureCallbacks
) -> None:
    completion, given = completed_pathway(cast, django_capture_on_commit_callbacks)
    revocation_services.revoke_award(actor=cast.editor, award=given[0], reason="Wrong learner")
    data = {"decision": "revoke", "note": "Hacked"}

    client.force_login(cast.viewer)
    viewer = client.post(
        reverse("manage:pathway_review", args=[cast.institution.slug, completion.pk]), data
    )
    client.force_login(cast.outsider)
    outsider = client.post(
        reverse("manage:pathway_review", args=[cast.other_institution.slug, completion.pk]), data
    )

    assert viewer.status_code == 403
    assert outsider.status_code == 404
    completion.refresh_from_db()
    assert completion.needs_review
    assert completion.award.status == AwardStatus.ACTIVE
    assert Pathway.objects.count() == 1
    assert CaseEvidence.objects.count() == 0
