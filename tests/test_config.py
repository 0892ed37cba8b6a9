"""Configuration: the example file is valid, the environment overrides it, mistakes are named."""

from __future__ import annotations

import pytest

from conftest import REPO
from xxgk.config import ConfigError, load_settings


def test_example_config_is_valid():
    settings = load_settings(REPO / "config.example.toml")
    assert settings.database_url == "sqlite:///xxgk.db"
    assert [s.name for s in settings.sites] == ["镇海区人社局", "平潭综合实验区"]
    assert settings.sites[1].agency == "portal" and settings.sites[1].level == "government"
    assert settings.crawler.user_agent_header.startswith("xxgk-monitor/") and "http" in settings.crawler.user_agent_header


def test_environment_overrides_file(tmp_path, monkeypatch):
    cfg = tmp_path / "x.toml"
    cfg.write_text('database_url = "sqlite:///a.db"\n[crawler]\nper_host_delay_s = 3\n', encoding="utf-8")
    monkeypatch.setenv("XXGK_DATABASE_URL", "sqlite:///b.db")
    monkeypatch.setenv("XXGK_CRAWLER__CONCURRENCY", "2")
    settings = load_settings(cfg)
    assert settings.database_url == "sqlite:///b.db"
    assert settings.crawler.concurrency == 2 and settings.crawler.per_host_delay_s == 3


@pytest.mark.parametrize("body,words", [
    ('[[sites]]\nname = "x"\nagency = "y"\n', ["sites.0.list_urls"]),
    ('[[sites]]\nname = "x"\nagency = "y"\nlist_urls = ["http://a"]\nlevel = "county"\n', ["sites.0.level"]),
    ('[crawler]\nconcurency = 3\n', ["crawler.concurency"]),
    ('[crawler]\nretries = -1\n', ["crawler.retries"]),
    ('[crawler]\nuser_agent = "bot {name}"\n', ["crawler.user_agent", "contact_url"]),
    ('[[sites]]\nname = "a"\nagency = "x"\nlist_urls = ["http://a"]\n[[sites]]\nname = "a"\nagency = "y"\n'
     'list_urls = ["http://b"]\n', ["sites", "重复"]),
])
def test_mistakes_are_named(tmp_path, body, words):
    cfg = tmp_path / "bad.toml"
    cfg.write_text(body, encoding="utf-8")
    with pytest.raises(ConfigError) as exc:
        load_settings(cfg)
    for word in words:
        assert word in str(exc.value)
    assert "\n" not in str(exc.value)


def test_unreadable_config_files(tmp_path):
    utf16 = tmp_path / "utf16.toml"
    utf16.write_bytes('database_url = "x"'.encode("utf-16"))
    with pytest.raises(ConfigError, match="UTF-8"):
        load_settings(utf16)
    with pytest.raises(ConfigError, match="无法读取"):
        load_settings(tmp_path)  # a directory


def test_read_time_limit_defaults_to_the_conversion_limit(tmp_path):
    cfg = tmp_path / "x.toml"
    cfg.write_text("[checks]\nconvert_timeout_s = 90\n", encoding="utf-8")
    assert load_settings(cfg).checks.read_limit_s == 90
    cfg.write_text("[checks]\nconvert_timeout_s = 90\nread_timeout_s = 20\n", encoding="utf-8")
    assert load_settings(cfg).checks.read_limit_s == 20
    cfg.write_text("[checks]\nread_timeout_s = 0\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="checks.read_timeout_s"):
        load_settings(cfg)
