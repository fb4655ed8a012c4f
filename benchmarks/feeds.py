"""Feed requests per second, side by side in one run, for one feed document of the demo data:
(a) the ledger directly (`ledger serve`, uvicorn), (b) behind the nginx cache of
deploy/nginx/ledger.conf, (c) nginx serving the same bytes as a static file, (d) a plain FastAPI
route building the same feed with feedgen on every request (uvicorn).

    python -m benchmarks.feeds [--path /feeds/changes.atom] [--rounds 3] [--duration 4]

Each figure is the median of `--rounds` wrk runs; the four are measured in turn in every round,
so a burst of load from elsewhere on the machine weighs on all of them alike. nginx gets half
the CPUs (one worker per two), wrk the rest.

Needs nginx and wrk (`make debian-packages`). Everything runs on 127.0.0.1 in a temporary folder
and is stopped at the end. Also home of `render_nginx` and `running_nginx`, which the end-to-end
test of the cache (tests/e2e/test_nginx_cache.py) uses too.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
NGINX_DIR = ROOT / "deploy" / "nginx"
SUBTITLE = "Changes recorded by the Commitment Ledger, newest first"  # api/feed_documents.py
#: (c): the same bytes as a static file with the same Content-Type, in the same nginx as (b)
STATIC = """\
server {{
    listen 127.0.0.1:{port};
    location = {path} {{
        alias {file};
        types {{ }}
        default_type "{content_type}";
    }}
}}
"""


def nginx_binary() -> str | None:
    """nginx on PATH, or Debian's /usr/sbin/nginx (not on an unprivileged user's PATH)."""
    found = shutil.which("nginx")
    if found:
        return found
    return "/usr/sbin/nginx" if os.access("/usr/sbin/nginx", os.X_OK) else None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# --- nginx with the documented configuration --------------------------------------------------

def render_nginx(directory: Path, port: int, upstream_port: int, workers: str = "1") -> Path:
    """A full nginx.conf in `directory` around deploy/nginx/ledger.conf, copied unchanged but for
    the upstream port, the listen address (127.0.0.1:`port`) and the cache folder. Extra server
    blocks can be dropped into `directory`/extra/*.conf. Returns the nginx.conf path."""
    conf = (NGINX_DIR / "ledger.conf").read_text()
    for pattern, replacement in (
        (r"^(\s*)server 127\.0\.0\.1:8000;", f"server 127.0.0.1:{upstream_port};"),
        (r"^(\s*)listen 80;", f"listen 127.0.0.1:{port};"),
        (r"^()proxy_cache_path /var/cache/nginx/ledger ", f"proxy_cache_path {directory}/cache "),
    ):
        conf, count = re.subn(pattern, lambda match, new=replacement: match.group(1) + new, conf,
                              flags=re.MULTILINE)
        if count != 1:
            raise ValueError(f"deploy/nginx/ledger.conf: expected one line matching {pattern!r}, "
                             f"found {count}; keep the deployment values where the renderer looks")
    for folder in ("cache", "temp", "extra"):
        (directory / folder).mkdir(parents=True, exist_ok=True)
    (directory / "ledger.conf").write_text(conf)
    values = {"@DIR@": str(directory), "@WORKERS@": workers,
              "@USER@": "user root;" if os.geteuid() == 0 else ""}
    lines = (NGINX_DIR / "standalone.conf.template").read_text().splitlines(keepends=True)
    for number, line in enumerate(lines):
        if not line.lstrip().startswith("#"):  # the header comment keeps the placeholders' names
            for placeholder, value in values.items():
                line = line.replace(placeholder, value)
            lines[number] = line
    main = "".join(lines)
    leftover = re.findall(r"^[^#\n]*@[A-Z]+@", main, flags=re.MULTILINE)
    if leftover:
        raise ValueError(f"standalone.conf.template: unreplaced placeholders {leftover}")
    path = directory / "nginx.conf"
    path.write_text(main)
    return path


@dataclass
class Nginx:
    base: str
    directory: Path
    process: subprocess.Popen

    def error_log(self) -> str:
        path = self.directory / "error.log"
        return path.read_text(errors="replace") if path.exists() else ""


@contextmanager
def running_nginx(directory: Path, port: int, upstream_port: int, workers: str = "1",
                  binary: str | None = None) -> Iterator[Nginx]:
    """nginx in the foreground with the rendered configuration, until it accepts connections on
    127.0.0.1:`port`; stopped (SIGQUIT, then SIGKILL) at the end."""
    binary = binary or nginx_binary()
    if binary is None:
        raise FileNotFoundError("nginx is not installed (make debian-packages)")
    conf = render_nginx(directory, port, upstream_port, workers)
    test = subprocess.run([binary, "-t", "-q", "-p", str(directory), "-e",
                           str(directory / "error.log"), "-c", str(conf)],
                          capture_output=True, text=True, timeout=30)
    if test.returncode != 0:
        raise RuntimeError(f"nginx -t refused the configuration:\n{test.stderr}")
    process = subprocess.Popen([binary, "-p", str(directory), "-e", str(directory / "error.log"),
                                "-c", str(conf)], stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    nginx = Nginx(f"http://127.0.0.1:{port}", directory, process)
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                if process.poll() is not None:
                    raise RuntimeError(f"nginx exited ({process.returncode}):\n"
                                       f"{nginx.error_log()}") from None
                if time.monotonic() > deadline:
                    raise RuntimeError("nginx did not listen within 20 s") from None
                time.sleep(0.05)
        yield nginx
    finally:
        stop(process, signal.SIGQUIT)


def stop(process: subprocess.Popen, how: int = signal.SIGTERM) -> None:
    """Stop one process we started, by its id; kill it if it does not stop within 10 s."""
    if process.poll() is None:
        process.send_signal(how)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


# --- the ledger and the plain app ----------------------------------------------------------------

@contextmanager
def running_python(args: list[str], port: int, env: dict[str, str], log: Path) -> Iterator[str]:
    """`python ARGS` serving on 127.0.0.1:`port`, its output in `log`, from when it answers HTTP
    (any status) until the end, when it is terminated."""
    with log.open("wb") as output:
        process = subprocess.Popen([sys.executable, *args], cwd=ROOT, env=env,
                                   stdout=output, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                httpx.get(f"{base}/", timeout=5)
                break
            except httpx.TransportError:
                if process.poll() is not None:
                    raise RuntimeError(f"{args} exited:\n{log.read_text()}") from None
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{args} did not answer within 60 s") from None
                time.sleep(0.2)
        yield base
    finally:
        stop(process)


@contextmanager
def ledger_serving(database_url: str, log: Path, **settings: str) -> Iterator[tuple[str, int]]:
    """`ledger serve` on a free port with no background work (no projector, tick or
    checkpoints) and LEDGER_* `settings`: its base URL and port."""
    port = free_port()
    env = {**os.environ, "LEDGER_DATABASE_URL": database_url, "LEDGER_PROJECT_IN_PROCESS": "false",
           "LEDGER_TICK_INTERVAL": "0", "LEDGER_CHECKPOINT_INTERVAL": "0",
           **{f"LEDGER_{name.upper()}": value for name, value in settings.items()}}
    with running_python(["-m", "api.cli", "serve", "--host", "127.0.0.1", "--port", str(port)],
                        port, env, log) as base:
        yield base, port


def plain_app():  # noqa: ANN201 - a FastAPI app, for `uvicorn --factory`
    """(d): the current document of /feeds/changes.atom, built on every request as a plain route
    would: count and query the change-log rows, then feedgen (feeds.atom.build_atom). No memo,
    no ETag. Settings from LEDGER_* like the ledger's."""
    from fastapi import FastAPI, Response

    from api.feed_documents import EMPTY_UPDATED
    from api.routes.feeds import ALL
    from api.settings import Settings
    from feeds.atom import build_atom
    from feeds.model import FeedSpec, last_updated, tag
    from projections.queries import changes, count_changes
    from projections.store import open_view

    settings = Settings()
    view = open_view(settings.database_url)
    base, size = settings.public_url.rstrip("/"), settings.feed_page_size
    app = FastAPI()

    @app.get("/feeds/changes.atom")
    def changes_atom() -> Response:
        number = count_changes(view, ALL.where) // size + 1  # the page being filled
        rows = changes(view, ALL.where, limit=size, offset=(number - 1) * size)
        url = f"{base}/feeds/{ALL.path}"
        spec = FeedSpec(
            title=ALL.title, subtitle=SUBTITLE, base_url=base, self_url=f"{url}.atom",
            html_url=base + ALL.html_path, feed_id=tag(f"feeds/{ALL.path}"),
            updated=last_updated(rows, EMPTY_UPDATED), hub_url=settings.websub_hub,
            prev_archive_url=f"{url}/archive/{number - 1}.atom" if number > 1 else None,
        )
        return Response(build_atom(spec, rows), media_type="application/atom+xml; charset=utf-8")

    return app


# --- wrk ---------------------------------------------------------------------------------------

@dataclass
class Run:
    rps: float
    errors: str  # "" when every response was 2xx/3xx and no socket error happened


def nginx_workers() -> int:
    """Half the CPUs for nginx, the other half for wrk on the same machine."""
    return max(1, (os.cpu_count() or 2) // 2)


def wrk(url: str, threads: int, connections: int, duration: int) -> Run:
    result = subprocess.run(
        ["wrk", f"-t{threads}", f"-c{connections}", f"-d{duration}s", "--timeout", "10s", url],
        capture_output=True, text=True, timeout=duration + 60, check=True)
    rps = re.search(r"^Requests/sec:\s+([\d.]+)", result.stdout, re.MULTILINE)
    if rps is None:
        raise RuntimeError(f"no Requests/sec line in wrk's output:\n{result.stdout}")
    errors = [line.strip() for line in result.stdout.splitlines()
              if line.strip().startswith(("Socket errors", "Non-2xx"))]
    return Run(float(rps.group(1)), "; ".join(errors))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--path", default="/feeds/changes.atom",
                        help="the feed document (the plain app (d) builds /feeds/changes.atom)")
    parser.add_argument("--rounds", type=int, default=3, help="wrk runs per figure (median)")
    parser.add_argument("--duration", type=int, default=4, help="seconds per wrk run")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--connections", type=int, default=32)
    args = parser.parse_args(argv)
    if nginx_binary() is None or shutil.which("wrk") is None:
        raise SystemExit("needs nginx and wrk: make debian-packages")

    from projections.runner import Projector

    folder = Path(tempfile.mkdtemp(prefix="ledger-bench-feeds-"))
    try:
        url = f"sqlite:///{folder}/ledger.db"
        ports = {name: free_port() for name in ("app", "plain", "nginx", "static")}
        env = {**os.environ, "LEDGER_DATABASE_URL": url, "LEDGER_TICK_INTERVAL": "0",
               "LEDGER_CHECKPOINT_INTERVAL": "0",
               "LEDGER_PUBLIC_URL": f"http://127.0.0.1:{ports['nginx']}"}
        subprocess.run([sys.executable, "-m", "api.cli", "demo"], cwd=ROOT, env=env, check=True,
                       capture_output=True, timeout=300)
        with Projector(url) as projector:
            projector.catch_up()
        with ExitStack() as stack:
            app = stack.enter_context(running_python(
                ["-m", "api.cli", "serve", "--host", "127.0.0.1", "--port", str(ports["app"])],
                ports["app"], env, folder / "app.log"))
            plain = stack.enter_context(running_python(
                ["-m", "uvicorn", "benchmarks.feeds:plain_app", "--factory", "--host",
                 "127.0.0.1", "--port", str(ports["plain"]), "--no-access-log",
                 "--log-level", "warning"], ports["plain"], env, folder / "plain.log"))
            document = httpx.get(app + args.path, timeout=30)
            document.raise_for_status()
            static = folder / "static"
            static.mkdir()
            (static / "feed").write_bytes(document.content)
            (folder / "nginx" / "extra").mkdir(parents=True)
            (folder / "nginx" / "extra" / "static.conf").write_text(STATIC.format(
                port=ports["static"], path=args.path, file=static / "feed",
                content_type=document.headers["content-type"]))
            nginx = stack.enter_context(running_nginx(folder / "nginx", ports["nginx"],
                                                      ports["app"], workers=str(nginx_workers())))
            static_base = f"http://127.0.0.1:{ports['static']}"
            statuses = [httpx.get(nginx.base + args.path).headers.get("x-cache-status")
                        for _ in range(2)]
            cached = httpx.get(nginx.base + args.path)
            served = httpx.get(static_base + args.path)
            rebuilt = httpx.get(plain + "/feeds/changes.atom", timeout=30)
            same = {"(b)": cached.content == document.content,
                    "(c)": served.content == document.content
                    and served.headers["content-type"] == document.headers["content-type"],
                    "(d)": rebuilt.content == document.content}
            targets = {"a": app + args.path, "b": nginx.base + args.path,
                       "c": static_base + args.path, "d": plain + "/feeds/changes.atom"}
            runs: dict[str, list[Run]] = {name: [] for name in targets}
            for _ in range(args.rounds):
                for name, target in targets.items():
                    runs[name].append(wrk(target, args.threads, args.connections, args.duration))
        report(args, document, statuses, same, runs)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def report(args: argparse.Namespace, document: httpx.Response, statuses: list, same: dict,
           runs: dict[str, list[Run]]) -> None:
    entries = document.content.count(b"<entry>")
    labels = {"a": "the ledger directly (uvicorn)",
              "b": "behind the nginx cache of deploy/nginx/ledger.conf",
              "c": "nginx serving the same bytes as a static file",
              "d": "plain FastAPI route, feedgen on every request"}
    rps = {name: statistics.median(run.rps for run in done) for name, done in runs.items()}
    ratio_bc, ratio_ad = rps["b"] / rps["c"], rps["a"] / rps["d"]
    workers = nginx_workers()
    lines = [
        f"feeds: GET {args.path} ({len(document.content):,} bytes, {entries} entries, demo data, "
        f"max-age 60); wrk -t{args.threads} -c{args.connections} -d{args.duration}s, median of "
        f"{args.rounds} interleaved rounds; {os.cpu_count()} CPUs, {workers} nginx worker(s); "
        f"nginx cache status on repeat: {' then '.join(map(str, statuses))}",
    ]
    for name, done in runs.items():
        spread = ", ".join(f"{run.rps:,.0f}" for run in done)
        errors = "; ".join(run.errors for run in done if run.errors)
        lines.append(f"  ({name}) {labels[name]:<52} {rps[name]:>9,.1f} req/s  ({spread})"
                     + (f"  [{errors}]" if errors else ""))
    lines += [
        f"  (b)/(c) = {ratio_bc:.2f}  (target >= 0.8: {'met' if ratio_bc >= 0.8 else 'NOT met'})",
        f"  (a)/(d) = {ratio_ad:.1f}  (target >= 5: {'met' if ratio_ad >= 5 else 'NOT met'})",
        "  same bytes as (a): " + ", ".join(f"{k} {'yes' if v else 'NO'}" for k, v in same.items()),
    ]
    print("\n".join(lines))


if __name__ == "__main__":
    main()
