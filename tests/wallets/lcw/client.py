"""Run the Node wallet (``wallet.mjs``: Digital Bazaar's ``@digitalbazaar/vc`` making the
DIDAuth presentation, as the Learner Credential Wallet does) against a live test server."""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.interop.test_node_interop import INTEROP_DIR, node_bin

WALLET = Path(__file__).resolve().parent / "wallet.mjs"


@dataclass
class WalletRun:
    returncode: int
    line: dict[str, Any]
    stderr: str


def run_wallet(exchange_url: str, *options: str) -> WalletRun:
    """``node wallet.mjs EXCHANGE_URL OPTIONS…``; its one JSON line of output."""
    completed = subprocess.run(
        [node_bin(), str(WALLET), exchange_url, *options],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
        cwd=INTEROP_DIR,
    )
    lines = [line for line in completed.stdout.splitlines() if line.strip()]
    assert lines, completed.stderr
    return WalletRun(completed.returncode, json.loads(lines[-1]), completed.stderr)
