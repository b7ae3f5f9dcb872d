"""``POST /api/v1/verify``: JSON in, the same report as the page out.

Anonymous (verifiers are strangers), so no session and no CSRF; limited per client with 429
and ``Retry-After``, and shed with 429 when too many verifications are already running.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.validators import ProhibitSurrogateCharactersValidator
from rest_framework.views import APIView

from verification import pipeline, ratelimit, services
from verification.extract import TEXT_MAX_BYTES, UPLOAD_MAX_BYTES
from verification.models import OwnVerificationChannel
from verification.report import Verdict


def _too_many(retry_after: int) -> Response:
    return Response(
        {"detail": "Too many verification requests; retry later.", "retry_after": retry_after},
        status=429,
        headers={"Retry-After": str(retry_after)},
    )


class VerifyAPI(APIView):
    authentication_classes: list[Any] = []
    permission_classes = [AllowAny]

    class InputSerializer(serializers.Serializer[Any]):
        url = serializers.URLField(
            required=False, max_length=2048, help_text="A badge or credential URL."
        )
        credential = serializers.JSONField(
            required=False, help_text="The credential as a JSON object, or a compact JWS string."
        )
        image = serializers.CharField(
            required=False,
            max_length=(UPLOAD_MAX_BYTES * 4) // 3 + 8,
            help_text="A baked PNG or SVG, base64-encoded (≤ 5 MiB decoded).",
        )
        email = serializers.CharField(
            required=False,
            allow_blank=True,
            max_length=320,
            help_text="Recipient to check: an e-mail address, a student number or a sign-in "
            "name. A match is reported in the recipient check (code match; its detail names "
            "the identifier type, studentId or sourcedId, when it was not the e-mail).",
        )
        receipt = serializers.BooleanField(
            required=False, default=False, help_text="Also sign and store a receipt."
        )

        def validate_credential(self, value: Any) -> Any:
            # A JSON string may escape a lone surrogate (\ud800), which no UTF-8 text holds:
            # refused as the text fields refuse it, not a 500 later.
            if isinstance(value, str):
                ProhibitSurrogateCharactersValidator()(value)
            return value

        def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
            given = [k for k in ("url", "credential", "image") if attrs.get(k) not in (None, "")]
            if len(given) != 1:
                raise serializers.ValidationError("Give exactly one of url, credential or image.")
            return attrs

    @extend_schema(
        operation_id="verify_credential",
        summary="Verify a badge or credential",
        request=InputSerializer,
        responses={
            200: OpenApiResponse(
                response=inline_serializer(
                    "VerificationReport",
                    {
                        "verdict": serializers.ChoiceField(
                            choices=[
                                "valid",
                                "tampered",
                                "invalid",
                                "revoked",
                                "suspended",
                                "expired",
                                "not_yet_valid",
                                "not_recipient",
                                "unknown",
                                "too_complex",
                                "too_slow",
                                "bad_input",
                            ]
                        ),
                        "valid": serializers.BooleanField(),
                        "headline": serializers.CharField(),
                        "format": serializers.CharField(),
                        "checked_at": serializers.DateTimeField(),
                        "checks": serializers.ListField(child=serializers.DictField()),
                        "claims": serializers.DictField(),
                        "receipt": serializers.URLField(required=False),
                    },
                ),
                description="The verification report (also for credentials that are not valid).",
            ),
            400: OpenApiResponse(OpenApiTypes.OBJECT, description="Malformed request."),
            422: OpenApiResponse(
                OpenApiTypes.OBJECT,
                description="Nothing verifiable was found; the body is a report with verdict "
                "bad_input.",
            ),
            415: OpenApiResponse(
                OpenApiTypes.OBJECT,
                description="The body is not JSON, a form or multipart form data.",
            ),
            429: OpenApiResponse(
                OpenApiTypes.OBJECT, description="Rate limited or overloaded; see Retry-After."
            ),
        },
        tags=["verification"],
    )
    def post(self, request: Request) -> Response:
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        email = str(data.get("email") or "")
        asked = pipeline.VerifyRequest(email=email)
        if data.get("url"):
            asked.url = data["url"]
        elif data.get("image"):
            try:
                asked.upload = base64.b64decode(data["image"], validate=True)
            except (binascii.Error, ValueError):
                return Response({"image": ["Not valid base64."]}, status=400)
        else:
            credential = data["credential"]
            asked.text = credential if isinstance(credential, str) else json.dumps(credential)
            if len(asked.text.encode("utf-8")) > TEXT_MAX_BYTES:
                return Response({"credential": ["Larger than 1 MiB."]}, status=400)
        try:
            report = ratelimit.verify_within_limits(request, asked)
        except ratelimit.Limited as limited:
            return _too_many(limited.retry_after)
        services.count_own_verification(report, OwnVerificationChannel.API)
        body = report.as_json()
        if data.get("receipt"):
            receipt = services.create_receipt(
                report_json=body, digest=services.credential_digest(report.credential)
            )
            body["receipt"] = receipt.document["id"]
        return Response(body, status=422 if report.verdict is Verdict.BAD_INPUT else 200)
