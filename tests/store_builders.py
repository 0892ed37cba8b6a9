"""Reports and stores for the tests of the query layer, the question engine and the bot: small
canonical reports saved through the product's own save_report, as the crawler would."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from datetime import UTC, datetime

from sqlalchemy.engine import Engine

from checks import model as cm
from db.engine import session
from db.models import CrawlRun
from db.store import save_report

BALANCE = cm.Finding(rule="balance", severity="error", message="总计列：一+二 ≠ 三+四", where="三、总计列")


def report(agency: str, year: int, new: int, *, litigation: tuple[int, int] = (0, 0),
           punishment: int | None = 0, review: int = 0,
           findings: list[cm.Finding] | None = None) -> cm.Report:
    """A 2021-template report: `new` applications, all disclosed; the review and litigation totals
    given; 行政处罚 `punishment` (None: blank); fees 1.5 万元."""
    apps = {"new": {"natural": new, "total": new}, "carried_over": {"total": 0},
            "disclosed": {"total": new}, "handled_total": {"total": new}, "carried_forward": {"total": 0}}
    review_litigation = {
        "review": {"upheld": review, "corrected": 0, "other": 0, "pending": 0, "total": review},
        "litigation_direct": {"upheld": litigation[0], "corrected": 0, "other": 0, "pending": 0,
                              "total": litigation[0]},
        "litigation_after_review": {"upheld": litigation[1], "corrected": 0, "other": 0, "pending": 0,
                                    "total": litigation[1]},
    }
    return cm.Report(source=f"{agency}{year}", agency=agency, year=year, template="2021",
                     sections=["一", "二", "三", "四", "五", "六"],
                     proactive={"punishment": {"decisions": punishment}, "fees": {"amount_wan_yuan": 1.5}},
                     applications=apps, review_litigation=review_litigation, findings=findings or [],
                     title=f"{agency}{year}年政府信息公开工作年度报告", format="html")


def save(engine: Engine, r: cm.Report, published: datetime, site: str) -> None:
    """Store `r` as found on `site`, published at `published` (its 发布日期)."""
    url = f"https://{site}.gov.cn/art/{r.year}/{hashlib.md5(r.source.encode()).hexdigest()[:8]}.html"
    with session(engine) as s:
        save_report(s, r, url=url, content_hash=hashlib.sha256(url.encode()).hexdigest(), size=100,
                    fetched_at=published, published_at=published, site=site, published_source="发布日期")


def crawled(engine: Engine, sites: Iterable[str], at: datetime = datetime(2022, 5, 1, tzinfo=UTC)) -> None:
    """Record a successful crawl of each site at `at`: after the deadlines, a report not found is missing."""
    with session(engine) as s:
        for site in sites:
            s.add(CrawlRun(site=site, started_at=at, finished_at=at.replace(hour=at.hour + 1), status="ok"))
