"""One typed configuration object, read from a TOML file and the environment.

Precedence (highest first): environment variables (``XXGK_DATABASE_URL``,
``XXGK_CHECKS__MAX_FILE_MB`` …), the TOML file (``--config``, ``$XXGK_CONFIG`` or
``./xxgk.toml``), then the defaults below. See ``config.example.toml``.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections import Counter
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

DEFAULT_CONFIG_FILE = "xxgk.toml"


class ChecksConfig(BaseModel):
    max_file_mb: float = Field(50.0, gt=0, description="Files larger than this are refused unread.")
    soffice: str = Field("soffice", description="LibreOffice binary used to convert .doc/.wps.")
    convert_timeout_s: float = Field(120.0, gt=0, description="Time limit of one LibreOffice conversion.")
    read_timeout_s: float | None = Field(
        None, gt=0, description="Time limit of reading and checking one document in this process "
                                "(unset: convert_timeout_s).")

    @property
    def read_limit_s(self) -> float:
        return self.convert_timeout_s if self.read_timeout_s is None else self.read_timeout_s


class SiteHints(BaseModel):
    """Only where discovery fails: name the platform, or a CSS selector for report links, or the
    unit codes of a jcms site's annual-report module."""

    model_config = {"extra": "forbid"}

    platform: Literal["trs", "jcms", "gkmlpt", "plain"] | None = None
    link_selector: str | None = None  # CSS selector for the <a> elements of report links on list pages
    body_selector: str | None = None  # CSS selector of the article body
    # Hanweb jcms: units (area codes, usually the 统一社会信用代码) whose reports are asked of the
    # annual-report module /module/xxgk/xxgkAnnualReport.jsp?area=<code>&fbtime=<year>, one request
    # per year. Codes linked from the site's list pages are found without this.
    unit_codes: list[str] = Field(default_factory=list)

    @field_validator("unit_codes")
    @classmethod
    def _unit_codes(cls, value: list[str]) -> list[str]:
        codes = [code.strip() for code in value]
        for code in codes:
            if not code or len(code) > 40 or not all(ch.isascii() and (ch.isalnum() or ch == "-") for ch in code):
                raise ValueError(f"单位代码“{code}”无效：应为字母、数字或连字符（如统一社会信用代码 11370826004323472M）")
        return list(dict.fromkeys(codes))


class SiteConfig(BaseModel):
    """One disclosure site (a column of annual reports) to crawl."""

    model_config = {"extra": "forbid"}

    name: str = Field(min_length=1)
    agency: str = Field(min_length=1, description="The publishing agency, or 'portal' for a portal of many agencies.")
    region_code: str | None = None
    region_name: str | None = None
    level: Literal["department", "government", "township"] | None = None
    list_urls: list[str] = Field(min_length=1)
    allowed_hosts: list[str] = Field(default_factory=list, description="Extra official hosts (attachments elsewhere).")
    hints: SiteHints = Field(default_factory=SiteHints)


class CrawlerConfig(BaseModel):
    model_config = {"extra": "forbid"}

    user_agent: str = "xxgk-monitor/0.1 (+{contact_url})"
    contact_url: str = "https://github.com/xxgk-monitor/xxgk-monitor"
    concurrency: int = Field(8, ge=1, le=256, description="Requests in flight across all hosts.")
    per_host_delay_s: float = Field(1.0, ge=0, description="Pause between two requests to the same host.")
    timeout_s: float = Field(20.0, gt=0)
    retries: int = Field(3, ge=0, le=10, description="Retries on 5xx, 429 and network errors (never on other 4xx).")
    backoff_s: float = Field(1.0, ge=0, description="First retry delay; doubles each time (Retry-After wins).")
    max_retry_after_s: float = Field(120.0, ge=0, description="Longest Retry-After honoured; longer means give up.")
    max_response_mb: float = Field(50.0, gt=0)
    max_response_s: float | None = Field(
        None, gt=0,
        description="Longest time one response may take from request to last byte (a server trickling an "
                    "endless body); default 5 x timeout_s.",
    )
    max_redirects: int = Field(5, ge=0, le=20)
    allow_private_addresses: bool = Field(
        False,
        description="Fetch hosts that resolve to private, loopback, link-local, reserved, multicast or "
                    "unspecified addresses. Off: every address a name resolves to is checked before connecting "
                    "(a site's name pointing into the internal network is refused). Only for sites on an internal "
                    "network, the demo and tests on loopback.",
    )
    max_list_pages: int = Field(30, ge=1, description="Pagination limit per list URL.")
    respect_robots: bool = True
    robots_cache_hours: float = Field(
        24.0, ge=0, le=24,
        description="Reuse a site's robots.txt read by an earlier crawl for this long (RFC 9309: at most 24 "
                    "hours); 0: read it on every crawl.",
    )
    recheck_after_days: float = Field(
        7.0, ge=0,
        description="Revisit a known report page that its unchanged list still shows after this many days "
                    "(to notice edits after publication); 0: on every crawl.",
    )
    check_workers: int = Field(
        default_factory=lambda: min(4, (os.cpu_count() or 1) + 1), ge=0, le=64,
        description="Worker processes that read, check and store fetched reports (0: in the crawler's own "
                    "process). One more than the cores: the crawler's own process mostly waits on the network.",
    )

    @field_validator("user_agent")
    @classmethod
    def _user_agent_placeholders(cls, value: str) -> str:
        try:
            value.format(contact_url="")
        except (KeyError, IndexError, ValueError):
            raise ValueError("只能使用 {contact_url} 这一个占位符") from None
        return value

    @property
    def user_agent_header(self) -> str:
        return self.user_agent.format(contact_url=self.contact_url)

    @property
    def response_time_limit_s(self) -> float:
        """The whole of one response (request to last byte) may take at most this long."""
        return self.max_response_s if self.max_response_s is not None else 5 * self.timeout_s


class DeadlineOverride(BaseModel):
    """A local rule: agencies of `level` (all levels if omitted) in the region subtree `region`
    (a region code: 330000 for 浙江省, 330200 for 宁波市) publish by `date` instead."""

    model_config = {"extra": "forbid"}

    region: str = Field(min_length=2, pattern=r"^\d+$")
    level: Literal["department", "government", "township"] | None = None
    date: str = Field(pattern=r"^\d{2}-\d{2}$", description="MM-DD of the year after the report's year")

    @field_validator("date")
    @classmethod
    def _real_day(cls, value: str) -> str:
        _month_day(value)
        return value


class DeadlinesConfig(BaseModel):
    """When a report on year Y is due, as MM-DD of year Y+1 (政府信息公开条例 第四十九条、第五十条).
    Townships have no national date; local rules differ, so it is configurable."""

    model_config = {"extra": "forbid"}

    department: str = Field("01-31", pattern=r"^\d{2}-\d{2}$")
    government: str = Field("03-31", pattern=r"^\d{2}-\d{2}$")
    township: str = Field("03-31", pattern=r"^\d{2}-\d{2}$")
    overrides: list[DeadlineOverride] = Field(default_factory=list)

    @field_validator("department", "government", "township")
    @classmethod
    def _real_day(cls, value: str) -> str:
        _month_day(value)
        return value


def _month_day(value: str) -> tuple[int, int]:
    import datetime as dt

    month, day = (int(p) for p in value.split("-"))
    try:
        dt.date(2001, month, day)  # not a leap year: 02-29 would be a deadline that some years lack
    except ValueError:
        raise ValueError(f"不是有效的月-日：{value}") from None
    return month, day


_QUIET_HOURS = r"^\s*(\d{1,2})[:：](\d{2})\s*(?:-|–|—|~|～|至|到)\s*(\d{1,2})[:：](\d{2})\s*$"
QUIET_HOURS_HELP = "免打扰时段应写成 HH:MM-HH:MM（北京时间，可跨午夜），如 22:00-07:00"


def parse_quiet_hours(text: str) -> tuple[Any, Any]:
    """(quiet_from, quiet_until) as datetime.time from "22:00-07:00" (Beijing time; the span may
    cross midnight; 22:00–07:00, 22：00至07：00 too). ValueError with a Chinese message otherwise."""
    import datetime as dt
    import re

    m = re.match(_QUIET_HOURS, text or "")
    if m is None:
        raise ValueError(f"{QUIET_HOURS_HELP}：{text}")
    h1, m1, h2, m2 = (int(g) for g in m.groups())
    if h1 > 23 or h2 > 23 or m1 > 59 or m2 > 59:
        raise ValueError(f"免打扰时段中的时间无效（00:00–23:59）：{text}")
    start, end = dt.time(h1, m1), dt.time(h2, m2)
    if start == end:
        raise ValueError(f"免打扰时段的开始和结束不能相同：{text}")
    return start, end


def quiet_hours_text(quiet_from: Any, quiet_until: Any) -> str:
    """"22:00-07:00" for the two times; "" for none."""
    if quiet_from is None or quiet_until is None:
        return ""
    return f"{quiet_from:%H:%M}-{quiet_until:%H:%M}"


class SubscriberConfig(BaseModel):
    """A subscriber kept in the configuration (`[[subscribers]]`): synced into the subscriber table
    by name (compliance.alerts.sync_subscribers) before alerts are sent; the configuration wins over
    the table for that name. Removing an entry does not remove the subscriber: set `active = false`
    (or run `xxgk alerts unsubscribe NAME`)."""

    model_config = {"extra": "forbid"}

    name: str = Field(min_length=1, description="Unique name; shown in digests.")
    channel: str = Field(
        min_length=1, description="console, webhook, telegram, wecom, dingtalk, feishu, email or apprise.")
    target: str = Field("", description="The channel's target: a URL, a chat id, a robot's Webhook address …")
    region: str | None = Field(None, description="Only this region's subtree (a region code: 330200).")
    level: Literal["department", "government", "township"] | None = None
    agency: str | None = Field(None, description="Only this agency (its registered name or an alias).")
    min_severity: Literal["error", "warning", "info"] = "warning"
    mode: Literal["immediate", "digest"] = "immediate"
    quiet_hours: str | None = Field(
        None, description="HH:MM-HH:MM, Beijing time, may cross midnight: alerts wait until it ends.")
    active: bool = True

    @field_validator("name", "channel")
    @classmethod
    def _stripped(cls, value: str) -> str:
        value = value.strip()
        if not value:
            raise ValueError("不能为空")
        return value

    @field_validator("region")
    @classmethod
    def _region_code(cls, value: str | None) -> str | None:
        from compliance.regions import is_region_code

        if value is None:
            return None
        value = value.strip()
        if not is_region_code(value):
            raise ValueError(f"地区代码无效：{value}（应为 2、4、6、9 或 12 位数字的行政区划代码，如 330200）")
        return value

    @field_validator("quiet_hours")
    @classmethod
    def _quiet_hours(cls, value: str | None) -> str | None:
        if value is None or not value.strip() or value.strip() in ("无", "none", "off"):
            return None
        return quiet_hours_text(*parse_quiet_hours(value))

    @property
    def quiet_span(self) -> tuple[Any, Any]:
        """(quiet_from, quiet_until) as datetime.time, or (None, None)."""
        return parse_quiet_hours(self.quiet_hours) if self.quiet_hours else (None, None)


class BotConfig(BaseModel):
    """The Telegram bot. The token is a secret: give it in the environment (XXGK_BOT__TOKEN), not
    in a file you share; it is never printed."""

    token: SecretStr | None = Field(None, description="Bot token from @BotFather (env XXGK_BOT__TOKEN).")
    base_url: str | None = Field(
        None, description="Bot API server, e.g. a self-hosted one: https://host/bot (default: Telegram's)."
    )
    admins: list[int] = Field(default_factory=list, description="Telegram user ids who approve users and run /crawl.")
    page_size: int = Field(10, ge=1, le=50, description="Lines per page of a long answer.")
    user_rate_per_minute: int = Field(20, ge=1, description="Questions one user may ask per minute.")


Cadence = Literal["daily", "weekly", "monthly", "never"]
Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]


def _clock(value: str, *, off: bool = False) -> str:
    """An HH:MM time of day (or "off" where a job may be switched off)."""
    import re

    value = value.strip()
    if off and value == "off":
        return value
    match = re.fullmatch(r"(\d{1,2}):(\d{2})", value)
    if match is None or int(match.group(1)) > 23 or int(match.group(2)) > 59:
        raise ValueError(f"时间应为 HH:MM（00:00–23:59）{'或 off' if off else ''}：{value}")
    return f"{int(match.group(1)):02d}:{match.group(2)}"


class SiteSchedule(BaseModel):
    """A site crawled on its own cadence (`[schedule.sites."name"]`); what is left out is the
    [schedule] default."""

    model_config = {"extra": "forbid"}

    in_season: Cadence | None = None
    off_season: Cadence | None = None
    crawl_at: str | None = None
    crawl_weekday: Weekday | None = None

    @field_validator("crawl_at")
    @classmethod
    def _time(cls, value: str | None) -> str | None:
        return None if value is None else _clock(value)


class ScheduleConfig(BaseModel):
    """When `xxgk serve` runs each job, in Beijing time (Asia/Shanghai). See config.example.toml."""

    model_config = {"extra": "forbid"}

    season_start: str = Field("01-01", description="First day (MM-DD) of the publication season.")
    season_end: str = Field("04-15", description="Last day (MM-DD) of the publication season.")
    in_season: Cadence = Field("daily", description="How often sites are crawled in the season.")
    off_season: Cadence = Field("weekly", description="How often sites are crawled the rest of the year.")
    crawl_at: str = Field("02:00", description="Time of day (HH:MM) crawls start.")
    crawl_weekday: Weekday = Field("mon", description="Day of a weekly crawl.")
    crawl_new_sites_at_start: bool = Field(
        True, description="At start, crawl at once the sites never crawled (a first start, sites added).")
    resume_interrupted: bool = Field(
        True, description="At start, crawl again at once the sites whose last crawl was interrupted.")
    sites: dict[str, SiteSchedule] = Field(default_factory=dict, description="Per-site cadence, by site name.")
    sweep_after_crawl: bool = Field(True, description="Sweep the years a crawl touched, and the latest ones.")
    sweep_years: int = Field(2, ge=1, le=20, description="Report years swept by a scheduled sweep (the latest).")
    sweep_at: str = Field("07:00", description="Time of the deadline sweeps (HH:MM, or off).")
    sweep_weekday: Weekday = Field("mon", description="Day of the weekly sweep.")
    digest_at: str = Field("08:30", description="Time of the daily digest (HH:MM, or off).")
    retry_minutes: float = Field(15.0, ge=0, description="Undelivered alerts are retried this often (0: off).")
    max_attempts: int = Field(5, ge=1, le=100, description="Channel failures before a delivery is given up.")
    misfire_grace_hours: float = Field(
        168.0, gt=0, description="A run missed while stopped is still made this late (then skipped).")
    shutdown_timeout_s: float = Field(
        60.0, ge=0, description="On stop, how long sweeps and deliveries in flight may finish.")
    standby_poll_s: float = Field(
        5.0, gt=0, description="A second `xxgk serve` on standby checks this often whether it can take over.")
    crawl_by_workers: bool = Field(
        False, description="Crawl jobs only queue the crawl for `xxgk worker` processes instead of crawling.")
    lease_s: float = Field(
        120.0, ge=5, description="A worker's claim on a host group lasts this long unless renewed.")
    worker_batch: int = Field(
        16, ge=1, le=1000, description="Host groups a worker claims and crawls together (its crawler's concurrency spans them).")

    @field_validator("season_start", "season_end")
    @classmethod
    def _day(cls, value: str) -> str:
        import re

        if not re.fullmatch(r"\d{2}-\d{2}", value):
            raise ValueError(f"日期应为 MM-DD：{value}")
        _month_day(value)
        return value

    @field_validator("crawl_at")
    @classmethod
    def _time(cls, value: str) -> str:
        return _clock(value)

    @field_validator("sweep_at", "digest_at")
    @classmethod
    def _time_or_off(cls, value: str) -> str:
        return _clock(value, off=True)


def _refuse_repeated(names: list[str], what: str, table: str) -> None:
    """ValueError naming the names given more than once (each entry of `table` needs its own)."""
    repeated = sorted(n for n, k in Counter(names).items() if k > 1)  # linear: 150,000 sites is a real config
    if repeated:
        raise ValueError(f"{what}：{'、'.join(repeated)}（每个 {table} 的 name 必须不同）")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="XXGK_", env_nested_delimiter="__", extra="forbid")

    database_url: str = "sqlite:///xxgk.db"
    checks: ChecksConfig = Field(default_factory=ChecksConfig)
    crawler: CrawlerConfig = Field(default_factory=CrawlerConfig)
    sites: list[SiteConfig] = Field(default_factory=list)
    deadlines: DeadlinesConfig = Field(default_factory=DeadlinesConfig)
    bot: BotConfig = Field(default_factory=BotConfig)
    subscribers: list[SubscriberConfig] = Field(default_factory=list)
    schedule: ScheduleConfig = Field(default_factory=ScheduleConfig)

    @field_validator("schedule")
    @classmethod
    def _scheduled_sites_exist(cls, schedule: ScheduleConfig, info: Any) -> ScheduleConfig:
        if "sites" not in info.data:  # the sites are invalid: that error is reported instead
            return schedule
        unknown = sorted(set(schedule.sites) - {s.name for s in info.data["sites"]})
        if unknown:
            raise ValueError(f"schedule.sites 中的站点不在 [[sites]] 中：{'、'.join(unknown)}")
        return schedule

    @field_validator("subscribers")
    @classmethod
    def _unique_subscriber_names(cls, subscribers: list[SubscriberConfig]) -> list[SubscriberConfig]:
        _refuse_repeated([s.name for s in subscribers], "订阅者名称重复", "[[subscribers]]")
        return subscribers

    @field_validator("sites")
    @classmethod
    def _unique_site_names(cls, sites: list[SiteConfig]) -> list[SiteConfig]:
        _refuse_repeated([s.name for s in sites], "站点名称重复", "[[sites]]")
        return sites

    def __repr_args__(self) -> Any:  # repr(settings) in a log or traceback: no database password
        for name, value in super().__repr_args__():
            yield name, redact_url(value) if name == "database_url" and isinstance(value, str) else value

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # init kwargs carry the TOML file's content (see load_settings); env overrides it.
        return env_settings, init_settings


class ConfigError(Exception):
    """A config file that is missing, not TOML, or has wrong keys/values. One line, Chinese."""


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError:
        raise ConfigError(f"配置文件不存在：{path}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"配置文件 {path} 不是有效的 TOML：{exc}") from None
    except UnicodeDecodeError:
        raise ConfigError(f"配置文件 {path} 不是 UTF-8 编码的文本") from None
    except OSError as exc:
        raise ConfigError(f"无法读取配置文件 {path}：{exc.strerror or exc}") from None


def load_settings(path: str | Path | None = None) -> Settings:
    """Settings from `path` (or $XXGK_CONFIG, or ./xxgk.toml if present) and the environment."""
    explicit = path or os.environ.get("XXGK_CONFIG")
    data: dict[str, Any] = {}
    if explicit:
        data = _read_toml(Path(explicit))
    elif Path(DEFAULT_CONFIG_FILE).is_file():
        data = _read_toml(Path(DEFAULT_CONFIG_FILE))
    try:
        return Settings(**data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in exc.errors()
        )
        source = explicit or DEFAULT_CONFIG_FILE
        raise ConfigError(f"配置有误（{source}）：{problems}") from None


# ---- secrets: the bot token and the database password are never printed ----------------------

_URL_PASSWORD = re.compile(r"^(?P<head>[A-Za-z][\w+.-]*://[^:/?#@]*:)(?P<password>[^@]*)(?=@)")
_QUERY_PASSWORD = re.compile(r"(?P<head>[?&]password=)(?P<password>[^&#]*)", re.IGNORECASE)
MASK = "***"
MIN_SECRET = 4  # shorter "secrets" would blank out ordinary words


def redact_url(url: str) -> str:
    """A database URL with its password (in the userinfo or as ?password=) masked: for messages,
    logs and `xxgk status`. Works on URLs SQLAlchemy cannot parse too."""
    url = _URL_PASSWORD.sub(lambda m: m.group("head") + MASK, url)
    return _QUERY_PASSWORD.sub(lambda m: m.group("head") + MASK, url)


def secret_values(settings: Settings) -> list[str]:
    """The strings never to print: the bot token (and its secret part after the colon) and the
    database password, as given and in its URL-encoded and decoded forms. Longest first, so that a
    replacement never leaves the tail of a longer one behind."""
    from urllib.parse import quote, quote_plus, unquote, unquote_plus

    found: set[str] = set()
    token = settings.bot.token.get_secret_value().strip() if settings.bot.token is not None else ""
    if token:
        found.update({token, token.partition(":")[2]})
    for m in (*_URL_PASSWORD.finditer(settings.database_url), *_QUERY_PASSWORD.finditer(settings.database_url)):
        raw = m.group("password")
        for plain in (raw, unquote(raw), unquote_plus(raw)):
            found.update({plain, quote(plain, safe=""), quote_plus(plain)})
    return sorted((s for s in found if len(s) >= MIN_SECRET), key=len, reverse=True)


def scrub(text: str, secrets: list[str]) -> str:
    """`text` with every one of `secrets` (secret_values) replaced by ***."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, MASK)
    return text
