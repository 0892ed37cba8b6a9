"""`xxgk serve`: the schedule it plans (season cadence, deadline sweeps, per-site overrides), the
job store across restarts (each job once, a missed run made once, never two runs at once), and the
service itself as a user runs it: a subprocess crawling the bundled demo sites on loopback,
alerting a webhook and the console, stopped by SIGTERM mid-crawl (recorded as interrupted, exit 0)
and started again (the crawl resumes); and with the bot, against the fake Bot API server."""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from db.engine import make_engine, upgrade
from db.models import AlertDelivery, CrawlRun, Subscriber
from fake_telegram import TOKEN, FakeTelegram, user
from xxgk.config import ConfigError, Settings, load_settings
from xxgk.demo import DemoServer, plain_site, sites_config, trs_site
from xxgk.service import plan
from xxgk.service.jobstore import TABLE, make_scheduler, read_jobs, sync
from xxgk.service.plan import TZ, JobSpec

REPO = Path(__file__).resolve().parent.parent
ADMIN = user(1001, "王", "管理员")


def _settings(**schedule: Any) -> Settings:
    sites = [{"name": n, "agency": n, "list_urls": [f"http://{n}.example/"]} for n in ("a", "b", "c")]
    return Settings(sites=sites, schedule=schedule)


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=TZ)


def _fires(spec: JobSpec, start: str, n: int) -> list[str]:
    return [f"{d:%Y-%m-%d %a %H:%M}" for d in plan.next_runs(spec, _at(start), n)]


# ---- the plan ----------------------------------------------------------------------------------


def test_crawls_are_daily_in_the_publication_season_and_weekly_otherwise() -> None:
    specs = {s.id: s for s in plan.plan(_settings())}
    assert set(specs) == {"crawl", "sweep", "digest", "retry"}
    crawl = specs["crawl"]
    assert crawl.func == "xxgk.service.jobs:crawl" and crawl.args == ("crawl",)
    assert crawl.name == "抓取 3 个站点：1月1日至4月15日每天，其余时间每周一，02:00"
    # The season: every day, through 4月15日; then Mondays only.
    assert _fires(crawl, "2026-04-13 03:00", 4) == [
        "2026-04-14 Tue 02:00", "2026-04-15 Wed 02:00", "2026-04-20 Mon 02:00", "2026-04-27 Mon 02:00"]
    # The new year starts the season again, whatever the weekday.
    assert _fires(crawl, "2026-12-28 03:00", 3) == ["2027-01-01 Fri 02:00", "2027-01-02 Sat 02:00",
                                                    "2027-01-03 Sun 02:00"]
    assert _fires(crawl, "2026-09-30 12:00", 2) == ["2026-10-05 Mon 02:00", "2026-10-12 Mon 02:00"]


def test_a_season_across_the_new_year_and_monthly_crawls() -> None:
    settings = _settings(season_start="12-20", season_end="01-10", off_season="monthly", crawl_at="6:30")
    specs = {s.id: s for s in plan.plan(settings)}
    crawl = specs["crawl"]
    assert _fires(crawl, "2026-12-18 12:00", 3) == ["2026-12-20 Sun 06:30", "2026-12-21 Mon 06:30",
                                                    "2026-12-22 Tue 06:30"]
    # After 1月10日: the first day of the rest of the year, then the 1st of each month.
    assert _fires(crawl, "2027-01-10 07:00", 3) == ["2027-01-11 Mon 06:30", "2027-02-01 Mon 06:30",
                                                    "2027-03-01 Mon 06:30"]
    whole_year = {s.id: s for s in plan.plan(_settings(season_start="01-01", season_end="12-31"))}["crawl"]
    assert whole_year.name.endswith("全年每天 02:00")
    assert _fires(whole_year, "2026-07-01 03:00", 2) == ["2026-07-02 Thu 02:00", "2026-07-03 Fri 02:00"]


def test_sites_with_their_own_cadence_get_a_job_per_cadence() -> None:
    settings = _settings(sites={"b": {"in_season": "weekly", "off_season": "never", "crawl_at": "03:00"},
                                "c": {"in_season": "weekly", "off_season": "never", "crawl_at": "3:00"},
                                "a": {"crawl_at": "02:00"}})  # the same as the default: stays in "crawl"
    groups = plan.crawl_groups(settings)
    assert {k: v[1] for k, v in groups.items()} == {"crawl": ["a"],
                                                     "crawl:weekly/never/03:00/mon": ["b", "c"]}
    specs = {s.id: s for s in plan.plan(settings)}
    own = specs["crawl:weekly/never/03:00/mon"]
    assert own.args == ("crawl:weekly/never/03:00/mon",)
    assert _fires(own, "2026-04-01 00:00", 3) == ["2026-04-06 Mon 03:00", "2026-04-13 Mon 03:00",
                                                  "2027-01-04 Mon 03:00"]  # never off season
    silent = _settings(sites={"c": {"in_season": "never", "off_season": "never"}})
    assert plan.crawl_groups(silent)["crawl:never/never/02:00/-"][1] == ["c"]
    assert [s.id for s in plan.plan(silent) if s.id.startswith("crawl")] == ["crawl"]  # "c" is never crawled


def test_deadline_sweeps_the_day_after_each_deadline_and_weekly() -> None:
    settings = Settings(deadlines={"department": "01-31", "government": "03-31", "township": "02-28",
                                   "overrides": [{"region": "330200", "date": "02-15"}]},
                        schedule={"sweep_weekday": "wed", "digest_at": "off", "retry_minutes": 0})
    specs = {s.id: s for s in plan.plan(settings)}
    assert set(specs) == {"sweep"}  # no sites, no digest, no retry
    sweep = specs["sweep"]
    assert sweep.name == "核查最近 2 个年度：2月1日、2月16日、3月1日、4月1日（各发布期限次日）及每周三，07:00"
    assert _fires(sweep, "2027-01-29 08:00", 5) == ["2027-02-01 Mon 07:00", "2027-02-03 Wed 07:00",
                                                    "2027-02-10 Wed 07:00", "2027-02-16 Tue 07:00",
                                                    "2027-02-17 Wed 07:00"]


def test_schedule_errors_name_the_key_and_the_file(tmp_path: Path) -> None:
    config = tmp_path / "xxgk.toml"
    cases = {
        '[schedule]\ncrawl_at = "25:00"\n': "schedule.crawl_at",
        '[schedule]\nin_season = "hourly"\n': "schedule.in_season",
        '[schedule]\nseason_end = "02-30"\n': "schedule.season_end",
        '[schedule]\ndigest_at = "soon"\n': "schedule.digest_at",
        '[schedule]\nretry_minutes = -1\n': "schedule.retry_minutes",
        '[schedule]\ncrawl_on = "mon"\n': "schedule.crawl_on",
        '[[sites]]\nname = "a"\nagency = "x"\nlist_urls = ["http://a.example/"]\n'
        '[schedule.sites."b"]\nin_season = "weekly"\n': "schedule",
    }
    for text, key in cases.items():
        config.write_text(text, encoding="utf-8")
        with pytest.raises(ConfigError) as caught:
            load_settings(config)
        message = str(caught.value)
        assert f"（{config}）" in message and f"{key}:" in message, message
    assert "站点不在 [[sites]] 中：b" in message
    config.write_text('[schedule]\ncrawl_at = "7:05"\nsweep_at = "off"\n', encoding="utf-8")
    settings = load_settings(config)
    assert settings.schedule.crawl_at == "07:05"
    assert "sweep" not in {s.id for s in plan.plan(settings)}


# ---- the logs ----------------------------------------------------------------------------------


def test_log_lines_are_one_event_each_with_secrets_blanked() -> None:
    import logging

    from xxgk.service.logs import EventFormatter

    secret = "123456:AAF-secret"

    def record(msg: str, *, event: str | None = None, fields: dict | None = None, exc: bool = False):
        try:
            if exc:
                raise ValueError(f"bad token {secret}\nsecond line")
        except ValueError:
            info = sys.exc_info()
        else:
            info = None
        rec = logging.LogRecord("xxgk.service", logging.WARNING, __file__, 1, msg, None, info)
        if event is not None:
            rec.event, rec.fields = event, fields or {}
        return rec

    kv = EventFormatter(secrets=[secret])
    line = kv.format(record("crawl.site", event="crawl.site", fields={
        "site": "镇海区 人社局", "status": "ok", "n": 3, "ratio": 0.5, "ok": True, "none": None,
        "sites": ["a", "b"], "why": 'say "hi"=x'}))
    assert "\n" not in line and line.startswith("ts=") and " level=warning event=crawl.site " in line
    parsed = dict(_PAIR.findall(line))
    assert parsed["site"] == '"镇海区 人社局"' and parsed["n"] == "3" and parsed["ratio"] == "0.5"
    assert parsed["ok"] == "true" and "none" not in parsed and parsed["sites"] == "a,b"
    assert json.loads(parsed["why"]) == 'say "hi"=x'
    failed = kv.format(record("job.failed", event="job.failed", exc=True))
    assert "\n" not in failed and secret not in failed and "<secret>" in failed
    assert dict(_PAIR.findall(failed))["error"].startswith('"ValueError: bad token <secret>')
    library = kv.format(record(f"GET https://api.telegram.org/bot{secret}/getMe"))
    assert "logger=xxgk.service" in library and secret not in library
    as_json = json.loads(EventFormatter(as_json=True, secrets=[secret]).format(
        record("alerts.sent", event="alerts.sent", fields={"messages": 2, "token": secret})))
    assert as_json["event"] == "alerts.sent" and as_json["messages"] == 2 and as_json["token"] == "<secret>"


# ---- the job store -----------------------------------------------------------------------------

RUNS: list[str] = []  # the test jobs below that ran (or started, for the long ones)
RUNNING: dict[str, int] = {"now": 0, "most": 0}


async def tick(name: str, seconds: float = 0.0) -> None:
    """A job for the store tests (the store refers to it as test_serve:tick)."""
    RUNS.append(name)
    RUNNING["now"] += 1
    RUNNING["most"] = max(RUNNING["most"], RUNNING["now"])
    try:
        await asyncio.sleep(seconds)
    finally:
        RUNNING["now"] -= 1


def _specs(every: float, *, sleep: float = 0.0) -> list[JobSpec]:
    from apscheduler.triggers.cron import CronTrigger
    from apscheduler.triggers.interval import IntervalTrigger

    return [
        JobSpec("daily", f"{__name__}:tick", "每天", CronTrigger(hour=3, timezone=TZ), ("daily",)),
        JobSpec("often", f"{__name__}:tick", "频繁", IntervalTrigger(seconds=every, timezone=TZ),
                ("often", sleep)),
    ]


def _rows(engine) -> list[str]:  # noqa: ANN001
    with engine.connect() as conn:
        return sorted(conn.execute(sa.text(f"SELECT id FROM {TABLE}")).scalars())


def test_job_store_keeps_each_job_once_runs_a_missed_run_once_and_never_overlaps(db_url: str) -> None:
    upgrade(db_url)
    engine = make_engine(db_url)
    RUNS.clear()

    async def start(specs: list[JobSpec]):  # noqa: ANN202
        scheduler = make_scheduler(engine, misfire_grace_s=3 * 3600)
        scheduler.start(paused=True)
        return scheduler, sync(scheduler, specs)

    async def scenario() -> None:
        # First start: the jobs are added; a stale job from an older configuration is not there.
        scheduler, first = await start(_specs(3600))
        assert first.added == ["daily", "often"] and not first.replaced and not first.missed
        scheduler.add_job(f"{__name__}:tick", "interval", hours=1, id="obsolete", args=["obsolete"])
        # The service was stopped for two hours: "often" (hourly) missed two runs.
        scheduler.modify_job("often", next_run_time=datetime.now(UTC) - timedelta(hours=2, seconds=5))
        daily_next = scheduler.get_job("daily").next_run_time
        scheduler.shutdown(wait=False)
        await asyncio.sleep(0.05)
        assert _rows(engine) == ["daily", "obsolete", "often"]

        # Restart: each job once, the obsolete one gone, the missed run kept, then made once.
        scheduler, second = await start(_specs(3600))
        assert second.replaced == ["daily", "often"] and second.removed == ["obsolete"]
        assert second.missed == ["often"] and not second.added
        assert _rows(engine) == ["daily", "often"]
        assert scheduler.get_job("daily").next_run_time == daily_next  # not moved by the restart
        scheduler.resume()
        for _ in range(100):
            if RUNS:
                break
            await asyncio.sleep(0.02)
        await asyncio.sleep(0.3)
        assert RUNS == ["often"]  # two missed runs, coalesced into one
        after = scheduler.get_job("often").next_run_time
        assert timedelta(minutes=59) < after - datetime.now(UTC) <= timedelta(hours=1)
        scheduler.shutdown(wait=False)
        await asyncio.sleep(0.05)

        # A job longer than its interval never runs twice at once (max_instances = 1).
        RUNS.clear()
        scheduler, _ = await start(_specs(0.3, sleep=1.0))
        scheduler.resume()
        await asyncio.sleep(2.6)
        scheduler.shutdown(wait=False)
        await asyncio.sleep(0.05)

    asyncio.run(scenario())
    assert RUNS.count("often") >= 2 and RUNNING["most"] == 1  # started again, never alongside itself
    stored = read_jobs(engine)
    assert stored is not None and [j.id for j in sorted(stored, key=lambda j: j.id)] == ["daily", "often"]
    assert {j.name for j in stored} == {"每天", "频繁"}
    engine.dispose()


# ---- the service, as a user runs it ---------------------------------------------------------------


class Webhook:
    """A webhook receiver on 127.0.0.1: the JSON bodies it was sent."""

    def __init__(self) -> None:
        bodies: list[dict[str, Any]] = []

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                length = int(self.headers.get("Content-Length") or 0)
                bodies.append(json.loads(self.rfile.read(length)))
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.bodies = bodies
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> Webhook:
        self.thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.server.shutdown()
        self.server.server_close()


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("XXGK_")}
    env.update(PYTHONPATH=str(REPO), **extra)
    return env


def _config(path: Path, db_url: str, srv: DemoServer, *, delay: float) -> Path:
    lines = [f"database_url = {json.dumps(db_url)}", "[crawler]", f"per_host_delay_s = {delay}",
             "timeout_s = 10", "backoff_s = 0.05", "check_workers = 1", "allow_private_addresses = true", ""]
    for entry in sites_config(srv):
        lines.append("[[sites]]")
        lines += [f"{key} = {json.dumps(value, ensure_ascii=False)}" for key, value in entry.items()
                  if value is not None]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _cli(*args: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    done = subprocess.run([sys.executable, "-m", "xxgk.cli", *args], capture_output=True, text=True, cwd=cwd,
                          env=env, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    return done


@contextmanager
def serving(tmp_path: Path, name: str, config: Path, env: dict[str, str], *args: str) -> Iterator[Any]:
    """`xxgk serve` running in a subprocess; its stdout and stderr go to files (name.out, name.err)."""
    out, err = tmp_path / f"{name}.out", tmp_path / f"{name}.err"
    with out.open("w") as fo, err.open("w") as fe:
        command = [sys.executable, "-m", "xxgk.cli", "serve", "--config", str(config), *args]
        process = subprocess.Popen(command, stdout=fo, stderr=fe, text=True, cwd=tmp_path, env=env)
        try:
            process.out, process.err = out, err  # type: ignore[attr-defined]
            yield process
        finally:
            if process.poll() is None:
                process.kill()
                process.wait(10)


_PAIR = re.compile(r'(\w+)=("(?:[^"\\]|\\.)*"|\S*)')


def events(path: Path) -> list[dict[str, str]]:
    """The key=value log lines of a file, parsed (every line must be one)."""
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        fields = {k: json.loads(v) if v.startswith('"') else v for k, v in _PAIR.findall(line)}
        assert "ts" in fields and "level" in fields, f"not a structured log line: {line!r}"
        out.append(fields)
    return out


def wait_until(check: Callable[[], Any], timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def _logged(process: Any, name: str, **fields: str) -> Callable[[], list[dict[str, str]]]:
    def check() -> list[dict[str, str]]:
        return [e for e in events(process.err) if e.get("event") == name
                and all(e.get(k) == v for k, v in fields.items())]
    return check


def _stop(process: Any, sig: int) -> None:
    process.send_signal(sig)
    assert process.wait(60) == 0, process.err.read_text(encoding="utf-8")[-3000:]


def _runs(engine) -> list[Any]:  # noqa: ANN001
    with engine.connect() as conn:
        return conn.execute(sa.select(CrawlRun.__table__).order_by(CrawlRun.__table__.c.id)).all()


def test_serve_crawls_alerts_stops_on_sigterm_and_resumes(tmp_path: Path, db_url: str) -> None:
    with DemoServer([plain_site(), trs_site()], warm=False, slow_delay=0.3) as srv, Webhook() as hook:
        config = _config(tmp_path / "xxgk.toml", db_url, srv, delay=0.3)
        env = _env()
        _cli("alerts", "subscribe", "督查-webhook", "--channel", "webhook", "--target", hook.url,
             "--min-severity", "info", "--config", str(config), cwd=tmp_path, env=env)
        _cli("alerts", "subscribe", "督查-控制台", "--channel", "console", "--config", str(config),
             cwd=tmp_path, env=env)
        engine = make_engine(db_url)

        # 1. First start: the sites were never crawled, so they are crawled at once. SIGTERM mid-crawl.
        with serving(tmp_path, "first", config, env, "--no-bot") as first:
            wait_until(_logged(first, "crawl.start"), 60, "the first crawl")
            wait_until(lambda: len(srv.requests) >= 3, 30, "the crawl to be under way")
            _stop(first, signal.SIGTERM)
        log = events(first.err)
        started = next(e for e in log if e.get("event") == "service.started")
        assert started["added"] == "crawl,sweep,digest,retry" and started["bot"] == "false"
        assert set(started["new_sites"].split(",")) == {"jiashan-plain", "lianjiang-trs"}
        assert _logged(first, "crawl.interrupted")() and _logged(first, "service.stopped")()
        assert not _logged(first, "crawl.done")()
        text = first.err.read_text(encoding="utf-8")
        assert "Traceback" not in text and "level=debug" not in text  # no --verbose
        runs = _runs(engine)
        assert {r.site for r in runs} == {"jiashan-plain", "lianjiang-trs"}
        for run in runs:  # recorded as cut short, with how far it got: never as ok
            assert run.finished_at is not None and run.status in ("interrupted", "failed")
            assert run.errors[0].startswith("抓取被中断（服务停止）") and "下次抓取继续" in run.errors[0]
        assert sorted(j.id for j in read_jobs(engine) or []) == ["crawl", "digest", "retry", "sweep"]
        assert not hook.bodies

        # 2. Start again (no pause between requests now): the interrupted crawls resume at once,
        #    the sweep that follows opens findings, their alerts reach the webhook and the console.
        fast = {**env, "XXGK_CRAWLER__PER_HOST_DELAY_S": "0"}
        with serving(tmp_path, "second", config, fast, "--no-bot") as second:
            wait_until(_logged(second, "job.done", job="crawl:start"), 90, "the resumed crawl")
            wait_until(lambda: hook.bodies, 10, "an alert at the webhook")
            _stop(second, signal.SIGINT)
        started = _logged(second, "service.started")()[0]
        assert started["added"] == "" and started["removed"] == ""
        assert started["replaced"] == "crawl,sweep,digest,retry"  # the same jobs, not new ones
        assert set(started["resumed_sites"].split(",")) == {"jiashan-plain", "lianjiang-trs"}
        sites = {e["site"]: e for e in _logged(second, "crawl.site")()}
        assert sites["lianjiang-trs"]["status"] == "ok" and int(sites["lianjiang-trs"]["new"]) == 5
        assert sites["jiashan-plain"]["status"] in ("ok", "partial")
        assert _logged(second, "sweep.year")() and _logged(second, "alerts.sent", kind="immediate")()

        latest = {r.site: r for r in _runs(engine)}
        assert latest["lianjiang-trs"].status == "ok"
        with engine.connect() as conn:
            d, s = AlertDelivery.__table__, Subscriber.__table__
            states = dict(conn.execute(
                sa.select(s.c.name, sa.func.count()).join(d, d.c.subscriber_id == s.c.id)
                .where(d.c.state == "sent").group_by(s.c.name)).all())
            waiting = conn.execute(sa.select(sa.func.count()).select_from(d)
                                   .where(d.c.state.in_(("pending", "sending")))).scalar_one()
        assert waiting == 0
        assert states["督查-webhook"] == len(hook.bodies) >= 1
        assert all(b["kind"] == "alert" and b["count"] == 1 and b["subscriber"] == "督查-webhook"
                   for b in hook.bodies)
        assert {b["alerts"][0]["year"] for b in hook.bodies} <= {2019, 2020, 2021, 2022, 2023}
        console = second.out.read_text(encoding="utf-8")
        assert console.count("【政务公开告警") == states["督查-控制台"] >= 1

        # The job store holds each job once, and `xxgk status` shows them with the crawls.
        with engine.connect() as conn:
            assert conn.execute(sa.text(f"SELECT count(*) FROM {TABLE}")).scalar_one() == 4
        status = json.loads(_cli("status", "--json", "--config", str(config), cwd=tmp_path, env=env).stdout)
        assert sorted(j["id"] for j in status["jobs"]) == ["crawl", "digest", "retry", "sweep"]
        assert all(datetime.fromisoformat(j["next_run"]) > datetime.now(UTC) for j in status["jobs"])
        crawls = {c["site"]: c for c in status["crawls"]}
        assert crawls["lianjiang-trs"]["status"] == "ok" and crawls["lianjiang-trs"]["reports_found"] == 5
        assert status["alerts"]["pending"] == 0 and status["findings"]["total"] >= 1
        engine.dispose()


def test_serve_with_the_bot_answers_and_alerts_through_the_same_bot(tmp_path: Path, db_url: str) -> None:
    with DemoServer([plain_site()], warm=False) as srv, FakeTelegram.in_thread() as fake:
        config = _config(tmp_path / "xxgk.toml", db_url, srv, delay=0)
        env = _env(XXGK_BOT__TOKEN=TOKEN, XXGK_BOT__BASE_URL=fake.base_url,
                   XXGK_BOT__ADMINS=f"[{ADMIN['id']}]")
        _cli("alerts", "subscribe", "管理员", "--channel", "telegram", "--target", str(ADMIN["id"]),
             "--config", str(config), cwd=tmp_path, env=env)
        fake.send(ADMIN, "/help")  # the admin has written to the bot: it may write to them
        with serving(tmp_path, "bot", config, env, "--verbose") as process:
            reply = fake.wait_for_sync("sendMessage", where=lambda c: "/approve" in c.text, timeout=60)
            alert = fake.wait_for_sync("sendMessage", where=lambda c: "政务公开告警" in c.text, timeout=60)
            wait_until(_logged(process, "job.done", job="crawl:start"), 60, "the crawl at start")
            _stop(process, signal.SIGTERM)
        assert reply.params["chat_id"] == alert.params["chat_id"] == ADMIN["id"]
        assert len(fake.find("getMe")) == 1  # the alerts went through the bot's own Bot, not a second one
        started = _logged(process, "service.started")()[0]
        assert started["bot"] == "true"
        assert _logged(process, "job.start", job="crawl:start", level="debug")()  # --verbose
        assert _logged(process, "crawl.progress", site="jiashan-plain", level="debug")()
        assert _logged(process, "bot.started", username="xxgk_test_bot")()
        assert _logged(process, "bot.stopped")()
        output = process.out.read_text(encoding="utf-8") + process.err.read_text(encoding="utf-8")
        assert TOKEN not in output and TOKEN.split(":")[1] not in output
        engine = make_engine(db_url)
        with engine.connect() as conn:
            d = AlertDelivery.__table__
            sent = conn.execute(sa.select(sa.func.count()).select_from(d)
                                .where(d.c.state == "sent")).scalar_one()
        engine.dispose()
        alerts = fake.find("sendMessage", where=lambda c: "政务公开告警" in c.text)
        assert sent == len(alerts) >= 1

        # A token Telegram refuses: a clear error, status 2, the token never shown.
        with serving(tmp_path, "badtoken", config, {**env, "XXGK_BOT__TOKEN": "654321:wrong-token"}) as bad:
            assert bad.wait(60) == 2
        output = bad.out.read_text(encoding="utf-8") + bad.err.read_text(encoding="utf-8")
        assert "Telegram 不接受这个机器人令牌" in output and "wrong-token" not in output
