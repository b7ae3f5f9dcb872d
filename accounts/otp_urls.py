"""Two-step sign-in pages, under the console's ``manage`` namespace at ``account/two-step/``
(``account`` is a reserved institution slug). A person's own pages: no institution in the
URL; they are listed in ``tests/issuers/test_tenant_isolation.py`` as personal pages."""

from django.urls import path

from accounts import otp_views

manage_patterns = [
    path("account/two-step/", otp_views.otp_settings, name="otp_settings"),
    path("account/two-step/set-up/", otp_views.otp_enrol, name="otp_enrol"),
    path("account/two-step/verify/", otp_views.otp_verify, name="otp_verify"),
    path(
        "account/two-step/recovery-codes/",
        otp_views.otp_recovery_codes,
        name="otp_recovery_codes",
    ),
    path("account/two-step/turn-off/", otp_views.otp_remove, name="otp_remove"),
]
