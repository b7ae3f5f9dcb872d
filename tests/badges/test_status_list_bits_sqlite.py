"""Status-list bits on the embedded default (`make run`: SQLite, tasks run in-process after
commit): the stored bits follow revocation, suspension and reinstatement, and the served lists
equal the bits computed from scratch.

The suite itself runs on PostgreSQL, so this runs `manage.py` in a child process with
development settings on a throw-away SQLite file, as `make run` does.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent

SCRIPT = r"""
import json
from django.test import Client
from awarding.revocation import services as revocation
from badges.models import StatusList
from badges.statuslists.selectors import bitstring
from openbadges import statuslist
from tests.badges.helpers import award, make_published
from tests.base import make_cast

cast = make_cast()
version = make_published(cast.editor, cast.issuer)
badges = [award(cast.awarder, version, email=f"l{n}@example.com") for n in range(4)]
revocation.suspend_award(actor=cast.editor, award=badges[0], reason="Check")
revocation.suspend_award(actor=cast.editor, award=badges[1], reason="Check")
badges[1].refresh_from_db()
revocation.reinstate_award(actor=cast.editor, award=badges[1], reason="")
revocation.revoke_award(actor=cast.editor, award=badges[2], reason="Error")
client = Client()
result = {}
for status_list in StatusList.objects.all():
    signed_after_commit = status_list.signed_version == status_list.version
    served = json.loads(client.get(f"/status/{status_list.pk}").content)
    bits = statuslist.decode(served["credentialSubject"]["encodedList"])
    result[status_list.purpose] = {
        "signed_after_commit": signed_after_commit,
        "served_equals_scratch": bits == bytes(bitstring(status_list)),
        "set": sum(bin(b).count("1") for b in bits),
    }
print("RESULT " + json.dumps(result, sort_keys=True))
"""


def test_the_bits_follow_status_changes_on_sqlite(tmp_path: Path) -> None:
    prefixes = ("INSIGNIA_", "DATABASE_", "DJANGO_", "CELERY_", "BULK_", "EMAIL_")
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(prefixes)},
        "INSIGNIA_ENV": "development",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'insignia.sqlite3'}",
        "SECRET_KEY": "development-secret-for-the-sqlite-status-test-" + "x" * 20,
        "INSIGNIA_KEY_ENCRYPTION_KEY": "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
    }

    def manage(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )

    migrated = manage("migrate", "--noinput")
    assert migrated.returncode == 0, migrated.stderr
    changed = manage("shell", "-c", SCRIPT)

    assert changed.returncode == 0, changed.stderr[-3000:]
    line = next(x for x in changed.stdout.splitlines() if x.startswith("RESULT "))
    # Suspension bits: the suspended and the revoked award (the reinstated one is clear);
    # revocation bits: the revoked award. Each list was signed by the task after its last
    # change committed, and serves exactly the bits computed from scratch.
    assert json.loads(line.removeprefix("RESULT ")) == {
        "revocation": {"signed_after_commit": True, "served_equals_scratch": True, "set": 1},
        "suspension": {"signed_after_commit": True, "served_equals_scratch": True, "set": 2},
    }
