"""`xxgk ask`: a plain Chinese question answered on the command line by the bot's question engine
(bot.ask), so that it can be used and tested without Telegram."""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Annotated, Optional

import typer

from xxgk.cli_common import ConfigOption, err, open_engine, settings_from

EXIT_STATUS = {"ok": 0, "no_data": 0, "not_understood": 1, "not_found": 1, "choose": 3}


def ask_command(
    question: Annotated[str, typer.Argument(
        help="问题，如 “2021年哪些单位收到了申请”“镇海区人社局2021年收到多少申请”“去年哪些局逾期发布”。",
        metavar="问题", show_default=False)],
    today: Annotated[Optional[str], typer.Option(
        "--today", help="以这一天为“今天”（YYYY-MM-DD，默认北京时间今天）：决定“今年”“去年”“前年”。",
        metavar="YYYY-MM-DD")] = None,
    page: Annotated[int, typer.Option("--page", "-p", help="第几页（长的列表每页 10 条）。", min=1)] = 1,
    as_json: Annotated[bool, typer.Option("--json", help="输出 JSON（含解析结果、分页和查询表格）。")] = False,
    agency: Annotated[Optional[int], typer.Option(
        "--agency", help="名称对应多个单位时，用列出的编号指定其中一个。", min=1)] = None,
    region_code: Annotated[Optional[str], typer.Option(
        "--region-code", help="名称对应多个地区时，用列出的地区代码指定其中一个。")] = None,
    config: ConfigOption = None,
) -> None:
    """用中文提问，按已收录的报告回答：哪些单位收到申请、某单位某年的数据、地区合计、排名、逾期/未发布/数据不一致的单位、单位历年数据等。

    年度可写 2021年、2021年度、二〇二一年、今年、去年、前年；单位可用全称、简称或别名；地区可到省、市、县。看不懂的问题会给出三个相近的示例问法。

    退出状态：0 已回答（包括没有数据）；1 没有看懂，或找不到所说的单位、地区；2 参数或数据库错误；3 名称对应多个单位或地区，请用 --agency 或 --region-code 指定。
    """
    from bot.ask import PAGE_SIZE, ask, to_text
    from checks.model import CST

    try:
        day = date.fromisoformat(today) if today else datetime.now(CST).date()
    except ValueError:
        err.print(f"错误：--today 应为 YYYY-MM-DD 格式的日期：{today}")
        raise typer.Exit(2) from None
    engine = open_engine(settings_from(config))
    try:
        with engine.connect() as conn:
            answer = ask(conn, question, today=day, offset=(page - 1) * PAGE_SIZE, limit=PAGE_SIZE,
                         agency_id=agency, region_code=region_code)
    finally:
        engine.dispose()
    if as_json:
        typer.echo(json.dumps(answer.to_dict(), ensure_ascii=False, indent=2))
    else:
        typer.echo(to_text(answer))
        if answer.next_offset is not None:
            typer.echo(f"下一页：--page {page + 1}")
        if answer.choices:
            typer.echo("请用 --agency 编号 指定单位。" if answer.choices[0].agency_id is not None
                       else "请用 --region-code 代码 指定地区。")
    raise typer.Exit(EXIT_STATUS.get(answer.status, 0))
