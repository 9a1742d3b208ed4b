"""How long Samen takes to acknowledge `/samen help`, against a bare Bolt app on the same gunicorn.

    .venv/bin/python bench/ack_latency.py [--requests 2000] [--concurrency 8] [--workers 2] [--threads 8]

Starts two servers on free loopback ports:
- Samen, through its own CLI (`samen serve`, real gunicorn), on a temporary SQLite database, with
  SLACK_API_URL pointing at a Slack double in this process (`/samen help` acks directly and calls
  no Slack method; the double counts the calls to prove it);
- a bare Bolt app that only acks `/samen` (bench/bare_app.py), under the identical gunicorn options.
Then a separate process plays Slack: N signed, form-encoded `/samen help` requests per server at
concurrency C, after an excluded warm-up, in alternating rounds (bare, Samen, Samen, bare, …) so
that drift of the machine affects both alike. Prints p50 and p99 per server and the ratios
Samen/bare against the target (≤ 1.5 at p50 and at p99). Exits 0 unless `--strict` and a target is
missed (or a request failed).
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from _common import (
    BENCH_DIR,
    LOOPBACK,
    ROOT,
    SIGNING_SECRET,
    child_env,
    free_port,
    http_answers,
    http_ok,
    machine_notes,
    percentile,
    samen_env,
    slack_double,
    start_process,
    stop_on_sigterm,
    stop_process,
    verdict,
    wait_until,
)

from bot.slack.wsgi import SLACK_PATH

if TYPE_CHECKING:
    from slackdouble import SlackDouble

TARGET_RATIO = 1.5
FORM = "application/x-www-form-urlencoded"


# -- the load generator (runs in its own process) -------------------------------------------------


def _signed_requests(count: int, seed: int) -> list[tuple[bytes, dict[str, str]]]:
    """`count` slash-command requests as Slack sends them, each with its own trigger_id, signed now."""
    from slack_sdk.signature import SignatureVerifier

    from slackdouble import Payloads

    payloads = Payloads()
    verifier = SignatureVerifier(SIGNING_SECRET)
    timestamp = str(int(time.time()))
    built = []
    for i in range(count):
        fields = payloads.command("/samen", "help", user=f"U0BENCH{(seed + i) % 97:04d}")
        body = urlencode(fields).encode("utf-8")
        signature = verifier.generate_signature(timestamp=timestamp, body=body)
        headers = {
            "Content-Type": FORM,
            "X-Slack-Request-Timestamp": timestamp,
            "X-Slack-Signature": str(signature),
            "User-Agent": "Slackbot 1.0 (+https://api.slack.com/robots)",
        }
        if not _KEEPALIVE:
            headers["Connection"] = "close"
        built.append((body, headers))
    return built


_KEEPALIVE = False


def _fire(
    port: int, requests: list[tuple[bytes, dict[str, str]]], concurrency: int
) -> tuple[list[float], Counter[str], list[int]]:
    """Send all `requests` with `concurrency` threads; (latencies in s, errors, response sizes)."""
    latencies: list[float] = []
    sizes: list[int] = []
    errors: Counter[str] = Counter()
    lock = threading.Lock()
    pending = iter(requests)

    def worker() -> None:
        connection: http.client.HTTPConnection | None = None
        while True:
            with lock:
                item = next(pending, None)
            if item is None:
                break
            body, headers = item
            started = time.perf_counter()
            try:
                if connection is None:
                    connection = http.client.HTTPConnection(LOOPBACK, port, timeout=30)
                connection.request("POST", SLACK_PATH, body, headers)
                answer = connection.getresponse()
                data = answer.read()
                elapsed = time.perf_counter() - started
                if not _KEEPALIVE or answer.will_close:
                    connection.close()
                    connection = None
            except (OSError, http.client.HTTPException) as exc:
                with lock:
                    errors[type(exc).__name__] += 1
                if connection is not None:
                    connection.close()
                connection = None
                continue
            with lock:
                if answer.status == 200:
                    latencies.append(elapsed)
                    sizes.append(len(data))
                else:
                    errors[f"HTTP {answer.status}"] += 1
        if connection is not None:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return latencies, errors, sizes


def drive(spec: dict[str, Any]) -> dict[str, Any]:
    """Warm up every target, then measure them in alternating rounds; JSON-able results."""
    global _KEEPALIVE
    _KEEPALIVE = bool(spec["keepalive"])
    ports: dict[str, int] = spec["ports"]
    concurrency = int(spec["concurrency"])
    total, rounds, warmup = int(spec["requests"]), int(spec["rounds"]), int(spec["warmup"])
    results: dict[str, dict[str, Any]] = {
        name: {"latencies": [], "errors": Counter(), "sizes": [], "seconds": 0.0} for name in ports
    }
    for port in ports.values():
        _fire(port, _signed_requests(warmup, seed=0), concurrency)
    order = list(ports)
    per_round = [total // rounds + (1 if r < total % rounds else 0) for r in range(rounds)]
    for number, count in enumerate(per_round):
        for name in order if number % 2 == 0 else list(reversed(order)):
            requests = _signed_requests(count, seed=number)
            started = time.perf_counter()
            latencies, errors, sizes = _fire(ports[name], requests, concurrency)
            results[name]["seconds"] += time.perf_counter() - started
            results[name]["latencies"] += latencies
            results[name]["errors"].update(errors)
            results[name]["sizes"] += sizes[:1]
    return {name: {**r, "errors": dict(r["errors"])} for name, r in results.items()}


# -- the servers ------------------------------------------------------------------------------------


def _samen_argv() -> list[str]:
    cli = Path(sys.executable).parent / "samen"
    if cli.exists():
        return [str(cli)]
    found = shutil.which("samen")
    return [found] if found else [sys.executable, "-c", "from bot.cli import main; main()"]


def _report(args: argparse.Namespace, results: dict[str, Any], doubles: dict[str, SlackDouble]) -> bool:
    def row(name: str, label: str) -> tuple[float, float]:
        r = results[name]
        ms = [x * 1000 for x in r["latencies"]]
        p50, p99 = percentile(ms, 50), percentile(ms, 99)
        rate = len(ms) / r["seconds"] if r["seconds"] else float("nan")
        errors = sum(r["errors"].values())
        print(
            f"{label:<16}{p50:>9.2f}{p99:>9.2f}{sum(ms) / max(1, len(ms)):>9.2f}{max(ms, default=0):>9.2f}"
            f"{rate:>9.0f}{len(ms):>8}{errors:>8}"
        )
        if r["errors"]:
            print(f"{'':<16}errors: {r['errors']}")
        return p50, p99

    print(f"{'':<16}{'p50 ms':>9}{'p99 ms':>9}{'mean ms':>9}{'max ms':>9}{'req/s':>9}{'ok':>8}{'errors':>8}")
    bare50, bare99 = row("bare", "bare Bolt app")
    samen50, samen99 = row("samen", "Samen")
    ratio50, ratio99 = samen50 / bare50, samen99 / bare99
    print(f"{'Samen/bare':<16}{ratio50:>9.2f}{ratio99:>9.2f}")
    pass50, pass99 = ratio50 <= TARGET_RATIO, ratio99 <= TARGET_RATIO
    print(f"target p50 ratio ≤ {TARGET_RATIO}: {verdict(pass50)} ({ratio50:.2f})")
    print(f"target p99 ratio ≤ {TARGET_RATIO}: {verdict(pass99)} ({ratio99:.2f})")
    sizes = {name: (r["sizes"] or [0])[0] for name, r in results.items()}
    print(f"answer size: Samen {sizes['samen']} bytes (the help message), bare {sizes['bare']} bytes")
    for name, double in doubles.items():
        # Bolt's single-team authorization asks auth.test on a worker's first requests; nothing else
        # should reach Slack for `/samen help`.
        calls = Counter(call.method for call in double.calls)
        print(f"Slack calls by {'Samen' if name == 'samen' else 'the bare app'}: {dict(calls) or 'none'}")
    failed = any(r["errors"] for r in results.values())
    return pass50 and pass99 and not failed


def run(args: argparse.Namespace) -> bool:
    workdir = Path(tempfile.mkdtemp(prefix="samen-bench-ack-"))
    processes: list[subprocess.Popen[bytes]] = []
    driver: subprocess.Popen[bytes] | None = None
    try:
        # One double per server, so that what each one asked of Slack can be told apart.
        with slack_double() as double, slack_double() as bare_double:
            samen_port, bare_port = free_port(), free_port()
            while bare_port == samen_port:
                bare_port = free_port()
            base_env = child_env()
            base_env.pop("SLACK_APP_TOKEN", None)  # `serve` is HTTP anyway; keep the child clean
            env = samen_env(database_url=f"sqlite:///{workdir / 'samen.db'}", api_url=double.base_url)
            gunicorn_args = ["--workers", str(args.workers), "--threads", str(args.threads)]
            samen_log, bare_log = workdir / "samen.log", workdir / "bare.log"
            samen = start_process(
                [*_samen_argv(), "serve", "--host", LOOPBACK, "--port", str(samen_port), *gunicorn_args],
                env={**base_env, **env},
                cwd=workdir,  # no .env of a developer's checkout is read
                log=samen_log,
            )
            processes.append(samen)
            bare = start_process(
                [sys.executable, str(BENCH_DIR / "bare_app.py"), "--port", str(bare_port), *gunicorn_args],
                env={
                    **base_env,
                    "SLACK_SIGNING_SECRET": SIGNING_SECRET,
                    "SLACK_API_URL": bare_double.base_url,
                },
                cwd=workdir,
                log=bare_log,
            )
            processes.append(bare)
            wait_until(
                lambda: http_ok(f"http://{LOOPBACK}:{samen_port}/healthz"),
                timeout=60,
                what="samen serve",
                process=samen,
                log=samen_log,
            )
            wait_until(
                lambda: http_answers(LOOPBACK, bare_port),
                timeout=60,
                what="the bare Bolt app",
                process=bare,
                log=bare_log,
            )
            warmup = args.warmup if args.warmup is not None else max(50, args.requests // 10)
            spec = {
                "ports": {"bare": bare_port, "samen": samen_port},
                "requests": args.requests,
                "concurrency": args.concurrency,
                "rounds": args.rounds,
                "warmup": warmup,
                "keepalive": args.keepalive,
            }
            print(f"machine: {machine_notes()}")
            print(
                f"/samen help: {args.requests} requests per server (after {warmup} warm-up), "
                f"concurrency {args.concurrency}, {args.rounds} alternating rounds, "
                f"{'keep-alive' if args.keepalive else 'a new connection per request'}; "
                f"gunicorn gthread, {args.workers} worker(s) × {args.threads} thread(s), both servers"
            )
            sys.stdout.flush()
            driver = subprocess.Popen(
                [sys.executable, str(Path(__file__).resolve()), "--drive", json.dumps(spec)],
                env=base_env,
                cwd=ROOT,
                stdout=subprocess.PIPE,
            )
            output, _ = driver.communicate()
            if driver.returncode != 0:
                raise RuntimeError(f"the load generator failed with exit code {driver.returncode}")
            results = json.loads(output)
            return _report(args, results, {"samen": double, "bare": bare_double})
    finally:
        if driver is not None and driver.poll() is None:
            driver.kill()
            driver.wait()
        for process in processes:
            stop_process(process)
        if args.keep_logs:
            print(f"logs kept in {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=2000, help="measured requests per server")
    parser.add_argument("--concurrency", type=int, default=8, help="requests in flight at once")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (samen serve's default)")
    parser.add_argument("--threads", type=int, default=8, help="threads per worker (samen serve's default)")
    parser.add_argument("--warmup", type=int, default=None, help="excluded requests per server first")
    parser.add_argument("--rounds", type=int, default=10, help="alternating measurement rounds")
    parser.add_argument("--keepalive", action="store_true", help="reuse connections (default: one each)")
    parser.add_argument("--strict", action="store_true", help="exit 1 when a target is missed")
    parser.add_argument("--keep-logs", action="store_true", help="keep the servers' logs")
    parser.add_argument("--drive", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.drive:
        try:
            json.dump(drive(json.loads(args.drive)), sys.stdout)
        except KeyboardInterrupt:
            raise SystemExit(130) from None
        return
    if min(args.requests, args.concurrency, args.workers, args.threads, args.rounds) < 1:
        parser.error("--requests, --concurrency, --workers, --threads and --rounds must be at least 1")
    stop_on_sigterm()
    try:
        passed = run(args)
    except KeyboardInterrupt:
        print("interrupted; servers stopped", file=sys.stderr)
        raise SystemExit(130) from None
    if args.strict and not passed:
        raise SystemExit(1)


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    main()
