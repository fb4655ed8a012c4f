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


def advisories(client: httpx.Client, name: str, version: str) -> list[str] | str:
    """Ids of the advisories against this release, or why PyPI cannot say."""
    answer = client.get(f"https://pypi.org/pypi/{name}/json")
    if answer.status_code != 200:
        return f"{name} {version} (HTTP {answer.status_code})"
    project = answer.json()
    if project["info"]["version"] != version:
        return f"{name} {version} (latest {project['info']['version']})"
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
        results = list(pool.map(lambda package: advisories(client, *package), installed))
    unaudited = [found for found in results if isinstance(found, str)]
    vulnerable = {f"{name} {version}": [i for i in found if i.split()[0] not in ignored]
                  for (name, version), found in zip(installed, results)
                  if isinstance(found, list)}
    vulnerable = {package: ids for package, ids in vulnerable.items() if ids}
    for package, ids in vulnerable.items():
        print(f"{package}: {'; '.join(ids)}", file=sys.stderr)
    print(f"dependency audit: {len(installed) - len(unaudited)} of {len(installed)} packages "
          f"audited, {len(vulnerable)} with a known vulnerability; not audited: "
          f"{', '.join(unaudited) or 'none'}")
    return 1 if vulnerable else 0


if __name__ == "__main__":
    sys.exit(main())
