"""`xxgk alerts`: 告警：订阅者管理与告警发送。"""

from __future__ import annotations

import typer

app = typer.Typer(help="告警：订阅者管理与告警发送。", no_args_is_help=True)
