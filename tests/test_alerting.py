"""Alerting that wakes someone: the rules Prometheus evaluates, the metrics they read, the runbook they
point to, and the same rules for Kubernetes.

The rules are tested with `promtool test rules` (deploy/prometheus/tests/): for every alert, series
that make it fire and series that must leave it quiet. Under CI=true a missing promtool is a failure.
"""

from __future__ import annotations

import os
import platform
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from apscheduler.triggers.cron import CronTrigger
from conftest import make_settings
from prometheus_client.parser import text_string_to_metric_families
from sqlmodel import Session

from bot import __version__, metrics
from bot.clock import SettableClock
from bot.db import make_engine, upgrade
from bot.jobs import all_jobs
from bot.jobs.housekeeping import JOBS as HOUSEKEEPING
from bot.runtime import Services
from bot.scheduler import JobRun, ScheduledJob, last_successes, run_once

ROOT = Path(__file__).resolve().parent.parent
PROMETHEUS = ROOT / "deploy" / "prometheus"
RULES = PROMETHEUS / "samen-alerts.yaml"
RULE_TESTS = sorted((PROMETHEUS / "tests").glob("*.yaml"))
PROMETHEUS_RULE = ROOT / "deploy" / "k8s" / "monitoring" / "prometheus-rule.yaml"
RUNBOOK = ROOT / "docs" / "operations.md"
DAY = 24 * 3600


def alert_rules() -> list[dict[str, Any]]:
    loaded = yaml.safe_load(RULES.read_text("utf-8"))
    return [rule for group in loaded["groups"] for rule in group["rules"] if "alert" in rule]


def samples(text: str) -> dict[str, dict[tuple[tuple[str, str], ...], float]]:
    """A scrape as {metric name: {sorted labels: value}}."""
    found: dict[str, dict[tuple[tuple[str, str], ...], float]] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found.setdefault(sample.name, {})[tuple(sorted(sample.labels.items()))] = sample.value
    return found


def by_job(scrape: dict[str, dict[tuple[tuple[str, str], ...], float]], name: str) -> dict[str, float]:
    return {dict(labels)["scheduled_job"]: value for labels, value in scrape.get(name, {}).items()}


# -- promtool ------------------------------------------------------------------------------------------


def promtool() -> str:
    found = shutil.which("promtool")
    if found:
        return found
    if os.environ.get("CI") == "true":
        pytest.fail("promtool is missing: .ci/run installs it (Debian's prometheus package)")
    pytest.skip("promtool is not installed (apt-get install --no-install-recommends prometheus)")


def run_promtool(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [promtool(), *args], cwd=PROMETHEUS, capture_output=True, text=True, timeout=300, check=False
    )


def test_the_rules_and_the_example_configuration_are_valid_for_prometheus() -> None:
    checked = run_promtool("check", "rules", RULES.name)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert f"SUCCESS: {len(alert_rules())} rules found" in checked.stdout
    config = run_promtool("check", "config", "prometheus.example.yaml")
    assert config.returncode == 0, config.stdout + config.stderr


def test_every_rule_fires_when_it_should_and_stays_quiet_when_it_should_not() -> None:
    tested = run_promtool("test", "rules", *(str(path.relative_to(PROMETHEUS)) for path in RULE_TESTS))
    assert tested.returncode == 0, tested.stdout + tested.stderr
    assert tested.stdout.count("SUCCESS") == len(RULE_TESTS)


def test_every_alert_has_a_case_that_fires_and_one_that_stays_quiet() -> None:
    fires: set[str] = set()
    quiet: set[str] = set()
    for path in RULE_TESTS:
        suite = yaml.safe_load(path.read_text("utf-8"))
        assert suite["rule_files"] == ["../samen-alerts.yaml"], f"{path.name} tests the shipped rules"
        for case in suite["tests"]:
            for check in case.get("alert_rule_test", []):
                (fires if check["exp_alerts"] else quiet).add(check["alertname"])
    names = {rule["alert"] for rule in alert_rules()}
    assert names - fires == set(), "alerts never seen firing"
    assert names - quiet == set(), "alerts never seen staying quiet"
    # Every firing case checks the texts the person woken up will read.
    for path in RULE_TESTS:
        for case in yaml.safe_load(path.read_text("utf-8"))["tests"]:
            for check in case.get("alert_rule_test", []):
                for expected in check["exp_alerts"]:
                    assert "summary" in expected["exp_annotations"], f"{path.name}: {case['name']}"


# -- the rules themselves -------------------------------------------------------------------------------


def runbook_anchors() -> set[str]:
    """GitHub's anchors of docs/operations.md's headings."""
    prose = re.sub(r"^```.*?^```", "", RUNBOOK.read_text("utf-8"), flags=re.MULTILINE | re.DOTALL)
    headings = re.findall(r"^#+ (.+)$", prose, flags=re.MULTILINE)
    return {re.sub(r"[^a-z0-9 -]", "", heading.lower()).replace(" ", "-") for heading in headings}


def test_every_alert_says_what_happened_and_which_runbook_section_to_follow() -> None:
    anchors = runbook_anchors()
    runbook = RUNBOOK.read_text("utf-8")
    for rule in alert_rules():
        name = rule["alert"]
        assert rule["labels"]["severity"] in {"critical", "warning"}, name
        assert re.fullmatch(r"\d+m", rule["for"]), f"{name}: waits before it wakes anyone"
        annotations = rule["annotations"]
        assert annotations["summary"] and annotations["description"], name
        assert name in annotations["description"], f"{name}: the description names the runbook section"
        page, _, anchor = annotations["runbook"].partition("#")
        assert page == "docs/operations.md" and anchor in anchors, f"{name}: no section #{anchor}"
        assert re.search(rf"^#+ {name}$", runbook, flags=re.MULTILINE), f"{name}: not in the runbook"


def test_the_rules_read_only_metrics_samen_exports() -> None:
    exported = set(re.findall(r'"(samen_[a-z_]+)"', (ROOT / "bot" / "metrics.py").read_text("utf-8")))
    for rule in alert_rules():
        for used in re.findall(r"\bsamen_[a-z_]+", rule["expr"]):
            assert re.sub(r"_(count|bucket|sum)$", "", used) in exported, f"{rule['alert']}: {used}"
    jobs = set(re.findall(r"samen-[a-z]+", RULES.read_text("utf-8")))
    assert jobs == {"samen-web", "samen-worker", "samen-socket"}, "scrape jobs as deploy/ names them"


def test_kubernetes_gets_the_same_rules_as_prometheus() -> None:
    sys.path.insert(0, str(PROMETHEUS))
    try:
        from to_prometheusrule import prometheus_rule
    finally:
        sys.path.remove(str(PROMETHEUS))
    assert PROMETHEUS_RULE.read_text("utf-8") == prometheus_rule(RULES.read_text("utf-8")), (
        "run python3 deploy/prometheus/to_prometheusrule.py"
    )
    manifest = yaml.safe_load(PROMETHEUS_RULE.read_text("utf-8"))
    assert (manifest["apiVersion"], manifest["kind"]) == ("monitoring.coreos.com/v1", "PrometheusRule")
    assert manifest["spec"] == yaml.safe_load(RULES.read_text("utf-8"))


# -- the metrics the rules read -------------------------------------------------------------------------


@pytest.fixture
def partnership(database_url: str) -> Iterator[Services]:
    upgrade(database_url)
    services = Services.build(make_settings(database_url), engine=make_engine(database_url))
    yield services
    services.engine.dispose()


def test_every_process_reports_when_each_job_last_succeeded_whichever_worker_ran_it(
    partnership: Services,
) -> None:
    purge = HOUSEKEEPING[0]
    before = time.time()
    assert run_once(partnership, purge, worker="worker-a")
    assert not run_once(partnership, purge, worker="worker-b")
    # A web process that runs no job reads the same truth from the database as the workers do.
    web = make_engine(partnership.settings.database_url)
    try:
        scrape = samples(metrics.render(web)[0].decode())
    finally:
        web.dispose()
    last = by_job(scrape, "samen_job_last_success_timestamp_seconds")
    assert set(last) == {purge.name}, "jobs that never succeeded have no last success"
    assert before - 1 <= last[purge.name] <= time.time()
    periods = by_job(scrape, "samen_job_period_seconds")
    assert set(periods) == {job.name for job in all_jobs()}
    assert periods["checkins"] == 60
    assert periods["intervention_reminders"] == 300
    assert periods[purge.name] == DAY
    assert periods["weekly_digest"] == 7 * DAY


def broken_sweep(_session: Session, _services: Services, _now: datetime) -> None:
    raise RuntimeError("the sweep fails")


def test_a_run_that_fails_is_no_success(partnership: Services) -> None:
    job = ScheduledJob(
        name="sweep",
        trigger=lambda zone: CronTrigger(minute="*/5", timezone=zone),
        run=broken_sweep,
        slot_format="%Y-%m-%dT%H:%M%z",
    )
    with pytest.raises(RuntimeError):
        run_once(partnership, job, worker="worker-a")
    collector = metrics.ScheduleCollector(partnership.engine, jobs=[job])
    reported = {family.name: family.samples for family in collector.collect()}
    assert reported["samen_job_last_success_timestamp_seconds"] == []
    assert [sample.value for sample in reported["samen_job_period_seconds"]] == [300]


def test_the_newest_run_counts_also_in_the_hour_the_clocks_go_back(
    services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    # 25 October 2026, 02:30 in Amsterdam for the second time (01:30 UTC). The minute job's slots of the
    # first 02:xx (+0200) sort above those of the second (+0100), though they are older.
    now = datetime(2026, 10, 25, 1, 30, tzinfo=UTC)
    services.clock = SettableClock(now)
    first_pass = datetime(2026, 10, 25, 0, 0, tzinfo=UTC)
    with services.session() as session:
        for minute in range(60):
            at = first_pass + timedelta(minutes=minute)
            session.add(
                JobRun(job="checkins", slot=f"2026-10-25T02:{minute:02}+0200", worker="a", started_at=at)
            )
        for minute in range(31):
            at = now - timedelta(minutes=30 - minute)
            session.add(
                JobRun(job="checkins", slot=f"2026-10-25T02:{minute:02}+0100", worker="a", started_at=at)
            )
        # The weekly digest last ran five weeks ago: outside the recent slots, still found.
        digest_at = now - timedelta(weeks=5)
        session.add(JobRun(job="weekly_digest", slot="2026-W38", worker="b", started_at=digest_at))
    with services.session() as session:
        found = last_successes(session, all_jobs())
    assert found == {"checkins": now, "weekly_digest": digest_at}


def test_build_info_names_the_release_and_python() -> None:
    scrape = samples(metrics.render(None)[0].decode())
    assert scrape["samen_build_info"] == {
        (("python", platform.python_version()), ("version", __version__)): 1.0
    }


def test_without_its_database_a_process_still_answers_the_scrape_but_without_database_gauges(
    tmp_path: Path,
) -> None:
    # The premise of SamenDatabaseUnreachable: the process is up, its database gauges are gone.
    unreachable = make_engine(f"sqlite:///{tmp_path}/missing/samen.db")
    try:
        scrape = samples(metrics.render(unreachable)[0].decode())
    finally:
        unreachable.dispose()
    assert "samen_build_info" in scrape
    assert "samen_outbox_backlog" not in scrape
    assert "samen_job_period_seconds" not in scrape
