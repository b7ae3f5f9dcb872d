"""Benchmark: build + sign OB 3.0 credentials per core, openbadges vs the Node DB stack.

    .venv/bin/python bench/sign.py [--n 2000] [--node-n 500] [--baseline-root DIR]

Runs in one process on one core (no threads), then runs ``node tests/interop/sign.mjs`` on the
same unsigned credential in the same run. Prints JSON lines: how the platform signs (JSON-LD
to RDF from a template of the credential's shape, ``openbadges.rdftemplate``), the same with
plain pyld for the document (a credential of a shape not seen before; its proof configuration,
whose shape never changes, keeps its template), Node, then a ratio line. Issue 19 targets, per
CPU-second: templated >= 10x Node, new shape >= 5x (``ratio_cpu``, ``ratio_plain_pyld_cpu``;
``ratio`` and ``ratio_plain_pyld`` are the same per wall-clock second). Node's CPU time is its
process's (user + system, GC threads included) for the timed signatures: a second run with
``--n 0`` measures start-up and warm-up, which are subtracted.

``--baseline-root DIR`` also times the ``openbadges`` package of another checkout in the same
run (``git worktree add /tmp/before HEAD`` or ``git archive HEAD | tar -x -C /tmp/before``),
printing its two lines with ``-baseline`` impls and its ratios in the ratio line: before and
after, side by side. Needs ``npm ci`` in tests/interop. Uses the public 1EdTech test key —
benchmark only.
"""

from __future__ import annotations

import argparse
import inspect
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from importlib.metadata import version
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
#: Where ``openbadges`` is imported from: this checkout, or a baseline's (--baseline-root).
CODE_ROOT = Path(os.environ.get("SIGN_BENCH_CODE_ROOT", ROOT))
sys.path.insert(0, str(CODE_ROOT))

from openbadges import dataintegrity, ob3, rdftemplate  # noqa: E402 - after the path tweak
from openbadges.multikey import (  # noqa: E402
    did_key,
    did_key_verification_method,
    private_key_from_bytes,
)

SEED_HEX = "6241a409e6707bb640a0140a8a32bc3d193c33a661747284d6adfa4ed4180be4"  # 1EdTech test key
NOW = datetime(2026, 3, 4, 5, 6, 7, tzinfo=UTC)
NODE = shutil.which("node") or "node"


def cpu_model() -> str:
    """CPU model from /proc/cpuinfo (Linux), else platform.processor()."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def build(issuer_id: str, serial: int) -> dict[str, Any]:
    """A realistic micro-credential (~2.2 KB): every field DESIGN.md §5 lists."""
    return ob3.build_credential(
        id=f"urn:uuid:3f1c2a44-9b7e-4c1e-8f52-{serial:012d}",
        issuer=ob3.Profile(
            id=issuer_id,
            name="Acme University",
            url="https://badges.example.edu/issuers/acme",
            email="badges@acme.example.edu",
            image=ob3.Image("https://badges.example.edu/media/acme.png"),
        ),
        achievement=ob3.Achievement(
            id="https://badges.example.edu/achievements/5a4c0e52/v/3",
            version="3",
            name="Data Literacy 101",
            description="Reads, cleans and explains a data set.",
            criteria_narrative="Pass the **final assessment** with at least 70%.",
            image=ob3.Image("https://badges.example.edu/media/data-literacy.png"),
            achievement_type="MicroCredential",
            tags=("data", "statistics"),
            in_language="en",
            alignments=(
                ob3.Alignment(
                    target_name="NZQCF level 5",
                    target_url="https://www.nzqa.govt.nz/qualifications-standards/level-5",
                    target_framework="NZQCF",
                    target_code="L5",
                ),
            ),
            credits_available=5,
        ),
        recipient=ob3.Recipient("learner@example.com", salt="5f0c8e2b9d1a4c6e8f0a2b4c6d8e0f12"),
        valid_from=NOW,
        valid_until=NOW + timedelta(days=730),
        awarded_date=NOW,
        description="Awarded to learners who completed Data Literacy 101.",
        evidence=(ob3.Evidence(id="https://badges.example.edu/evidence/77", name="Report"),),
        narrative="Completed the capstone project.",
        credential_status=ob3.StatusEntry("https://badges.example.edu/status/3", 94567),
    )


def _plain_pyld() -> Any:
    """Templates off for documents; a baseline checkout may predate ``keep_proof_configs``."""
    if "keep_proof_configs" in inspect.signature(rdftemplate.disabled).parameters:
        return rdftemplate.disabled(keep_proof_configs=True)
    return rdftemplate.disabled()


def bench_python(n: int, warmup: int, templates: bool = True) -> dict[str, Any]:
    """Build and sign ``n`` credentials in this process; check the last one verifies.

    With ``templates`` (how the platform signs) every credential after the first is of a
    shape already seen, so JSON-LD to RDF comes from a template (``openbadges.rdftemplate``);
    without, each one is converted by pyld, as the first credential of a new shape is."""
    if not templates:
        # The proof configuration's shape never changes: it keeps its template.
        with _plain_pyld():
            return bench_python(n, warmup) | {"impl": "python-openbadges-plain-pyld"}
    key = private_key_from_bytes(bytes.fromhex(SEED_HEX))
    issuer_id = did_key(key.public_key())
    method = did_key_verification_method(key.public_key())
    signed: dict[str, Any] = {}
    for serial in range(warmup):
        signed = dataintegrity.sign(
            build(issuer_id, serial), private_key=key, verification_method=method, created=NOW
        )
    start = time.perf_counter()
    cpu_start = time.process_time()
    for serial in range(n):
        # A different ``created`` each time: the proof configuration's hash is cached per
        # distinct text (a bulk chunk shares one), and this measures the uncached cost.
        signed = dataintegrity.sign(
            build(issuer_id, serial),
            private_key=key,
            verification_method=method,
            created=NOW + timedelta(seconds=serial + 1),
        )
    cpu_seconds = time.process_time() - cpu_start
    seconds = time.perf_counter() - start
    assert dataintegrity.verify(signed, public_key=key.public_key())
    return {
        "bench": "sign",
        "impl": "python-openbadges",
        "n": n,
        "seconds": round(seconds, 4),
        "per_sec": round(n / seconds, 1),
        "cpu_seconds": round(cpu_seconds, 4),
        "cpu_per_sec": round(n / cpu_seconds, 1),
        "credential_bytes": len(json.dumps(build(issuer_id, 0))),
    }


def bench_baseline(root: Path, n: int, warmup: int) -> list[dict[str, Any]]:
    """This script's two Python measurements, run in a child process against the
    ``openbadges`` package of the checkout at ``root``."""
    completed = subprocess.run(  # noqa: S603 - this script, fixed arguments
        [
            sys.executable,
            str(Path(__file__).resolve()),
            "--python-only",
            "--n",
            str(n),
            "--warmup",
            str(warmup),
        ],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "SIGN_BENCH_CODE_ROOT": str(root.resolve())},
    )
    lines = [json.loads(line) for line in completed.stdout.splitlines() if line.strip()]
    return [line | {"impl": line["impl"] + "-baseline"} for line in lines]


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _run_node(path: Path, n: int, warmup: int) -> tuple[dict[str, Any], float]:
    """One ``sign.mjs`` run: its JSON line and the CPU seconds the process used."""
    key = private_key_from_bytes(bytes.fromhex(SEED_HEX))
    before = _children_cpu()
    completed = subprocess.run(  # noqa: S603 - fixed script and arguments
        [
            NODE,
            str(ROOT / "tests" / "interop" / "sign.mjs"),
            "--credential",
            str(path),
            "--seed-hex",
            SEED_HEX,
            "--verification-method",
            did_key_verification_method(key.public_key()),
            "--n",
            str(n),
            "--warmup",
            str(warmup),
        ],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT / "tests" / "interop",
    )
    cpu = _children_cpu() - before
    result: dict[str, Any] = json.loads(completed.stdout.strip().splitlines()[-1])
    return result, cpu


def bench_node(n: int, warmup: int) -> dict[str, Any]:
    """Run tests/interop/sign.mjs on the same unsigned credential (and once with ``--n 0``
    for the CPU time of start-up and warm-up)."""
    key = private_key_from_bytes(bytes.fromhex(SEED_HEX))
    unsigned = build(did_key(key.public_key()), 0)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "unsigned.json"
        path.write_text(json.dumps(unsigned))
        result, cpu = _run_node(path, n, warmup)
        _empty, overhead = _run_node(path, 0, warmup)
    cpu_seconds = max(cpu - overhead, 1e-9)
    return result | {
        "cpu_seconds": round(cpu_seconds, 4),
        "cpu_per_sec": round(n / cpu_seconds, 1),
    }


def _ratios(
    prefix: str, python: dict[str, Any], plain: dict[str, Any], node: dict[str, Any]
) -> dict[str, Any]:
    return {
        f"{prefix}ratio": round(python["per_sec"] / node["per_sec"], 2),
        f"{prefix}ratio_plain_pyld": round(plain["per_sec"] / node["per_sec"], 2),
        f"{prefix}ratio_cpu": round(python["cpu_per_sec"] / node["cpu_per_sec"], 2),
        f"{prefix}ratio_plain_pyld_cpu": round(plain["cpu_per_sec"] / node["cpu_per_sec"], 2),
    }


def main() -> None:
    """Run both benchmarks and print JSON lines."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=2000, help="credentials signed by Python")
    parser.add_argument("--node-n", type=int, default=500, help="credentials signed by Node")
    parser.add_argument("--warmup", type=int, default=50)
    parser.add_argument(
        "--baseline-root", type=Path, help="also time the openbadges package of this checkout"
    )
    parser.add_argument("--python-only", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.python_only:
        print(json.dumps(bench_python(args.n, args.warmup)))
        print(json.dumps(bench_python(max(1, args.n // 4), args.warmup, templates=False)))
        return
    machine = {
        "nproc": os.cpu_count(),
        "cpu_model": cpu_model(),
        "python": platform.python_version(),
        "node": subprocess.run(  # noqa: S603 - fixed arguments
            [NODE, "--version"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip(),
        "pyld": version("PyLD"),
        "cryptography": version("cryptography"),
    }
    baseline = (
        [line | machine for line in bench_baseline(args.baseline_root, args.n, args.warmup)]
        if args.baseline_root
        else []
    )
    python = bench_python(args.n, args.warmup) | machine
    plain = bench_python(max(1, args.n // 4), args.warmup, templates=False) | machine
    node = bench_node(args.node_n, args.warmup)
    node = node | {k: v for k, v in machine.items() if k not in node}
    for line in (python, plain, node, *baseline):
        print(json.dumps(line, ensure_ascii=False))
    ratios = _ratios("", python, plain, node)
    if baseline:
        ratios |= _ratios("baseline_", baseline[0], baseline[1], node)
    print(
        json.dumps(
            {
                "bench": "sign",
                "impl": "ratio",
                "n": args.n,
                "per_sec": None,
                "python": machine["python"],
                "node": machine["node"],
                "python_per_sec": python["per_sec"],
                "python_plain_pyld_per_sec": plain["per_sec"],
                "node_per_sec": node["per_sec"],
                "python_cpu_per_sec": python["cpu_per_sec"],
                "python_plain_pyld_cpu_per_sec": plain["cpu_per_sec"],
                "node_cpu_per_sec": node["cpu_per_sec"],
                **ratios,
                # Issue 19, per CPU-second: templated >= 10x, a new shape >= 5x.
                "target": 10.0,
                "target_plain_pyld": 5.0,
                "meets_target": ratios["ratio_cpu"] >= 10.0,
                "meets_target_plain_pyld": ratios["ratio_plain_pyld_cpu"] >= 5.0,
                "nproc": machine["nproc"],
                "cpu_model": machine["cpu_model"],
            }
        )
    )


if __name__ == "__main__":
    main()
