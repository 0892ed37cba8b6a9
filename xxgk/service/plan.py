"""What `xxgk serve` schedules, from the [schedule] config: one JobSpec per job, with a stable id.

    crawl               the sites on the default cadence
    crawl:<cadence>     sites whose [schedule.sites."name"] gives another cadence, one job per
                        distinct cadence (e.g. crawl:weekly/never/03:00/mon)
    crawl:start         one-shot, at start: sites never crawled, and those whose crawl was cut short
    sweep               deadline sweeps: the day after each deadline of [deadlines], and weekly
    digest              the daily digest
    retry               the retry of alerts not yet delivered

A crawl cadence is one trigger: daily/weekly/monthly cron triggers restricted to the publication
season (season_start..season_end) or to the rest of the year, combined with OrTrigger. All times
are Beijing time (Asia/Shanghai). Nothing here touches the database.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.combining import OrTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.date import DateTrigger
from apscheduler.triggers.interval import IntervalTrigger

from xxgk.config import ScheduleConfig, Settings

TZ = ZoneInfo("Asia/Shanghai")
JOBS = "xxgk.service.jobs"  # the module of the job functions, as the job store names them

CRAWL, START, SWEEP, DIGEST, RETRY = "crawl", "crawl:start", "sweep", "digest", "retry"

WEEKDAY_NAMES = {"mon": "一", "tue": "二", "wed": "三", "thu": "四", "fri": "五", "sat": "六", "sun": "日"}
CADENCE_NAMES = {"daily": "每天", "weekly": "每周{weekday}", "monthly": "每月一次", "never": "不抓取"}

MonthDay = tuple[int, int]


@dataclass(frozen=True, slots=True)
class JobSpec:
    id: str
    func: str  # "module:function", what the job store keeps
    name: str  # Chinese, shown by `xxgk status`
    trigger: BaseTrigger
    args: tuple[Any, ...] = ()


@dataclass(frozen=True, slots=True)
class Cadence:
    """How often a group of sites is crawled."""

    in_season: str
    off_season: str
    at: str  # HH:MM
    weekday: str

    @property
    def key(self) -> str:
        weekday = self.weekday if "weekly" in (self.in_season, self.off_season) else "-"
        return f"{self.in_season}/{self.off_season}/{self.at}/{weekday}"

    @property
    def runs(self) -> bool:
        return self.in_season != "never" or self.off_season != "never"


def _md(value: str) -> MonthDay:
    month, day = (int(p) for p in value.split("-"))
    return month, day


def _shift(md: MonthDay, days: int) -> MonthDay:
    """The month-day `days` away, in a leap year (so that 02-28 + 1 is 02-29)."""
    moved = date(2000, *md) + timedelta(days=days)
    return moved.month, moved.day


def _day_text(md: MonthDay) -> str:
    return f"{md[0]}月{md[1]}日"


def off_season(cfg: ScheduleConfig) -> tuple[MonthDay, MonthDay] | None:
    """The rest of the year (first, last day), or None when the season is the whole year."""
    start, end = _md(cfg.season_start), _md(cfg.season_end)
    first, last = _shift(end, 1), _shift(start, -1)
    return None if first == start else (first, last)


def _pieces(first: MonthDay, last: MonthDay) -> list[tuple[str, int, str]]:
    """The days from `first` to `last` (wrapping over the new year) as cron pieces:
    (month expression, first day in those months, day expression)."""
    segments = [(first, last)] if first <= last else [(first, (12, 31)), ((1, 1), last)]
    pieces: list[tuple[str, int, str]] = []
    for (m1, d1), (m2, d2) in segments:
        if m1 == m2:
            whole = (d1, d2) == (1, calendar.monthrange(2000, m1)[1])
            pieces.append((str(m1), d1, "*" if whole else f"{d1}-{d2}"))
            continue
        pieces.append((str(m1), d1, "*" if d1 == 1 else f"{d1}-31"))
        if m2 - m1 > 1:
            pieces.append((str(m1 + 1) if m2 - m1 == 2 else f"{m1 + 1}-{m2 - 1}", 1, "*"))
        pieces.append((str(m2), 1, "*" if d2 == calendar.monthrange(2000, m2)[1] else f"1-{d2}"))
    return pieces


def _window(first: MonthDay, last: MonthDay, cadence: str, at: str, weekday: str) -> list[BaseTrigger]:
    if cadence == "never":
        return []
    hour, minute = (int(p) for p in at.split(":"))
    triggers: list[BaseTrigger] = []
    for months, first_day, days in _pieces(first, last):
        fields: dict[str, Any] = {"month": months, "day": days}
        if cadence == "weekly":
            fields["day_of_week"] = weekday
        elif cadence == "monthly":
            fields["day"] = str(first_day)
        triggers.append(CronTrigger(**fields, hour=hour, minute=minute, timezone=TZ))
    return triggers


def _one(triggers: list[BaseTrigger]) -> BaseTrigger:
    return triggers[0] if len(triggers) == 1 else OrTrigger(triggers)


def crawl_trigger(cfg: ScheduleConfig, cadence: Cadence) -> BaseTrigger | None:
    """The trigger of a crawl cadence, or None when it never runs."""
    start, end = _md(cfg.season_start), _md(cfg.season_end)
    triggers = _window(start, end, cadence.in_season, cadence.at, cadence.weekday)
    rest = off_season(cfg)
    if rest is not None:
        triggers += _window(*rest, cadence.off_season, cadence.at, cadence.weekday)
    return _one(triggers) if triggers else None


def cadence_text(cfg: ScheduleConfig, cadence: Cadence) -> str:
    def every(value: str) -> str:
        return CADENCE_NAMES[value].format(weekday=WEEKDAY_NAMES[cadence.weekday])

    season = f"{_day_text(_md(cfg.season_start))}至{_day_text(_md(cfg.season_end))}"
    if off_season(cfg) is None:
        return f"全年{every(cadence.in_season)} {cadence.at}"
    return f"{season}{every(cadence.in_season)}，其余时间{every(cadence.off_season)}，{cadence.at}"


def default_cadence(cfg: ScheduleConfig) -> Cadence:
    return Cadence(cfg.in_season, cfg.off_season, cfg.crawl_at, cfg.crawl_weekday)


def site_cadence(cfg: ScheduleConfig, site: str) -> Cadence:
    base = default_cadence(cfg)
    own = cfg.sites.get(site)
    if own is None:
        return base
    return Cadence(own.in_season or base.in_season, own.off_season or base.off_season,
                   own.crawl_at or base.at, own.crawl_weekday or base.weekday)


def crawl_groups(settings: Settings) -> dict[str, tuple[Cadence, list[str]]]:
    """Job id → (cadence, site names), sites grouped by cadence; "crawl" is the default one."""
    cfg = settings.schedule
    base = default_cadence(cfg)
    groups: dict[str, tuple[Cadence, list[str]]] = {}
    for site in settings.sites:
        cadence = site_cadence(cfg, site.name)
        job_id = CRAWL if cadence.key == base.key else f"{CRAWL}:{cadence.key}"
        groups.setdefault(job_id, (cadence, []))[1].append(site.name)
    return groups


def sweep_days(settings: Settings) -> list[MonthDay]:
    """The day after each deadline of [deadlines] (levels and local overrides), in a year's order."""
    d = settings.deadlines
    dates = {d.department, d.government, d.township, *(o.date for o in d.overrides)}
    days = set()
    for value in dates:
        after = date(2001, *_md(value)) + timedelta(days=1)  # 2001: the deadlines are never 02-29
        days.add((after.month, after.day))
    return sorted(days)


def plan(settings: Settings) -> list[JobSpec]:
    """Every recurring job the configuration asks for."""
    cfg = settings.schedule
    specs: list[JobSpec] = []
    for job_id, (cadence, sites) in crawl_groups(settings).items():
        trigger = crawl_trigger(cfg, cadence)
        if trigger is None:
            continue
        specs.append(JobSpec(job_id, f"{JOBS}:crawl", f"抓取 {len(sites)} 个站点：{cadence_text(cfg, cadence)}",
                             trigger, (job_id,)))
    if cfg.sweep_at != "off":
        hour, minute = (int(p) for p in cfg.sweep_at.split(":"))
        days = sweep_days(settings)
        triggers: list[BaseTrigger] = [CronTrigger(month=m, day=d, hour=hour, minute=minute, timezone=TZ)
                                       for m, d in days]
        triggers.append(CronTrigger(day_of_week=cfg.sweep_weekday, hour=hour, minute=minute, timezone=TZ))
        specs.append(JobSpec(
            SWEEP, f"{JOBS}:sweep",
            f"核查最近 {cfg.sweep_years} 个年度：{'、'.join(_day_text(md) for md in days)}（各发布期限次日）"
            f"及每周{WEEKDAY_NAMES[cfg.sweep_weekday]}，{cfg.sweep_at}",
            OrTrigger(triggers)))
    if cfg.digest_at != "off":
        hour, minute = (int(p) for p in cfg.digest_at.split(":"))
        specs.append(JobSpec(DIGEST, f"{JOBS}:digest", f"每日汇总：每天 {cfg.digest_at}",
                             CronTrigger(hour=hour, minute=minute, timezone=TZ)))
    if cfg.retry_minutes > 0:
        specs.append(JobSpec(RETRY, f"{JOBS}:retry", f"发送待发送的告警（含失败重试）：每 {cfg.retry_minutes:g} 分钟",
                             IntervalTrigger(minutes=cfg.retry_minutes, timezone=TZ)))
    return specs


def start_crawl(sites: list[str], new: int, interrupted: int, now: datetime) -> JobSpec:
    """The one-shot crawl at start of the sites never crawled and of those cut short."""
    parts = [f"新站点 {new} 个"] if new else []
    if interrupted:
        parts.append(f"上次中断 {interrupted} 个")
    return JobSpec(START, f"{JOBS}:crawl_sites", f"启动时抓取：{'，'.join(parts)}",
                   DateTrigger(run_date=now, timezone=TZ), (sites,))


def next_runs(spec: JobSpec, now: datetime, n: int = 1) -> list[datetime]:
    """The next `n` fire times of a spec's trigger after `now` (for `xxgk config check`)."""
    out: list[datetime] = []
    for _ in range(n):
        fire = spec.trigger.get_next_fire_time(None, now)
        if fire is None:
            break
        out.append(fire)
        now = fire + timedelta(seconds=1)
    return out
