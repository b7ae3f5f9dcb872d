"""The awarding layer: the one home of issuing and changing awards.

Every door that issues a badge (console form, CSV chunk, API, re-issue, pathway completion,
identity change) calls ``awarding.services.award_badges``: it checks the role once and the
institution's policies, turns each request into plain values (``awarding.rules``), and has
``badges.services.store_awards`` build, sign and store them; pathway completion and e-mails
run after commit. Revocation, suspension and reinstatement live here too, because a revoked
award flags the pathway completions that counted it (``frameworks``).
"""
