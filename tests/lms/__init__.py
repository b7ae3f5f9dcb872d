"""A small LTI 1.3 Advantage platform (a mini LMS) for the test suite.

It runs as its own process (``python -m tests.lms.platform --port 0``, no Django in it) and is
built on the PyPI library ``lti1p3platform`` for registrations and keys, OIDC login
initiation, launch messages, deep-linking responses, access tokens and the AGS/NRPS token
checks. :mod:`tests.lms.server` starts it from a test and wraps its control API;
:mod:`tests.lms.tool` is a throwaway pylti1p3 tool the LMS's own tests launch into.
"""
