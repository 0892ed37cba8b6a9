"""`xxgk agencies`: 单位名录：导入、查看、认领未匹配的单位。"""

from __future__ import annotations

import typer

app = typer.Typer(help="单位名录：导入、查看、认领未匹配的单位。", no_args_is_help=True)
