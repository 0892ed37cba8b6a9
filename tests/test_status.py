"""`xxgk status` and `xxgk config check` as a user runs them (subprocesses): the jobs and their next
runs from the job store, the last crawl of each site (ok, failed and why, cut short, never),
open findings by severity and alerts waiting — on a store built through the product's own paths;
and the configuration checked without starting anything."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from checks import model as cm
from checks.model import CST
from compliance.sweep import sweep
from db import crawlstate
from db.engine import make_engine, session, upgrade
from db.models import AlertDelivery, CrawlRun, Subscriber
from store_builders import BALANCE, report, save
from xxgk.config import DeadlinesConfig, load_settings
from xxgk.service import plan
from xxgk.service.jobstore import make_scheduler, sync
from xxgk.service.work import record_interrupted

REPO = Path(__file__).resolve().parent.parent
SITES = ("ok-site", "bad-site", "cut-site", "new-site")


def xxgk(*args: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    full = {k: v for k, v in os.environ.items() if not k.startswith("XXGK_")}
    full.update(PYTHONPATH=str(REPO), **(env or {}))
    return subprocess.run([sys.executable, "-m", "xxgk.cli", *args], capture_output=True, text=True, cwd=cwd,
                          env=full, timeout=120)


def _config(tmp_path: Path, db_url: str, extra: str = "") -> Path:
    lines = [f"database_url = {json.dumps(db_url)}"]
    for name in SITES:
        lines += ["[[sites]]", f'name = "{name}"', f'agency = "{name}"',
                  f'list_urls = ["http://{name}.example/"]']
    path = tmp_path / "xxgk.toml"
    path.write_text("\n".join(lines) + "\n" + extra, encoding="utf-8")
    return path


def _build(db_url: str, config: Path) -> None:
    """Three open findings (one of each severity) with an alert each for a webhook subscriber (one
    delivery waiting, one cut short while sending, one given up); crawls of each kind; the jobs."""
    upgrade(db_url)
    engine = make_engine(db_url)
    now = datetime.now(UTC)
    with session(engine) as s:
        s.add(Subscriber(name="督查", channel="webhook", target="http://127.0.0.1:9/hook", min_severity="info",
                         created_at=now))
    warning = cm.Finding(rule="stale_text", severity="warning", message="沿用往年文字", where="一、总体情况")
    info = cm.Finding(rule="suspicious_value", severity="info", message="数值疑似录入错误", where="二、主动公开")
    save(engine, report("甲县人民政府", 2021, 5, findings=[BALANCE, warning]), datetime(2022, 1, 10, tzinfo=CST),
         "ok-site")
    save(engine, report("乙县人民政府", 2021, 7, findings=[info]), datetime(2022, 1, 12, tzinfo=CST), "ok-site")
    result = sweep(engine, 2021, today=datetime(2022, 6, 1).date(), now=now, deadlines=DeadlinesConfig())
    assert result.opened == 3 and result.alerts == 3
    deliveries = AlertDelivery.__table__
    with session(engine) as s:
        ids = sorted(s.connection().execute(sa.select(deliveries.c.id)).scalars())
        s.connection().execute(sa.update(deliveries).where(deliveries.c.id == ids[1]).values(state="sending"))
        s.connection().execute(sa.update(deliveries).where(deliveries.c.id == ids[2]).values(state="failed"))
        at = now - timedelta(hours=3)
        s.add(CrawlRun(site="ok-site", started_at=at, finished_at=at + timedelta(minutes=2), status="ok",
                       reports_found=2, reports_new=2))
        s.add(CrawlRun(site="bad-site", started_at=at, finished_at=at, status="ok", reports_found=1))
        s.add(CrawlRun(site="bad-site", started_at=now, finished_at=now, status="failed",
                       errors=["http://bad-site.example/：HTTP 503", "robots.txt 无法读取"]))
        s.add(CrawlRun(site="gone-site", started_at=at, finished_at=at, status="ok"))
    started = datetime.now(UTC)
    with session(engine) as s:
        crawlstate.start_runs(s, ["cut-site"])
    assert record_interrupted(engine, ["cut-site"], started, {"cut-site": (3, 10)}) == ["cut-site"]

    async def jobs() -> None:  # the jobs, as `xxgk serve` stores them at start
        scheduler = make_scheduler(engine, misfire_grace_s=3600)
        scheduler.start(paused=True)
        sync(scheduler, plan.plan(load_settings(config)))
        scheduler.shutdown(wait=False)
        await asyncio.sleep(0.05)

    asyncio.run(jobs())
    engine.dispose()


def test_status_shows_jobs_crawls_findings_and_waiting_alerts(tmp_path: Path, db_url: str) -> None:
    config = _config(tmp_path, db_url, '[schedule]\ndigest_at = "09:15"\nretry_minutes = 0\n'
                                       '[schedule.sites."cut-site"]\noff_season = "daily"\n')
    _build(db_url, config)

    done = xxgk("status", "--json", "--config", str(config), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    jobs = {j["id"]: j for j in data["jobs"]}
    assert set(jobs) == {"crawl", "crawl:daily/daily/02:00/-", "sweep", "digest"}  # retry is off
    assert jobs["digest"]["name"] == "每日汇总：每天 09:15"
    assert jobs["crawl"]["name"].startswith("抓取 3 个站点：")
    for job_id, spec in {s.id: s for s in plan.plan(load_settings(config))}.items():
        expected = plan.next_runs(spec, datetime.now(UTC) - timedelta(minutes=5))[0]
        assert datetime.fromisoformat(jobs[job_id]["next_run"]) == expected, job_id

    crawls = {c["site"]: c for c in data["crawls"]}
    assert [c["site"] for c in data["crawls"]] == [*SITES, "gone-site"]  # configured first, in order
    assert crawls["ok-site"]["status"] == "ok" and crawls["ok-site"]["reports_new"] == 2
    assert crawls["bad-site"]["status"] == "failed"  # the last crawl, not the ok one before it
    assert crawls["bad-site"]["errors"][0] == "http://bad-site.example/：HTTP 503"
    assert crawls["cut-site"]["status"] == "interrupted"
    assert "已处理 3/10 篇" in crawls["cut-site"]["errors"][0]
    assert crawls["new-site"] == {"site": "new-site", "configured": True, "status": "never"}
    assert crawls["gone-site"]["configured"] is False
    assert data["findings"] == {"open": {"error": 1, "warning": 1, "info": 1}, "total": 3}
    assert data["alerts"] == {"pending": 1, "interrupted": 1, "failed": 1, "subscribers": 1}

    text = xxgk("status", "--config", str(config), cwd=tmp_path)
    assert text.returncode == 0, text.stderr
    out = text.stdout
    for line in ("计划任务", "每日汇总：每天 09:15", "最近一次抓取", "http://bad-site.example/：HTTP 503（另有 1 条）",
                 "已处理 3/10 篇", "尚未抓取", "gone-site（已不在配置中）", "待处理问题：3 个（错误 1，警告 1，提示 1）",
                 "等待发送的告警：2 条（其中 1 条上次发送中断，将标注可能重复后重发）；已放弃 1 条"):
        assert line in out, line
    rows = {line.split("│")[1].strip(): line for line in out.splitlines() if line.count("│") > 3}
    assert "中断" in rows["cut-site"] and "失败" in rows["bad-site"] and "成功" in rows["ok-site"]


def test_status_before_the_service_ever_ran(tmp_path: Path, db_url: str) -> None:
    config = _config(tmp_path, db_url)
    data = json.loads(xxgk("status", "--json", "--config", str(config), cwd=tmp_path).stdout)
    assert data["jobs"] is None and all(c["status"] == "never" for c in data["crawls"])
    assert data["findings"]["total"] == 0 and data["alerts"]["pending"] == 0
    out = xxgk("status", "--config", str(config), cwd=tmp_path).stdout
    assert "计划任务：尚无（xxgk serve 还没有在这个数据库上运行过）" in out


def test_config_check_validates_without_starting_anything(tmp_path: Path) -> None:
    db = tmp_path / "never-created.db"
    config = _config(tmp_path, f"sqlite:///{db}", '[schedule]\nin_season = "weekly"\nsweep_at = "off"\n'
                                                  '[schedule.sites."new-site"]\ncrawl_at = "04:00"\n')
    done = xxgk("config", "check", "--config", str(config), cwd=tmp_path, env={"XXGK_BOT__TOKEN": "1:secret"})
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert f"配置有效：{config}" in out and "站点：4 个" in out and "机器人：已配置令牌，管理员 0 人" in out
    assert "没有配置管理员" in done.stderr and "secret" not in out + done.stderr
    lines = {line.split()[0]: line for line in out.splitlines() if line.startswith("  ")}
    assert set(lines) == {"crawl", "crawl:weekly/weekly/04:00/mon", "digest", "retry"}  # no sweep: off
    assert "1月1日至4月15日每周一，其余时间每周一，02:00" in lines["crawl"] and "下次 20" in lines["crawl"]
    assert not db.exists()  # nothing opened, nothing created

    bad = _config(tmp_path, f"sqlite:///{db}", '[schedule]\ndigest_at = "8点"\n')
    done = xxgk("config", "check", "--config", str(bad), cwd=tmp_path)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    message = done.stderr.strip()
    assert len(message.splitlines()) == 1, message
    assert f"配置有误（{bad}）" in message and "schedule.digest_at" in message and "8点" in message

    env_bad = xxgk("config", "check", "--config", str(config), cwd=tmp_path,
                   env={"XXGK_SCHEDULE__RETRY_MINUTES": "-5"})
    assert env_bad.returncode == 2 and "schedule.retry_minutes" in env_bad.stderr

    url = _config(tmp_path, "nosuchdb://x/y")
    done = xxgk("config", "check", "--config", str(url), cwd=tmp_path)
    assert done.returncode == 2 and "database_url" in done.stderr and f"（{url}）" in done.stderr

    missing = xxgk("config", "check", "--config", str(tmp_path / "nope.toml"), cwd=tmp_path)
    assert missing.returncode == 2 and "配置文件不存在" in missing.stderr


@pytest.mark.parametrize("command", [["status"], ["serve"], ["config", "check"]])
def test_help_is_in_chinese(tmp_path: Path, command: list[str]) -> None:
    done = xxgk(*command, "--help", cwd=tmp_path)
    assert done.returncode == 0 and "--config" in done.stdout
    assert any("\u4e00" <= ch <= "\u9fff" for ch in done.stdout)
