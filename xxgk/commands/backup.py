"""`xxgk backup` and `xxgk restore`: the whole store to one file and back (db.backup)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Optional, TypeVar

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn

from xxgk.cli_common import ConfigOption, err, settings_from

T = TypeVar("T")

PgBinOption = Annotated[Optional[Path], typer.Option(
    "--pg-bin", help="PostgreSQL 客户端工具（pg_dump、pg_restore）所在目录；默认在 PATH 和常见安装目录"
                     "（如 /usr/lib/postgresql/*/bin）中找与服务器版本相同或更新的版本。",
    file_okay=False, show_default=False)]


def _with_progress(what: str, interrupted: str, work: Callable[[Callable[[int, int], None]], T]) -> T:
    """work(progress hook) under a progress bar on stderr; BackupError and Ctrl-C as one line."""
    from db.backup import BackupError

    progress = Progress(TextColumn(what), BarColumn(), TaskProgressColumn(), TimeElapsedColumn(), console=err,
                        transient=True, disable=not err.is_terminal)
    try:
        with progress:
            task = progress.add_task(what, total=None)
            return work(lambda done, total: progress.update(task, completed=done, total=total or None))
    except BackupError as exc:
        raise _fail(str(exc)) from None
    except KeyboardInterrupt:
        raise _fail(interrupted, 130) from None


def _fail(message: str, status: int = 1) -> typer.Exit:
    err.print(f"错误：{message}", soft_wrap=True, markup=False, highlight=False)
    return typer.Exit(status)


def backup_command(
    file: Annotated[Path, typer.Argument(help="备份文件的路径（如 xxgk-2026-11-23.backup）。", metavar="FILE",
                                         show_default=False)],
    force: Annotated[bool, typer.Option("--force", help="备份文件已存在时覆盖它。")] = False,
    pg_bin: PgBinOption = None,
    config: ConfigOption = None,
) -> None:
    """备份整个数据库到一个文件；服务运行时也可以备份，得到的是某一时刻的一致快照。

    SQLite 用在线备份接口（不阻塞正在写入的抓取），PostgreSQL 用 pg_dump 的自定义格式（-Fc）；密码通过环境变量传给 pg_dump，不出现在命令行上。备份先写入临时文件，完成后才换成 FILE，中断时不会留下不完整的备份。用 xxgk restore FILE 恢复。

    退出状态：0 已备份；1 备份失败（如找不到 pg_dump、文件已存在）；2 配置错误；130 已中断。
    """
    from checks.normalize import human_size
    from db.backup import KIND_NAMES, backup

    settings = settings_from(config)
    result = _with_progress("备份中", "已中断，没有写入备份文件。", lambda hook: backup(
        settings.database_url, file, overwrite=force, pg_bin=pg_bin, progress=hook))
    out = Console(highlight=False, soft_wrap=True, markup=False)
    out.print(f"已备份到 {result.path}（{KIND_NAMES[result.kind]}，{human_size(result.size)}，"
              f"结构版本 {result.revision}，用时 {result.seconds:.1f} 秒）")


def restore_command(
    file: Annotated[Path, typer.Argument(help="xxgk backup 生成的备份文件。", metavar="FILE", show_default=False)],
    force: Annotated[bool, typer.Option("--force", help="目标数据库已有数据时也用备份覆盖它（原有数据将被替换）。")] = False,
    pg_bin: PgBinOption = None,
    config: ConfigOption = None,
) -> None:
    """从 xxgk backup 生成的备份文件恢复数据库（配置中的 database_url）。

    先核对备份：文件类型须与数据库相同（SQLite / PostgreSQL）、能完整读出、结构版本是本程序认识的；旧版本的备份恢复后自动升级到当前结构。

    备份先恢复到临时副本（SQLite：目标旁的临时文件；PostgreSQL：同一服务器上的临时数据库），检查、升级无误后才一次性替换目标，失败或中断时原数据库不变。目标数据库已有数据时须加 --force。PostgreSQL 需要建库权限，且恢复时不能有其他程序连着目标数据库（请先停止 xxgk serve 和 xxgk worker）。

    退出状态：0 已恢复；1 恢复失败或被拒绝（原数据库不变）；2 配置错误；130 已中断。
    """
    from db.backup import KIND_NAMES, restore, shown_url

    settings = settings_from(config)
    result = _with_progress("恢复中", "已中断，数据库未改动。", lambda hook: restore(
        settings.database_url, file, force=force, pg_bin=pg_bin, progress=hook))
    out = Console(highlight=False, soft_wrap=True, markup=False)
    migrated = f"，已升级到 {result.revision}" if result.migrated else ""
    replaced = "，原有数据已被替换" if result.replaced else ""
    out.print(f"已从 {file} 恢复到 {shown_url(settings.database_url)}（{KIND_NAMES[result.kind]}，"
              f"备份的结构版本 {result.backup_revision}{migrated}{replaced}，用时 {result.seconds:.1f} 秒）")
