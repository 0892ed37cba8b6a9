"""`xxgk config check`: validate the settings (TOML file and environment) without starting
anything: no scheduler, no bot, no database connection."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

import typer

from xxgk.cli_common import ConfigOption, err

app = typer.Typer(help="配置：检查配置是否有效。", no_args_is_help=True)


def config_source(path: Path | None) -> str | None:
    """The file load_settings reads for `path` (None: defaults and the environment only)."""
    from xxgk.config import DEFAULT_CONFIG_FILE

    explicit = path or os.environ.get("XXGK_CONFIG")
    if explicit:
        return str(explicit)
    return DEFAULT_CONFIG_FILE if Path(DEFAULT_CONFIG_FILE).is_file() else None


@app.command("check")
def check_command(config: ConfigOption = None) -> None:
    """检查配置（TOML 文件与 XXGK_ 环境变量）：键名、取值、站点、计划任务、数据库地址；不启动服务，也不连接数据库。

    有效时列出各计划任务的下次运行时间（北京时间）。退出状态：0 配置有效；2 配置有误（错误信息指出配置项和文件）。
    """
    from xxgk.service import plan

    from xxgk.cli_common import database_label, load
    from xxgk.config import ConfigError, scrub, secret_values

    source = config_source(config)
    try:
        settings = load(config)
    except ConfigError as exc:  # 「错误：配置有误（文件）：键: 原因」, on one line
        err.print(f"错误：{exc}", soft_wrap=True, markup=False)
        raise typer.Exit(2) from None
    where = source or "默认值与环境变量"
    try:
        from db.engine import make_engine

        make_engine(settings.database_url).dispose()  # parses the URL and loads its driver; no connection
    except Exception as exc:  # noqa: BLE001 - any URL or driver problem is reported the same way
        why = scrub(f"{type(exc).__name__}: {exc}", secret_values(settings))
        err.print(f"错误：配置有误（{where}）：database_url: 无法使用该数据库地址 {database_label(settings)}（{why}）",
                  soft_wrap=True, markup=False)
        raise typer.Exit(2) from None

    print(f"配置有效：{source or '未使用配置文件（默认值与环境变量）'}")
    print(f"数据库：{database_label(settings)}")
    print(f"站点：{len(settings.sites)} 个")
    bot = settings.bot
    if bot.token is not None and bot.token.get_secret_value().strip():
        print(f"机器人：已配置令牌，管理员 {len(bot.admins)} 人")
        if not bot.admins:
            err.print("提示：没有配置管理员（bot.admins），没有人能授权新用户使用机器人。")
    else:
        print("机器人：未配置令牌（XXGK_BOT__TOKEN），xxgk serve 只运行监测任务")
    specs = plan.plan(settings)
    if not specs:
        print("计划任务：无")
        return
    print("计划任务（北京时间）：")
    now = datetime.now(UTC)
    for spec in specs:
        runs = plan.next_runs(spec, now)
        when = runs[0].astimezone(plan.TZ).strftime("%Y-%m-%d %H:%M") if runs else "不再运行"
        print(f"  {spec.id}  下次 {when}  {spec.name}")
