"""`xxgk` as a user runs it: real files, a real subprocess, exit statuses and messages."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import REPO, SEEDS, expected_for
from readers_fixtures import make_image_only_pdf_bytes
from xxgk.render import render, synthetic_spec

SAMPLES = sorted(p for p in (REPO / "samples").iterdir() if p.suffix in {".html", ".htm", ".docx", ".pdf", ".txt"})


def xxgk(*args: str, cwd: Path, env: dict | None = None) -> subprocess.CompletedProcess:
    full_env = {**os.environ, **(env or {})}
    full_env.pop("XXGK_CONFIG", None)
    return subprocess.run([sys.executable, "-m", "xxgk.cli", *args], capture_output=True, text=True,
                          cwd=cwd, env=full_env, timeout=300)


@pytest.fixture
def bad_files(tmp_path) -> dict[str, Path]:
    files = {
        "empty": tmp_path / "empty.html",
        "junk": tmp_path / "junk.pdf.bin",
        "truncated": tmp_path / "truncated.pdf",
        "scanned": tmp_path / "scanned.pdf",
        "huge": tmp_path / "huge.txt",
        "not_a_report": tmp_path / "news.html",
        "missing": tmp_path / "does-not-exist.docx",
    }
    files["empty"].write_bytes(b"")
    files["junk"].write_bytes(bytes(range(256)) * 64)
    files["truncated"].write_bytes(render(synthetic_spec(1), "pdf")[:6000])
    files["scanned"].write_bytes(make_image_only_pdf_bytes())
    with files["huge"].open("wb") as fh:
        fh.truncate(200 * 2**20)
    files["not_a_report"].write_text(
        "<html><head><title>区政府召开常务会议</title></head><body><p>3月5日，区政府召开第12次常务会议，研究部署春耕生产工作。</p></body></html>",
        encoding="utf-8",
    )
    return files


def test_bad_files_get_one_line_each_and_good_files_are_still_checked(tmp_path, bad_files):
    gbk = tmp_path / "gbk_report.txt"
    gbk.write_bytes(SEEDS[0].read_text(encoding="utf-8").encode("gbk", errors="replace"))
    good = [str(SEEDS[1]), str(gbk)]
    bad = [str(p) for p in bad_files.values()]
    result = xxgk("check", "--json", good[0], *bad, good[1], cwd=tmp_path)
    assert result.returncode == 1
    reports = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["source"] for r in reports] == good
    assert reports[1]["agency"] == expected_for(SEEDS[0])["agency"]  # GBK text decoded, not rejected
    errors = result.stderr.strip().splitlines()
    assert len(errors) == len(bad)
    reasons = {}
    for line, path in zip(errors, bad):
        assert line.startswith(f"错误：{path}："), line
        reasons[Path(path).name] = line
    assert "为空" in reasons["empty.html"]
    assert "无法识别" in reasons["junk.pdf.bin"] or "格式" in reasons["junk.pdf.bin"]
    assert "损坏" in reasons["truncated.pdf"] or "不完整" in reasons["truncated.pdf"]
    assert "OCR" in reasons["scanned.pdf"]
    assert "过大" in reasons["huge.txt"] and "200" in reasons["huge.txt"]
    assert "不是政府信息公开工作年度报告" in reasons["news.html"]
    assert "不存在" in reasons["does-not-exist.docx"]
    assert "Traceback" not in result.stderr


def test_summary_in_chinese(tmp_path):
    result = xxgk("check", str(SEEDS[2]), cwd=tmp_path)
    assert result.returncode == 0
    out = result.stdout
    assert f"== {SEEDS[2]}" in out
    assert "单位：拱墅区人力资源和社会保障局" in out and "年度：2020" in out and "2019年版" in out
    assert "本年新收 1 件" in out
    assert "[警告]" in out and "疑似笔误" in out and "（suspicious_value）" in out


def test_fail_on(tmp_path):
    assert xxgk("check", "--fail-on", "warning", str(SEEDS[2]), cwd=tmp_path).returncode == 3
    assert xxgk("check", "--fail-on", "error", str(SEEDS[2]), cwd=tmp_path).returncode == 0
    assert xxgk("check", "--fail-on", "error", str(SEEDS[0]), cwd=tmp_path).returncode == 0


def _counts(db: Path) -> dict[str, int]:
    con = sqlite3.connect(db)
    try:
        return {t: con.execute(f"select count(*) from {t}").fetchone()[0]
                for t in ("agency", "document", "report", "report_figure", "finding")}
    finally:
        con.close()


def test_save_twice_changes_nothing(tmp_path):
    files = [str(p) for p in SEEDS]
    first = xxgk("check", "--save", *files, cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    db = tmp_path / "xxgk.db"  # the default database, in the working directory
    counts = _counts(db)
    assert counts["report"] == 5 and counts["agency"] == 5 and counts["document"] == 5
    assert counts["report_figure"] == counts["report"]
    db_bytes = db.read_bytes()
    second = xxgk("check", "--save", *files, cwd=tmp_path)
    assert second.stdout.count("未改动") == 5
    assert _counts(db) == counts
    assert db.read_bytes() == db_bytes


def _rows(db_url: str) -> dict[str, list[tuple]]:
    """Every row of the tables a save writes, without the columns holding the time of writing."""
    import sqlalchemy as sa

    from db.engine import make_engine

    engine = make_engine(db_url)
    meta = sa.MetaData()
    out = {}
    try:
        with engine.connect() as conn:
            for name in ("agency", "document", "report", "report_figure", "finding"):
                table = sa.Table(name, meta, autoload_with=conn)
                cols = [c for c in table.c if not c.name.endswith("_at")]
                out[name] = sorted(map(repr, conn.execute(sa.select(*cols))))
    finally:
        engine.dispose()
    return out


def test_save_twice_changes_nothing_on_the_configured_store(tmp_path, db_url):
    """The same on the store of XXGK_DATABASE_URL: SQLite, or PostgreSQL in CI's second pass."""
    files = [str(p) for p in SEEDS]
    env = {"XXGK_DATABASE_URL": db_url}
    work = tmp_path / "work"
    work.mkdir()
    first = xxgk("check", "--save", *files, cwd=work, env=env)
    assert first.returncode == 0, first.stderr
    rows = _rows(db_url)
    assert len(rows["report"]) == 5 and len(rows["agency"]) == 5 and len(rows["report_figure"]) == 5
    assert not (work / "xxgk.db").exists()  # not the default store in the working directory
    second = xxgk("check", "--save", *files, cwd=work, env=env)
    assert second.returncode == 0, second.stderr
    assert second.stdout.count("未改动") == 5
    assert _rows(db_url) == rows


def test_database_url_from_config_file(tmp_path):
    cfg = tmp_path / "my.toml"
    cfg.write_text(f'database_url = "sqlite:///{tmp_path / "elsewhere.db"}"\n', encoding="utf-8")
    result = xxgk("check", "--save", "--config", str(cfg), str(SEEDS[0]), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "elsewhere.db").exists() and not (tmp_path / "xxgk.db").exists()


def test_bad_config_is_a_clear_error(tmp_path):
    cfg = tmp_path / "bad.toml"
    cfg.write_text("database_url = \n", encoding="utf-8")
    result = xxgk("check", "--config", str(cfg), str(SEEDS[0]), cwd=tmp_path)
    assert result.returncode == 2
    assert "不是有效的 TOML" in result.stderr and str(cfg) in result.stderr
    cfg.write_text("[checks]\nmax_file_mb = -1\n", encoding="utf-8")
    result = xxgk("check", "--config", str(cfg), str(SEEDS[0]), cwd=tmp_path)
    assert result.returncode == 2 and "checks.max_file_mb" in result.stderr
    result = xxgk("check", "--config", str(tmp_path / "nope.toml"), str(SEEDS[0]), cwd=tmp_path)
    assert result.returncode == 2 and "不存在" in result.stderr


def test_size_limit_from_environment(tmp_path):
    result = xxgk("check", str(SEEDS[0]), cwd=tmp_path, env={"XXGK_CHECKS__MAX_FILE_MB": "0.001"})
    assert result.returncode == 1 and "过大" in result.stderr


def test_help_names_formats_and_exit_codes(tmp_path):
    result = xxgk("check", "--help", cwd=tmp_path)
    assert result.returncode == 0
    for word in (".docx", ".pdf", ".doc", "--json", "--save", "退出状态"):
        assert word in result.stdout


def test_bundled_samples_show_their_faults(tmp_path):
    assert len(SAMPLES) == 5
    result = xxgk("check", "--json", *map(str, SAMPLES), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    rules = {Path(r["source"]).name: {f["rule"] for f in r["findings"]}
             for r in map(json.loads, result.stdout.splitlines())}
    by_prefix = {name.split("_")[0] + name.split(".")[-1]: found for name, found in rules.items()}
    assert by_prefix["2021html"] == set()
    assert {"balance", "handled_total"} <= by_prefix["2021htm"]
    assert {"blank_total", "suspicious_value", "regulations_not_applicable"} <= by_prefix["2022docx"]
    assert {"template_outdated", "stale_text"} <= by_prefix["2023pdf"]
    assert {"text_table_mismatch", "placeholder_text"} <= by_prefix["2021txt"]


def test_ctrl_c_stops_cleanly(tmp_path):
    import signal
    import time

    pdf = next(p for p in SAMPLES if p.suffix == ".pdf")  # a slow format, so the run is still going
    proc = subprocess.Popen([sys.executable, "-m", "xxgk.cli", "check", *[str(pdf)] * 60], cwd=tmp_path,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    time.sleep(2.5)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130
    assert "已中断" in err and "Traceback" not in err
    assert 0 < out.count("== ") < 60
