"""What every `xxgk` subcommand shares: the config option, settings and database opening, the
error console. Errors are one Chinese line on stderr and a non-zero exit status, and never show
the database password or the bot token (xxgk.config.redact_url, scrub)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console

from xxgk.config import ConfigError, Settings, load_settings, redact_url, scrub, secret_values

err = Console(stderr=True, highlight=False)

ConfigOption = Annotated[
    Optional[Path],
    typer.Option("--config", "-c", help="TOML 配置文件（默认读取 $XXGK_CONFIG 或当前目录的 xxgk.toml）。"),
]


def load(config: Path | None) -> Settings:
    """load_settings, with an environment variable that is not valid JSON (XXGK_BOT__ADMINS=abc,
    which pydantic-settings reports as a SettingsError) as a ConfigError too."""
    from pydantic_settings import SettingsError

    try:
        return load_settings(config)
    except SettingsError as exc:  # its message names the field and the source, never the value
        raise ConfigError(f"配置有误（环境变量）：{exc}") from None


def settings_from(config: Path | None) -> Settings:
    try:
        return load(config)
    except ConfigError as exc:
        err.print(f"错误：{exc}", soft_wrap=True, markup=False)
        raise typer.Exit(2) from None


def open_engine(settings: Settings):  # -> sqlalchemy Engine, imported lazily for a fast --help
    from db.engine import make_engine, upgrade

    try:
        engine = make_engine(settings.database_url)
        upgrade(engine)
    except Exception as exc:  # noqa: BLE001 - any driver/connection error is reported the same way
        err.print(f"错误：无法打开数据库 {database_label(settings)}：{scrub(str(exc), secret_values(settings))}",
                  soft_wrap=True, markup=False)
        raise typer.Exit(2) from None
    return engine


def database_label(settings: Settings) -> str:
    """The configured database URL as it may be printed: password masked."""
    return redact_url(settings.database_url)
