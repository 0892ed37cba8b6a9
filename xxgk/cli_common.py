"""What every `xxgk` subcommand shares: the config option, settings and database opening, the
error console. Errors are one Chinese line on stderr and a non-zero exit status."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console

from xxgk.config import ConfigError, Settings, load_settings

err = Console(stderr=True, highlight=False)

ConfigOption = Annotated[
    Optional[Path],
    typer.Option("--config", "-c", help="TOML 配置文件（默认读取 $XXGK_CONFIG 或当前目录的 xxgk.toml）。"),
]


def settings_from(config: Path | None) -> Settings:
    try:
        return load_settings(config)
    except ConfigError as exc:
        err.print(f"错误：{exc}")
        raise typer.Exit(2) from None


def open_engine(settings: Settings):  # -> sqlalchemy Engine, imported lazily for a fast --help
    from db.engine import make_engine, upgrade

    try:
        engine = make_engine(settings.database_url)
        upgrade(engine)
    except Exception as exc:  # noqa: BLE001 - any driver/connection error is reported the same way
        err.print(f"错误：无法打开数据库 {settings.database_url}：{exc}")
        raise typer.Exit(2) from None
    return engine


