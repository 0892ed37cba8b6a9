"""The crawler against the demo sites (TRS, jcms, gkmlpt, plain) served on loopback.

The sites' ground truth says which reports exist, whose they are, for which year, when they
were published and what their tables say; the crawl must find exactly that, survive every
fault, and a second crawl must fetch almost nothing and create nothing."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from datetime import timedelta, timezone

import pytest
from sqlmodel import select

from conftest import assert_matches
from databases import new_database_url
from db.engine import make_engine, session, upgrade
from db.models import Agency, CrawlRun, Document, DocumentVersion, Finding, Report
from scraper.crawl import Crawler
from xxgk.config import CrawlerConfig, SiteConfig
from xxgk.demo import DemoServer, default_sites, sites_config
from xxgk.render import synthetic_spec

CST = timezone(timedelta(hours=8))
DATA_KEYS = ("template", "proactive", "applications", "review_litigation")


@pytest.fixture(scope="module")
def server():
    with DemoServer(default_sites(), slow_delay=0.3) as srv:
        srv.wait_warm(180)
        yield srv


def _sites(srv) -> list[SiteConfig]:
    return [SiteConfig(**entry) for entry in sites_config(srv)]


def _crawl(srv, engine, *, since=None, timeout=10.0, sites=None, recheck_after_days=7.0, retries=3,
           soffice="soffice"):
    cfg = CrawlerConfig(per_host_delay_s=0.0, timeout_s=timeout, backoff_s=0.05, retries=retries, allow_private_addresses=True,
                        max_response_mb=20, concurrency=8, recheck_after_days=recheck_after_days)
    crawler = Crawler(cfg, engine, soffice=soffice)
    return {r.site: r for r in asyncio.run(crawler.run(sites or _sites(srv), since=since))}


@pytest.fixture(scope="module")
def first(server, tmp_path_factory):
    """One database, crawled once; tests below read what the first crawl stored."""
    engine = make_engine(new_database_url(tmp_path_factory.mktemp("crawl"), "crawl.db"))
    upgrade(engine)
    server.reset_log()
    server.reset_faults()
    results = _crawl(server, engine)
    log = list(server.requests)
    return engine, results, log


def _stored(engine):
    with session(engine) as s:
        rows = s.exec(select(Report, Agency, Document)
                      .join(Agency, Report.agency_id == Agency.id)
                      .join(Document, Report.document_id == Document.id)).all()
        return {(a.name, r.year): (r.data, d.url, d.published_at, d.published_source, d.site, d.format)
                for r, a, d in rows}


def truths(server):
    for site in server.sites:
        for truth in site.reports:
            yield site, truth


def test_every_report_is_found_with_agency_year_date_and_data(server, first):
    engine, results, _ = first
    stored = _stored(engine)
    expected = {(t.agency, t.year) for _, t in truths(server)}
    assert set(stored) == expected
    for site, truth in truths(server):
        data, url, published, source, site_name, fmt = stored[(truth.agency, truth.year)]
        base = server.base_url(site.name)
        assert url in {base + truth.document, *(base + d for d in truth.duplicates)}, truth.title
        # Beijing-time day: some pages print only the day; a UTC conversion would move 07:45 to the day before.
        assert published.astimezone(CST).date() == truth.published_date, (truth.title, source)
        assert site_name == site.name
        assert_matches({k: truth.expected[k] for k in DATA_KEYS if k in truth.expected}, data)


def test_results_per_site(server, first):
    _, results, _ = first
    for site in server.sites:
        r = results[site.name]
        assert r.reports_new == len({(t.agency, t.year) for t in site.reports})  # an inline page + its PDF: one
        assert r.reports_changed == 0
    assert results["lianjiang-trs"].status == "ok" and results["lianjiang-trs"].errors == []
    assert results["jiashan-plain"].status == "partial"


def test_faults_are_handled(server, first):
    _, results, log = first
    plain = server.site("jiashan-plain")
    errors = "\n".join(results["jiashan-plain"].errors)
    assert "过大" in errors  # the 60 MB file
    assert "重定向" in errors  # /loop/a <-> /loop/b
    assert "404" in errors
    paths = [(q.site, q.path) for q in log]
    assert ("jiashan-plain", plain.fault_urls["robots_forbidden"]) not in paths  # robots.txt obeyed
    assert not any("866tx" in q.host for q in log)  # off-site mirror never requested …
    assert "866tx" not in errors  # … and not an error: it is simply not the site's
    assert sum(1 for p in paths if p == ("jiashan-plain", plain.fault_urls["fail_500x2"])) == 3
    assert sum(1 for p in paths if p == ("jiashan-plain", plain.fault_urls["rate_limited"])) == 2
    huge = [q for q in log if q.path == plain.fault_urls["huge"]]
    assert huge and all(q.bytes < 30 * 2**20 for q in huge)  # aborted early, not downloaded whole
    assert all(q.user_agent.startswith("xxgk-monitor/") for q in log)


def test_crawl_runs_are_recorded(first):
    engine, results, _ = first
    with session(engine) as s:
        runs = s.exec(select(CrawlRun)).all()
        assert {r.site for r in runs} == set(results)
        assert all(r.finished_at is not None for r in runs)
        plain = next(r for r in runs if r.site == "jiashan-plain")
        assert plain.status == "partial" and plain.errors and plain.reports_new > 0


def test_second_crawl_fetches_almost_nothing_and_creates_nothing(server, first):
    engine, results_first, first_log = first
    first_bytes = sum(q.bytes for q in first_log)
    server.reset_log()
    server.reset_faults()
    before = _stored(engine)
    results = _crawl(server, engine)
    assert all(r.reports_new == 0 and r.reports_changed == 0 for r in results.values())
    assert {s: r.reports_found for s, r in results.items()} == {s: r.reports_found for s, r in results_first.items()}
    assert _stored(engine) == before
    second_bytes = sum(q.bytes for q in server.requests)
    assert second_bytes < 0.05 * first_bytes, (second_bytes, first_bytes)
    # Unchanged lists answer 304 and the reports on them were checked moments ago: not refetched.
    # What is fetched anew are retries of the pages that failed the first time.
    failed_first = {(q.site, q.path) for q in first_log if q.status not in (200, 304)}
    fresh = {(q.site, q.path) for q in server.requests if q.status != 304 and q.path != "/robots.txt"}
    assert fresh and fresh <= failed_first, fresh - failed_first
    assert len(server.requests) < len(first_log) / 3
    # robots.txt read by the first crawl (moments ago) is reused, not fetched again (RFC 9309: a day).
    assert any(q.path == "/robots.txt" for q in first_log)
    assert not any(q.path == "/robots.txt" for q in server.requests)


def test_robots_txt_is_read_again_once_the_cache_is_off(server, tmp_path):
    engine = _fresh_engine(tmp_path, "robots.db")
    sites = [s for s in _sites(server) if s.name == "jiashan-plain"]  # its robots.txt forbids /private/
    _crawl(server, engine, sites=sites)
    server.reset_log()
    cfg = CrawlerConfig(per_host_delay_s=0.0, timeout_s=10, backoff_s=0.05, retries=3, robots_cache_hours=0,
                        allow_private_addresses=True)
    results = asyncio.run(Crawler(cfg, engine).run(sites))
    assert [q.path for q in server.requests].count("/robots.txt") == 1
    # The cached copy was the real file: a forbidden path stays forbidden with or without it.
    assert any("robots.txt 禁止抓取" in e for e in results[0].errors)


def test_known_reports_are_revalidated_when_due(server, first):
    engine, _, _ = first
    server.reset_log()
    results = _crawl(server, engine, recheck_after_days=0)
    assert all(r.reports_new == 0 and r.reports_changed == 0 for r in results.values())
    revalidated = [q for q in server.requests if q.status == 304 and "/art/" in q.path]
    assert len(revalidated) >= 5  # jcms report pages: conditional GETs, no bodies
    assert all(q.conditional for q in revalidated)


def test_changed_report_is_a_new_version_and_a_finding(server, first):
    engine, _, _ = first
    site = server.site("lianjiang-trs")
    truth = site.reports[-1]

    def edit(spec):
        spec.applications["new"]["natural"] = (spec.applications["new"]["natural"] or 0) + 5
        return spec

    server.change_report(site.name, truth, edit)
    # The list page is unchanged: the edit is noticed when the report page is revalidated.
    results = _crawl(server, engine, sites=[s for s in _sites(server) if s.name == site.name], recheck_after_days=0)
    assert results[site.name].reports_changed == 1
    with session(engine) as s:
        doc = s.exec(select(Document).where(Document.url == server.base_url(site.name) + truth.document)).one()
        versions = s.exec(select(DocumentVersion).where(DocumentVersion.document_id == doc.id)).all()
        assert len(versions) == 2
        report = s.exec(select(Report).where(Report.document_id == doc.id)).one()
        rules = {f.rule for f in s.exec(select(Finding).where(Finding.report_id == report.id)).all()}
        assert "changed_after_publication" in rules
        assert doc.published_at.astimezone(CST).date() == truth.published_date  # the original date


def test_new_report_is_found_incrementally(server, first):
    engine, _, _ = first
    site = server.site("zhenhai-jcms")
    spec = synthetic_spec(99, year=2024, agency="宁波市镇海区文化和广电旅游体育局")
    server.add_report(site.name, spec)
    results = _crawl(server, engine, sites=[s for s in _sites(server) if s.name == site.name])
    assert results[site.name].reports_new == 1
    assert ("宁波市镇海区文化和广电旅游体育局", 2024) in _stored(engine)


def test_since_limits_years(server, tmp_path):
    engine = make_engine(new_database_url(tmp_path, "since.db"))
    upgrade(engine)
    site = [s for s in _sites(server) if s.name == "yangdong-gkmlpt"]
    _crawl(server, engine, since=2022, sites=site)
    assert {year for _, year in _stored(engine)} == {2022, 2023}


def test_slow_page_times_out_without_stopping_the_site(server, tmp_path):
    engine = make_engine(new_database_url(tmp_path, "slow.db"))
    upgrade(engine)
    server.reset_faults()
    server.slow_delay = 3.0
    try:
        site = [s for s in _sites(server) if s.name == "jiashan-plain"]
        results = _crawl(server, engine, timeout=1.0, sites=site)
    finally:
        server.slow_delay = 0.3
    assert "超时" in "\n".join(results["jiashan-plain"].errors)
    assert len(_stored(engine)) == len({(t.agency, t.year) for t in server.site("jiashan-plain").reports}) - 1


def test_cli_crawl_one_site(server, tmp_path):
    cfg = tmp_path / "xxgk.toml"
    site = next(s for s in sites_config(server) if s["name"] == "lianjiang-trs")
    lines = [f'database_url = "{new_database_url(tmp_path, "cli.db")}"', "[crawler]", "per_host_delay_s = 0",
             "allow_private_addresses = true", "",
             "[[sites]]"]
    for key, value in site.items():
        if isinstance(value, list):
            lines.append(f"{key} = [{', '.join(repr(v) for v in value)}]".replace("'", '"'))
        elif value is not None:
            lines.append(f'{key} = "{value}"')
    cfg.write_text("\n".join(lines) + "\n", encoding="utf-8")
    out = subprocess.run([sys.executable, "-m", "xxgk.cli", "crawl", "--config", str(cfg), "--site", "lianjiang-trs"],
                         capture_output=True, text=True, cwd=tmp_path, timeout=300)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "lianjiang-trs" in out.stdout and "成功" in out.stdout
    bad = subprocess.run([sys.executable, "-m", "xxgk.cli", "crawl", "--config", str(cfg), "--site", "nope"],
                         capture_output=True, text=True, cwd=tmp_path, timeout=60)
    assert bad.returncode == 2 and "nope" in bad.stderr


def _fresh_engine(tmp_path, name):
    engine = make_engine(new_database_url(tmp_path, name))
    upgrade(engine)
    return engine


def test_a_page_that_failed_is_retried_next_crawl(server, tmp_path):
    engine = _fresh_engine(tmp_path, "retry.db")
    site = [s for s in _sites(server) if s.name == "jiashan-plain"]
    server.reset_faults()
    first = _crawl(server, engine, sites=site, retries=0)["jiashan-plain"]  # 500 and 429 are not retried
    expected = {(t.agency, t.year) for t in server.site("jiashan-plain").reports}
    missing = expected - set(_stored(engine))
    assert missing and first.status == "partial"
    _crawl(server, engine, sites=site, retries=3)  # the list is unchanged (304), yet the failed pages come back
    assert set(_stored(engine)) == expected


@pytest.mark.slow
def test_a_doc_unread_without_libreoffice_is_read_once_it_is_there(server, tmp_path):
    import shutil

    if shutil.which("soffice") is None:
        pytest.skip("LibreOffice not installed")
    engine = _fresh_engine(tmp_path, "soffice.db")
    site = [s for s in _sites(server) if s.name == "zhenhai-jcms"]
    doc_reports = [t for t in server.site("zhenhai-jcms").reports if t.fmt == "doc"]
    assert doc_reports, "the demo builds its .doc attachment when LibreOffice is installed"
    result = _crawl(server, engine, sites=site, soffice="/nonexistent/soffice")["zhenhai-jcms"]
    assert any("LibreOffice" in e for e in result.errors)
    assert (doc_reports[0].agency, doc_reports[0].year) not in _stored(engine)
    _crawl(server, engine, sites=site)
    assert (doc_reports[0].agency, doc_reports[0].year) in _stored(engine)


def test_an_interrupted_run_is_closed_as_failed(server, tmp_path):
    from db import crawlstate

    engine = _fresh_engine(tmp_path, "interrupted.db")
    with session(engine) as s:
        crawlstate.start_runs(s, ["lianjiang-trs"])  # a crawl that never finished
    _crawl(server, engine, sites=[s for s in _sites(server) if s.name == "lianjiang-trs"])
    with session(engine) as s:
        runs = s.exec(select(CrawlRun).order_by(CrawlRun.id)).all()
        assert [r.status for r in runs] == ["failed", "ok"]
        assert "中断" in runs[0].errors[0] and all(r.finished_at is not None for r in runs)


def test_reports_take_the_registered_agency_name(server, tmp_path):
    """With a registry, a report is stored under the registered agency its written name matches
    (here via the registry's own spelling), and the site config does not overwrite the registry."""
    from compliance.registry import import_registry, parse_registry_csv

    engine = _fresh_engine(tmp_path, "registry.db")
    csv = ("name,aliases,region_code,region_name,level,site\n"
           "连江县人民政府（本级）,县政府,350122,名录里的连江县,政府,lianjiang-trs\n")
    with session(engine) as s:
        import_registry(s, parse_registry_csv(csv))
    sites = [s for s in _sites(server) if s.name == "lianjiang-trs"]
    _crawl(server, engine, sites=sites)
    with session(engine) as s:
        rows = s.exec(select(Report, Agency).join(Agency, Report.agency_id == Agency.id)).all()
    truth = {t.year for site, t in truths(server) if site.name == "lianjiang-trs"}
    assert {r.year for r, _ in rows} == truth
    with session(engine) as s:
        registered = s.exec(select(Agency).where(Agency.registered)).one()
    assert {a.id for _, a in rows} == {registered.id}  # no unregistered "连江县人民政府" was created
    assert "本级" in registered.name and registered.region_name == "名录里的连江县"
