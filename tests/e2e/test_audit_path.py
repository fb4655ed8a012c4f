"""The auditor's path of the README, run verbatim on a ledger served fresh as `make run` serves
it: the demo loaded, a signer key made, `ledger serve` with its default tick and checkpoint
intervals."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.servers import serving

LEDGER = [sys.executable, "-m", "api.cli"]
README = Path(__file__).parents[2] / "README.md"


def readme_audit_commands() -> str:
    """The first shell block of the README's "Verifiable history" section."""
    section = README.read_text().split("## Verifiable history", 1)[1]
    return re.search(r"```sh\n(.*?)```", section, re.S).group(1)


def wait_for_checkpoint(base: str) -> None:
    deadline = time.monotonic() + 120
    while httpx.get(f"{base}/v1/audit/checkpoint").status_code != 200:
        assert time.monotonic() < deadline, "no checkpoint within 120 s of starting"
        time.sleep(0.2)


def test_the_readmes_audit_commands_succeed_on_a_freshly_served_ledger(database_url, tmp_path):
    key_file = tmp_path / "signing.key"
    env = {**os.environ, "LEDGER_DATABASE_URL": database_url,
           "LEDGER_SIGNING_KEY_FILE": str(key_file),
           "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"}
    subprocess.run([*LEDGER, "demo", "--if-empty"], env=env, check=True, capture_output=True)
    printed = subprocess.run([*LEDGER, "key", "generate", "--if-missing"], env=env, check=True,
                             capture_output=True).stdout.decode()
    with serving(database_url, tick_interval="3600", checkpoint_interval="300",
                 signing_key_file=str(key_file)) as server:
        wait_for_checkpoint(server.base)  # issued on start, not an interval later
        lapsed = httpx.get(f"{server.base}/v1/changes", params={"kind": "DeadlineLapsed"})
        assert lapsed.json()["changes"], "the deadline tick runs on start"
        script = readme_audit_commands().replace("http://127.0.0.1:8000", server.base)
        # curl as written, except that an HTTP error fails the script instead of printing
        shell = 'set -e\ncurl() { command curl --fail-with-body "$@"; }\n' + script
        result = subprocess.run(["bash", "-c", shell], cwd=tmp_path, env=env,
                                capture_output=True, timeout=600)
    output = result.stdout.decode()
    assert result.returncode == 0, result.stderr.decode() + output
    assert (tmp_path / "verifier.key").read_text() == printed
    assert output.count("verified commitment-ledger.local/log at tree size") == 2, output
    assert "ok: var/witness.json created" in output
    assert (tmp_path / "var" / "witness.json").exists()
    assert (tmp_path / "tile-0-000").stat().st_size == 256 * 32
    assert "ok: leaf " in output and ", AllegationResolved of allegations/" in output
