"""/export 年份 [地区] [层级]: the supervisor's workbook of a year (query.export.write_workbook),
sent as an .xlsx file named like 2021年度浙江省政务公开年报核查.xlsx.

The bot says 「正在生成…」 first (a message, edited at the end into what was exported, or why not),
writes the workbook in a worker thread into a temporary directory of its own, sends it and deletes
it. At most EXPORTS_AT_ONCE workbooks are written at once (a province's takes seconds).
"""

from __future__ import annotations

import asyncio
import logging
import re
import shutil
import tempfile
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import Engine
from telegram import Message, Update
from telegram.constants import ChatAction
from telegram.error import TelegramError
from telegram.ext import ContextTypes

from bot.handlers.chart import Problem, resolve_place, usage
from bot.handlers.common import ERROR, command_args, within_rate
from bot.handlers.queries import MAX_ARGS, read_filters
from bot.services import services
from bot.text import escaped as escape  # store and user text: invisible characters dropped, escaped
from query.api import ALL, Scope

EXPORT_USAGE = "/export 年份 [地区] [层级]，例如 /export 2021 浙江省"
EXPORTS_AT_ONCE = 2
UPLOAD_LIMIT = 50 * 1024 * 1024  # bytes: what Telegram's Bot API takes (a self-hosted server: 2000 MB)
SELF_HOSTED_UPLOAD_LIMIT = 2000 * 1024 * 1024
_UNSAFE = re.compile(r'[\\/:*?"<>|\x00-\x1f]')
_SEMAPHORE = "xxgk.export.semaphore"

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Exported:
    path: Path
    filename: str
    caption: str
    done: str  # the 「正在生成…」 message becomes this


def file_name(year: int, scope: Scope) -> str:
    """2021年度浙江省政务公开年报核查.xlsx (2021年度浙江省（部门）… with a level)."""
    return _UNSAFE.sub("_", f"{year}年度{scope.label()}政务公开年报核查") + ".xlsx"


def write(engine: Engine, year: int, place: str | None, level: str | None, folder: Path) -> Exported:
    """The workbook, written into `folder` (synchronous: run in a worker thread)."""
    from query.export import ExportError, write_workbook
    from query.scope import ScopeError

    with engine.connect() as conn:
        scope: Scope = Scope(None, level) if level else ALL
        if place:
            scope = Scope(resolve_place(conn, place), level)  # type: ignore[arg-type]
        name = file_name(year, scope)
        try:
            summary = write_workbook(conn, year, scope, folder / name)
        except (ExportError, ScopeError) as exc:
            raise Problem(f"无法导出：{exc}") from None
    counts = "，".join(f"{sheet} {rows:,} 行" for sheet, rows in summary.sheets.items())
    lines = [f"{year}年度{summary.scope}政务公开年报核查", f"按已收录的 {summary.reports:,} 份报告统计；{counts}"]
    if summary.reports == 0:
        lines.append(f"提示：{summary.scope}没有已收录的{year}年度报告（请检查年度、地区）。")
    lines += [f"注：{note}" for note in summary.notes]
    caption = "\n".join(lines)
    if len(caption) > 1000:
        caption = caption[:999] + "…"
    return Exported(summary.path, name, caption, f"已生成 {name}（用时 {summary.seconds:.1f} 秒）")


async def _edit(status: Message, text: str) -> None:
    with suppress(TelegramError):  # the status message is a courtesy
        await status.edit_text(escape(text))


async def export_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/export 年份 [地区] [层级]: the year's workbook, as a file."""
    message = update.effective_message
    if message is None:
        return
    args = command_args(context)
    if sum(len(a) for a in args) > MAX_ARGS:
        await usage(update, EXPORT_USAGE, "参数太长了。")
        return
    svc = services(context)
    f = read_filters(args, svc.today().year)
    if f.year is None:
        await usage(update, EXPORT_USAGE, "请给出年度。")
        return
    if not await within_rate(update, context):
        return
    where = f"{f.year}年度{f.region or ''}"
    status = await message.reply_text(escape(f"正在生成{where}的工作簿，请稍候…"))
    with suppress(TelegramError):
        await message.chat.send_action(ChatAction.UPLOAD_DOCUMENT)
    semaphore = context.bot_data.setdefault(_SEMAPHORE, asyncio.Semaphore(EXPORTS_AT_ONCE))
    folder = Path(tempfile.mkdtemp(prefix="xxgk-export-"))
    try:
        async with semaphore:
            try:
                exported = await svc.db(write, svc.engine, f.year, f.region, f.level, folder)
            except Problem as exc:
                await _edit(status, str(exc))
                return
            except Exception:  # noqa: BLE001 - logged; the user is told in the status message
                log.exception("export of %s failed", where)
                await _edit(status, f"生成失败。{ERROR}")
                return
        size = exported.path.stat().st_size
        limit = SELF_HOSTED_UPLOAD_LIMIT if svc.config.base_url else UPLOAD_LIMIT
        if size > limit:
            await _edit(status, f"工作簿有 {size / 1024 / 1024:.0f} MB，超过 Telegram 的 {limit // 1024 // 1024} MB "
                                "上限：请缩小范围（地区或层级），或在服务器上用 xxgk export 导出。")
            return
        with exported.path.open("rb") as handle:
            await message.reply_document(handle, filename=exported.filename, caption=escape(exported.caption))
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    await _edit(status, exported.done)
