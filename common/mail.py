"""E-mail in the recipient's language, as plain text with an HTML alternative."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.utils import translation


def send_templated_mail(*, to: str, template: str, context: dict[str, Any], language: str) -> None:
    """Render ``emails/<template>_subject.txt``, ``.txt`` and ``.html`` in ``language`` and send.

    Call it from ``transaction.on_commit`` so that a rolled-back change sends nothing.
    """
    with translation.override(language):
        context = {**context, "INSIGNIA_BASE_URL": settings.INSIGNIA_BASE_URL}
        subject = render_to_string(f"emails/{template}_subject.txt", context).strip()
        text = render_to_string(f"emails/{template}.txt", context)
        html = render_to_string(f"emails/{template}.html", context)
    message = EmailMultiAlternatives(subject=" ".join(subject.split()), body=text, to=[to])
    message.attach_alternative(html, "text/html")
    message.send()
