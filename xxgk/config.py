"""One typed configuration object, read from a TOML file and the environment.

Precedence (highest first): environment variables (``XXGK_DATABASE_URL``,
``XXGK_CHECKS__MAX_FILE_MB`` …), the TOML file (``--config``, ``$XXGK_CONFIG`` or
``./xxgk.toml``), then the defaults below. See ``config.example.toml``.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field, ValidationError
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

DEFAULT_CONFIG_FILE = "xxgk.toml"


class ChecksConfig(BaseModel):
    max_file_mb: float = Field(50.0, gt=0, description="Files larger than this are refused unread.")
    soffice: str = Field("soffice", description="LibreOffice binary used to convert .doc/.wps.")
    convert_timeout_s: float = Field(120.0, gt=0)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="XXGK_", env_nested_delimiter="__", extra="forbid")

    database_url: str = "sqlite:///xxgk.db"
    checks: ChecksConfig = Field(default_factory=ChecksConfig)

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
