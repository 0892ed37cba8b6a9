"""`xxgk bot`: run the Telegram bot (bot.app) with long polling until Ctrl-C.

The token comes from the configuration ([bot] token, better the environment: XXGK_BOT__TOKEN) and
is never printed: httpx's request log (whose URLs hold it) is silenced and every log line passes a
filter that blanks it and the database password out."""

from __future__ import annotations

import logging
import traceback
import typer

from xxgk.cli_common import ConfigOption, err, open_engine, settings_from
from xxgk.config import scrub, secret_values

NO_TOKEN = ("错误：没有配置 Telegram 机器人令牌。请在环境变量 XXGK_BOT__TOKEN 中给出"
            "（或写在配置文件的 [bot] token 中；令牌由 @BotFather 发放）")


class _Redact(logging.Filter):
    """Blanks the secrets (the token, the database password: config.secret_values) out of every
    log record."""

    def __init__(self, secrets: list[str]) -> None:
        super().__init__()
        self.secrets = secrets

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = scrub(message, self.secrets)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        if record.exc_info and record.exc_info[1] is not None:
            text = "".join(traceback.format_exception(*record.exc_info)).rstrip("\n")
            record.exc_text = scrub(text, self.secrets)  # the formatter prints exc_text as is
        return True


def _logging(secrets: list[str]) -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(_Redact(secrets))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.INFO)
    for noisy in ("httpx", "httpcore", "apscheduler"):  # httpx logs every request URL, the token in it
        logging.getLogger(noisy).setLevel(logging.WARNING)


def bot_command(config: ConfigOption = None) -> None:
    """运行 Telegram 机器人（长轮询），按 Ctrl-C 结束。

    督查人员可直接用中文提问，或用 /report、/stats、/late、/missing、/issues、/top、/ack、/dismiss 等命令；只有管理员（配置项 bot.admins）授权的用户可以使用。令牌请放在环境变量 XXGK_BOT__TOKEN 中。

    退出状态：0 按 Ctrl-C 正常结束；1 无法连接 Bot API；2 没有配置令牌、令牌无效，或配置、数据库错误。
    """
    settings = settings_from(config)
    token = settings.bot.token.get_secret_value().strip() if settings.bot.token is not None else ""
    if not token:
        err.print(NO_TOKEN)
        raise typer.Exit(2)
    from telegram import Update
    from telegram.error import InvalidToken, NetworkError, TelegramError

    from bot.app import build_application

    secrets = secret_values(settings)
    _logging(secrets)
    engine = open_engine(settings)
    if not settings.bot.admins:
        err.print("提示：没有配置管理员（bot.admins），没有人能授权新用户使用机器人。")
    application = build_application(settings, engine)
    err.print("机器人已启动（长轮询），按 Ctrl-C 结束。")
    try:
        application.run_polling(allowed_updates=Update.ALL_TYPES)
    except InvalidToken:
        err.print("错误：Telegram 不接受这个机器人令牌，请检查 XXGK_BOT__TOKEN。")
        raise typer.Exit(2) from None
    except NetworkError as exc:
        where = settings.bot.base_url or "https://api.telegram.org"
        err.print(f"错误：无法连接 Telegram Bot API（{scrub(where, secrets)}）：{scrub(str(exc), secrets)}")
        raise typer.Exit(1) from None
    except TelegramError as exc:
        err.print(f"错误：Telegram Bot API 出错：{scrub(str(exc), secrets)}")
        raise typer.Exit(1) from None
    finally:
        engine.dispose()
    err.print("机器人已停止。")
