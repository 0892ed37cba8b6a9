"""The bot's /chart, /export and /crawl, end to end on the fake Bot API server (tests/fake_telegram.py)
with the real Application and the store of tests/test_bot.py; /crawl crawls a demo site on loopback."""

from __future__ import annotations

import asyncio
import io
import re
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

import test_bot
from bot.handlers import crawl as crawl_handler
from bot.services import services
from fake_telegram import Call
from test_bot import ADMIN, ALICE, Harness, run
from xxgk.config import CrawlerConfig, SiteConfig
from xxgk.demo import DemoServer, sites_config, trs_site

PNG = b"\x89PNG\r\n\x1a\n"

# test_bot's store: built once for this module, a copy per test.
template = test_bot.template
store = test_bot.store


async def _reply(bot: Harness, sender: dict, text: str, method: str) -> Call:
    """`sender` writes `text`; the bot's next `method` call to that chat."""
    mark = bot.fake.mark()
    bot.fake.send(sender, text)
    return await bot.fake.wait_for(method, since=mark, where=lambda c: c.params["chat_id"] == sender["id"])


def test_chart_sends_a_png_with_a_caption(store: Engine) -> None:
    async def scenario(bot: Harness) -> None:
        regions = await _reply(bot, ALICE, "/chart 申请 2021 浙江省", "sendPhoto")
        assert regions.ok and regions.params["photo"]["data"].startswith(PNG)
        assert regions.params["caption"] == "2021年度浙江省本年新收申请合计\n按已收录的 5 份报告统计"
        assert bot.fake.find("sendChatAction", where=lambda c: c.params["action"] == "upload_photo")

        line = await _reply(bot, ALICE, "/chart 申请 历年 镇海区人社局", "sendPhoto")
        assert line.params["photo"]["data"].startswith(PNG)
        assert line.params["caption"].startswith("宁波市镇海区人力资源和社会保障局历年本年新收申请")

        unknown = await bot.say(ALICE, "/chart 天气 2021")
        assert unknown.text.startswith("未知的指标：天气（是否指：") and "用法：/chart 指标" in unknown.text
        nowhere = await bot.say(ALICE, "/chart 申请 2021 火星市")
        assert nowhere.text.startswith("找不到地区或单位：火星市")
        assert (await bot.say(ALICE, "/chart")).text.startswith("用法：/chart")
        assert len(bot.fake.find("sendPhoto")) == 2

    run(store, scenario)


def test_export_sends_the_workbook_and_deletes_it(store: Engine, tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    from openpyxl import load_workbook

    temp = tmp_path / "tmp"
    temp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(temp))

    async def scenario(bot: Harness) -> None:
        status = await bot.say(ALICE, "/export 2021 浙江省")
        assert status.text.startswith("正在生成2021年度浙江省的工作簿")
        sent = await bot.fake.wait_for("sendDocument")
        document = sent.params["document"]
        assert document["filename"] == "2021年度浙江省政务公开年报核查.xlsx"
        workbook = load_workbook(io.BytesIO(document["data"]), read_only=True)
        assert workbook.sheetnames == ["说明", "报告主要数据", "问题清单", "逾期和未发布"]
        assert sent.params["caption"].startswith("2021年度浙江省政务公开年报核查\n按已收录的 5 份报告统计；")
        done = await bot.fake.wait_for("editMessageText", where=lambda c: c.params["message_id"]
                                       == status.result["message_id"])
        assert done.text.startswith("已生成 2021年度浙江省政务公开年报核查.xlsx")
        await bot.settle()  # the command has returned
        assert list(temp.iterdir()) == []  # the temporary directory is gone

        usage = await bot.say(ALICE, "/export 浙江省")
        assert usage.text.startswith("请给出年度。\n用法：/export 年份")

    run(store, scenario)


@pytest.fixture(scope="module")
def demo() -> Iterator[DemoServer]:
    with DemoServer([trs_site()], warm=False) as srv:
        yield srv


def test_crawl_edits_its_progress_and_runs_once_at_a_time(store: Engine, demo: DemoServer,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(crawl_handler, "EDIT_INTERVAL", 0.2)
    monkeypatch.setattr(crawl_handler, "TICK", 0.05)
    sites = [SiteConfig(**entry) for entry in sites_config(demo)]
    # A pause between requests: the crawl lasts long enough (about 3 s) to be asked about.
    crawler = CrawlerConfig(per_host_delay_s=0.3, timeout_s=10, backoff_s=0.05, retries=1, check_workers=0,
                            allow_private_addresses=True)

    async def scenario(bot: Harness) -> None:
        svc = services(bot.app)
        assert svc.settings is not None
        svc.settings = svc.settings.model_copy(update={"sites": sites, "crawler": crawler})

        refused = await bot.say(ALICE, "/crawl")
        assert refused.text == "只有管理员可以使用这个命令。"
        unknown = await bot.say(ADMIN, "/crawl nope")
        assert unknown.text.startswith("配置中没有这些站点：nope（可用：lianjiang-trs）")

        started = await bot.say(ADMIN, "/crawl")
        assert started.text.startswith("正在抓取 1 个站点（开始于 ")
        busy = await bot.say(ADMIN, "/crawl lianjiang-trs")
        assert re.match(r"已有抓取在进行中（开始于 \d\d:\d\d:\d\d，进度 ", busy.text), busy.text

        message_id = started.result["message_id"]
        final = await bot.fake.wait_for("editMessageText", timeout=60, where=lambda c: c.params["message_id"]
                                        == message_id and c.text.startswith("抓取"))
        assert final.text.startswith("抓取完成：1 个站点，用时 ")
        assert "• lianjiang-trs：成功，报告 5 份，新增 " in final.text
        edits = bot.fake.find("editMessageText", where=lambda c: c.params["message_id"] == message_id)
        assert len(edits) >= 2 and edits[0].text.startswith("正在抓取 1 个站点")  # progress, then the summary
        assert all(c.ok for c in edits)  # never an edit that changes nothing

        # A crawl that raises says why, and releases the lock.
        async def broken(self: object, sites: object, *, since: object = None) -> None:
            await asyncio.sleep(0.05)
            raise RuntimeError("磁盘已满")

        monkeypatch.setattr("scraper.crawl.Crawler.run", broken)
        again = await bot.say(ADMIN, "/crawl")
        failed = await bot.fake.wait_for("editMessageText", where=lambda c: c.params["message_id"]
                                         == again.result["message_id"])
        assert failed.text.startswith("抓取失败（用时 ") and failed.text.endswith("RuntimeError: 磁盘已满")

        # The bot stopping does not wait for a crawl: it is cancelled, and says so.
        async def endless(self: object, sites: object, *, since: object = None) -> None:
            await asyncio.sleep(600)

        monkeypatch.setattr("scraper.crawl.Crawler.run", endless)
        third = await bot.say(ADMIN, "/crawl")  # the lock was released
        assert third.text.startswith("正在抓取 1 个站点")
        stopped.append((bot, third.result["message_id"]))

        help_ = await bot.say(ADMIN, "/help")
        for line in ("/chart 指标 [年份] [地区] [层级]", "/export 年份 [地区] [层级]", "/crawl [站点…]"):
            assert line in help_.text
        assert "/crawl" not in (await bot.say(ALICE, "/help")).text
        assert {"chart", "export"} <= {c["command"] for c in bot.fake.commands}

    stopped: list[tuple[Harness, int]] = []
    started = time.monotonic()
    run(store, scenario)
    assert time.monotonic() - started < 30
    bot, message_id = stopped[0]
    last = bot.fake.find("editMessageText", where=lambda c: c.params["message_id"] == message_id)[-1]
    assert last.text.startswith("抓取已中断（机器人正在停止）")
