"""Known vulnerabilities of the installed packages, from PyPI's per-project JSON, for indexes that
serve only that: `pip-audit` asks PyPI's per-release JSON, which such a proxy answers with 404,
so there it audits nothing and says only "not found". Run by `make audit` after pip-audit.

PyPI's per-project JSON lists the advisories of the latest release, so a package installed at its
latest release is audited here, and one held back by a pin is named as not audited."""

from __future__ import annotations

import argparse
import sys
from concurrent.futures import ThreadPoolExecutor
from importlib.metadata import distributions

import httpx

PROJECT = "commitment-ledger"


def advisories(client: httpx.Client, name: str, version: str) -> list[str] | None:
    """Ids of the advisories against this release, or None when PyPI cannot say."""
    answer = client.get(f"https://pypi.org/pypi/{name}/json")
    if answer.status_code != 200:
        return None
    project = answer.json()
    if project["info"]["version"] != version:
        return None
    return [f"{v['id']} (fixed in {', '.join(v.get('fixed_in') or ['no release'])})"
            for v in project.get("vulnerabilities") or [] if not v.get("withdrawn")]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ignore-vuln", action="append", default=[],
                        help="an advisory id to accept (document why in the Makefile)")
    ignored = set(parser.parse_args().ignore_vuln)
    installed = sorted({(d.metadata["Name"].lower(), d.version) for d in distributions()
                        if d.metadata["Name"].lower() != PROJECT})
    with httpx.Client(timeout=30) as client, ThreadPoolExecutor(8) as pool:
        found = list(pool.map(lambda package: advisories(client, *package), installed))
    held_back = [f"{name} {version}" for (name, version), ids in zip(installed, found)
                 if ids is None]
    vulnerable = {f"{name} {version}": [i for i in ids if i.split()[0] not in ignored]
                  for (name, version), ids in zip(installed, found) if ids}
    vulnerable = {package: ids for package, ids in vulnerable.items() if ids}
    for package, ids in vulnerable.items():
        print(f"{package}: {'; '.join(ids)}", file=sys.stderr)
    print(f"dependency audit: {len(installed) - len(held_back)} of {len(installed)} packages "
          f"audited, {len(vulnerable)} with a known vulnerability; not audited (not the latest "
          f"release): {', '.join(held_back) or 'none'}")
    return 1 if vulnerable else 0


if __name__ == "__main__":
    sys.exit(main())
