"""The bot token and the database password are never shown (issue 7): not by `xxgk status`,
`xxgk config check` (valid or not), `xxgk export`, `xxgk db upgrade`, `xxgk serve --verbose` (with
the bot, against the fake Bot API server), nor when the database cannot be reached; not in what
they print, not in any file they write.

Canary values stand in for the secrets: a token `123456:CANARY-TOKEN-…` and a PostgreSQL password
`CANARYPW…` with characters that URL-encoding changes. Every command runs as a real subprocess in
the test's own directory; everything it prints and every file under that directory (the
workbook's XML unzipped, the SQLite database and its WAL) is searched for the canaries' cores,
which every encoded form (percent-encoding, `+` for a space) leaves intact.

On PostgreSQL (XXGK_TEST_DATABASE_URL) the store is reached with the canary password in its URL
(the test server trusts local connections, so any password is accepted), and its tables are
searched too; on SQLite the password is tried on a server that is not there.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
import zipfile
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from databases import ON_POSTGRES, drop_database, new_database_url
from db.engine import make_engine, upgrade
from fake_telegram import FakeTelegram, user
from xxgk.config import BotConfig, Settings, redact_url, scrub, secret_values

REPO = Path(__file__).resolve().parent.parent
RUN = uuid.uuid4().hex[:12]
TOKEN_CORE = f"CANARY-TOKEN-{RUN}"
TOKEN = f"123456:{TOKEN_CORE}abcdefghijklmnopq"  # 35 characters after the colon, like a real one
PASSWORD_CORE = f"CANARYPW{RUN}"
PASSWORD = f"{PASSWORD_CORE} +/@:%?#&="  # every one of these is encoded in a URL
CORES = (TOKEN_CORE, PASSWORD_CORE, "CANARY")
ADMIN = user(1001, "王", "管理员")
UNREACHABLE = f"postgresql+psycopg://xxgk:{quote(PASSWORD, safe='')}@127.0.0.1:1/xxgk"


def leaks(text: str) -> list[str]:
    return [core for core in CORES if core in text]


def files_leaking(folder: Path) -> list[str]:
    """The files under `folder` holding a canary (a zip, like an .xlsx, searched member by member),
    but the configuration files the test wrote (*.toml): they hold the secrets on purpose."""
    found = []
    for path in sorted(p for p in folder.rglob("*") if p.is_file() and p.suffix != ".toml"):
        data = path.read_bytes()
        texts = [data.decode("utf-8", "replace"), data.decode("utf-16-le", "replace")]
        if zipfile.is_zipfile(path):
            with zipfile.ZipFile(path) as archive:
                texts += [archive.read(name).decode("utf-8", "replace") for name in archive.namelist()]
        if any(leaks(t) for t in texts):
            found.append(str(path.relative_to(folder)))
    return found


def xxgk(*args: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "xxgk.cli", *args], capture_output=True, text=True, cwd=cwd,
                          env=env, timeout=120)


def environment(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("XXGK_")}
    env.update(PYTHONPATH=str(REPO), **extra)
    return env


@pytest.fixture
def database(tmp_path: Path) -> Iterator[str]:
    """tests/test_bot.py's store, in the run's directory (tmp_path/run) on SQLite, reached with the
    canary password on PostgreSQL."""
    import test_bot

    (tmp_path / "run").mkdir()
    url = new_database_url(tmp_path / "run")
    if ON_POSTGRES:
        url = make_url(url).set(password=PASSWORD).render_as_string(hide_password=False)
        assert PASSWORD_CORE in url
    upgrade(url)
    engine = make_engine(url)
    try:
        test_bot.build_store(engine)
    finally:
        engine.dispose()
    yield url
    drop_database(url)


def write_config(folder: Path, url: str, extra: str = "") -> Path:
    path = folder / "xxgk.toml"
    path.write_text(f"database_url = {json.dumps(url)}\n[bot]\ntoken = {json.dumps(TOKEN)}\n"
                    f"admins = [{ADMIN['id']}]\n{extra}", encoding="utf-8")
    return path


def test_secret_values_and_redaction() -> None:
    settings = Settings(database_url=UNREACHABLE + "?sslmode=disable&password=" + quote(PASSWORD, safe=""),
                        bot=BotConfig(token=TOKEN))
    secrets = secret_values(settings)
    assert TOKEN in secrets and TOKEN.partition(":")[2] in secrets and PASSWORD in secrets
    assert quote(PASSWORD, safe="") in secrets
    shown = redact_url(settings.database_url)
    assert shown == "postgresql+psycopg://xxgk:***@127.0.0.1:1/xxgk?sslmode=disable&password=***"
    assert not leaks(repr(settings)) and not leaks(str(settings))
    line = f"url={settings.database_url} token={TOKEN} pw={PASSWORD} bot{TOKEN}/getMe"
    assert not leaks(scrub(line, secrets))
    assert redact_url("sqlite:///xxgk.db") == "sqlite:///xxgk.db"
    assert redact_url("postgresql://u:pw@host:notaport/db") == "postgresql://u:***@host:notaport/db"


def test_commands_never_print_or_write_the_secrets(tmp_path: Path, database: str) -> None:
    work = tmp_path / "run"
    config = write_config(work, database)
    env = environment(XXGK_BOT__TOKEN=TOKEN)
    outputs: list[str] = []

    def run(*args: str, status: int, extra_env: dict[str, str] | None = None) -> str:
        done = xxgk(*args, cwd=work, env={**env, **(extra_env or {})})
        output = done.stdout + done.stderr
        outputs.append(output)
        assert done.returncode == status, (args, output)
        assert "Traceback" not in output, output
        return output

    checked = run("config", "check", "--config", str(config), status=0)
    assert "配置有效" in checked and "机器人：已配置令牌" in checked
    if ON_POSTGRES:
        assert "postgres:***@" in checked
    assert "数据库：" in run("status", "--config", str(config), status=0)
    run("status", "--json", "--config", str(config), status=0)
    assert json.loads(outputs[-1][outputs[-1].index("{"):])["database"] == redact_url(database)
    run("export", "-y", "2021", "核查.xlsx", "--config", str(config), status=0)
    assert (work / "核查.xlsx").stat().st_size > 0
    run("db", "upgrade", "--config", str(config), status=0)

    # Invalid configurations: a bad key beside the secrets, a URL that cannot be parsed, an
    # environment variable that is not JSON, a file that is not TOML.
    bad = write_config(work, database, '[schedule]\ndigest_at = "8点"\n')
    assert "schedule.digest_at" in run("config", "check", "--config", str(bad), status=2)
    port = UNREACHABLE.replace(":1/", ":notaport/")
    bad_url = write_config(work, port)
    url_error = run("config", "check", "--config", str(bad_url), status=2)
    assert "database_url" in url_error and "xxgk:***@127.0.0.1:notaport" in url_error
    run("status", "--config", str(bad_url), status=2)
    not_json = run("config", "check", "--config", str(config), status=2, extra_env={"XXGK_BOT__ADMINS": "abc"})
    assert "配置有误" in not_json and len(not_json.strip().splitlines()) == 1
    broken = work / "broken.toml"
    broken.write_text(f'[bot]\ntoken = "{TOKEN}\ndatabase_url = "{UNREACHABLE}"\n', encoding="utf-8")
    assert "不是有效的 TOML" in run("config", "check", "--config", str(broken), status=2)

    # The database cannot be reached: the error is printed, the password is not.
    down = write_config(work, UNREACHABLE)
    for args in (("status",), ("export", "-y", "2021", "另一个.xlsx"), ("db", "upgrade"), ("serve", "--no-bot")):
        message = run(*args, "--config", str(down), status=2)
        assert "无法打开数据库 postgresql+psycopg://xxgk:***@127.0.0.1:1/xxgk" in message, message
    query_password = UNREACHABLE.replace(f":{quote(PASSWORD, safe='')}@", "@") + "?password=" + \
        quote(PASSWORD, safe="")
    message = run("status", "--config", str(write_config(work, query_password)), status=2)
    assert "password=***" in message

    everything = "\n".join(outputs)
    assert not leaks(everything), [line for line in everything.splitlines() if leaks(line)][:5]
    assert files_leaking(work) == []
    if ON_POSTGRES:  # the store itself: the job store, crawl runs, subscribers …
        engine = make_engine(database)
        try:
            with engine.connect() as conn:
                for table in sa.inspect(conn).get_table_names():
                    rows = conn.execute(sa.text(f'SELECT * FROM "{table}"')).all()
                    assert not leaks(repr(rows)), table
        finally:
            engine.dispose()


def _wait(check, timeout: float, what: str):  # noqa: ANN001, ANN202
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if value := check():
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def test_serve_with_the_bot_logs_no_secret(tmp_path: Path, database: str) -> None:
    """`xxgk serve --verbose` with the bot on the fake Bot API server: the token is in every URL the
    bot calls, and the password in the database URL; neither reaches the log (the start, questions,
    the stop, debug lines included), the messages sent, nor a file."""
    work = tmp_path / "run"
    config = write_config(work, database, "[schedule]\ncrawl_new_sites_at_start = false\n")
    with FakeTelegram.in_thread(token=TOKEN) as fake:
        env = environment(XXGK_BOT__BASE_URL=fake.base_url)
        out, err = work / "serve.out", work / "serve.err"
        with out.open("w") as fo, err.open("w") as fe:
            process = subprocess.Popen([sys.executable, "-m", "xxgk.cli", "serve", "--verbose", "--config",
                                        str(config)], stdout=fo, stderr=fe, cwd=work, env=env)
            try:
                _wait(lambda: "event=bot.started" in err.read_text(encoding="utf-8"), 60, "the bot")
                mark = fake.mark()
                fake.send(ADMIN, "/help")
                fake.send(ADMIN, "浙江省2021年共收到多少申请")
                fake.send(ADMIN, "/crawl")  # no sites: told so
                _wait(lambda: len(fake.find("sendMessage", mark)) >= 3, 60, "the answers")
                process.send_signal(signal.SIGTERM)
                assert process.wait(60) == 0
            finally:
                if process.poll() is None:
                    process.kill()
                    process.wait(10)
        log = err.read_text(encoding="utf-8") + out.read_text(encoding="utf-8")
        assert "event=service.started" in log and "event=bot.stopped" in log
        assert not leaks(log), [line for line in log.splitlines() if leaks(line)][:5]
        assert not any(leaks(c.text) for c in fake.calls)

        # A token the Bot API refuses: a clear error, status 2, the token nowhere.
        wrong = TOKEN.replace("abc", "xyz")
        done = xxgk("serve", "--verbose", "--config", str(config), cwd=work,
                    env={**env, "XXGK_BOT__TOKEN": wrong})
        assert done.returncode == 2 and "令牌" in done.stderr
        assert not leaks(done.stdout + done.stderr)
    assert files_leaking(work) == []
