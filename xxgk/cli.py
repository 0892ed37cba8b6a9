"""The `xxgk` command."""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from enum import Enum
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from xxgk.config import ConfigError, Settings, load_settings

app = typer.Typer(
    help="xxgk monitor：政府信息公开工作年度报告的检查与监测工具。",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
)
db_app = typer.Typer(help="数据库维护（迁移）。", no_args_is_help=True)
app.add_typer(db_app, name="db")

err = Console(stderr=True, highlight=False)

ConfigOption = Annotated[
    Optional[Path],
    typer.Option("--config", "-c", help="TOML 配置文件（默认读取 $XXGK_CONFIG 或当前目录的 xxgk.toml）。"),
]


class FailOn(str, Enum):
    never = "never"
    error = "error"
    warning = "warning"


def _settings(config: Path | None) -> Settings:
    try:
        return load_settings(config)
    except ConfigError as exc:
        err.print(f"错误：{exc}")
        raise typer.Exit(2) from None


@app.command()
def check(
    files: Annotated[list[Path], typer.Argument(help="年度报告文件：.html/.htm、.txt、.docx、.pdf、.doc、.wps。")],
    as_json: Annotated[bool, typer.Option("--json", help="每个文件输出一行 JSON（规范数据和问题清单）。")] = False,
    save: Annotated[bool, typer.Option("--save", help="把结果存入数据库（配置中的 database_url，默认 sqlite:///xxgk.db）。")] = False,
    fail_on: Annotated[
        FailOn, typer.Option("--fail-on", help="发现该级别及以上的问题时以状态 3 退出（never/error/warning）。")
    ] = FailOn.never,
    config: ConfigOption = None,
) -> None:
    """检查年度报告：识别单位、年度、格式，读出各表数据，逐条核对勾稽关系等规则。

    退出状态：0 全部读取成功；1 有文件无法读取（其他文件照常检查）；2 配置错误；3 见 --fail-on。
    """
    from checks.files import check_file
    from checks.summary import summarize

    settings = _settings(config)
    max_bytes = int(settings.checks.max_file_mb * 1024 * 1024)
    store = _open_store(settings) if save else None

    failed = 0
    worst = 0  # 0 none, 1 warning, 2 error
    show_progress = len(files) > 3 and err.is_terminal
    progress = Progress(TextColumn("检查中"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                        console=err, transient=True, disable=not show_progress)
    with progress:
        task = progress.add_task("check", total=len(files))
        for path in files:
            result = check_file(path, max_bytes=max_bytes, soffice=settings.checks.soffice,
                                timeout=settings.checks.convert_timeout_s)
            progress.advance(task)
            if result.report is None:
                failed += 1
                err.print(f"错误：{path}：{result.error}", soft_wrap=True)
                continue
            report = result.report
            for f in report.findings:
                worst = max(worst, {"error": 2, "warning": 1}.get(f.severity, 0))
            saved = None
            if store is not None:
                saved = store(result)
            if as_json:
                sys.stdout.write(json.dumps(report.to_json(), ensure_ascii=False) + "\n")
            else:
                print(f"== {path}")
                print(summarize(report))
                if saved:
                    print(saved)
                print()
    if failed:
        raise typer.Exit(1)
    if (fail_on == FailOn.error and worst >= 2) or (fail_on == FailOn.warning and worst >= 1):
        raise typer.Exit(3)


def _open_store(settings: Settings):
    """A function that saves one FileResult and returns a one-line Chinese note."""
    from db.engine import make_engine, session, upgrade
    from db.store import save_report

    try:
        engine = make_engine(settings.database_url)
        upgrade(engine)
    except Exception as exc:  # noqa: BLE001 - any driver/connection error is reported the same way
        err.print(f"错误：无法打开数据库 {settings.database_url}：{exc}")
        raise typer.Exit(2) from None

    notes = {"created": "已存入数据库（新增）", "updated": "已存入数据库（已更新）",
             "unchanged": "数据库中已有相同内容，未改动", "unidentified": "已存入文件记录；未识别单位或年度，未生成报告记录"}

    def store(result) -> str:
        with session(engine) as s:
            outcome = save_report(
                s, result.report, url=result.path.resolve().as_uri(), content_hash=result.content_hash,
                size=result.size, fetched_at=datetime.now(UTC),
            )
        return notes.get(outcome.status, outcome.status)

    return store


@db_app.command("upgrade")
def db_upgrade(config: ConfigOption = None) -> None:
    """把数据库结构升级到最新版本（alembic upgrade head）。"""
    from db.engine import make_engine, upgrade

    settings = _settings(config)
    upgrade(make_engine(settings.database_url))
    print(f"数据库已是最新结构：{settings.database_url}")


if __name__ == "__main__":  # pragma: no cover
    app()
