"""`xxgk findings`: 问题：核查（逾期、未发布、数据衔接），查看、确认或标记误报。"""

from __future__ import annotations

import typer

app = typer.Typer(help="问题：核查（逾期、未发布、数据衔接），查看、确认或标记误报。", no_args_is_help=True)
