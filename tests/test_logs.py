"""Logs hold no personal data and no secrets, at any level and from any library.

Haoxin's level (`HAOXIN_LOG_LEVEL`) is for Haoxin's loggers only; libraries stay at
WARNING; every record is redacted when it is made; asyncio's loop errors are logged by
type and place, never by their text.
"""

from __future__ import annotations

import asyncio
import gc
import logging
from collections.abc import Iterator

import pytest
from sqlalchemy import select

from bot.app import create_app
from storage.models import Profile, Signup
from tests.catalogue import course, load
from tests.chat import Chat
from tests.conftest import load_user, make_settings
from tests.test_courses import fill_form

TOKEN = "123456:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"
HOOK_SECRET = "very-secret-hook-value"
APP_SECRET = "wxAppSecret0123456789abcdef"
NAME = "李秀梅"
PHONES = ("13800138000", "+8613800138000", "138 0013 8000", "+86 138 0013 8000")
OWN = ("bot", "handlers", "storage", "locales")
LIBRARIES = ("aiosqlite", "httpx", "httpcore", "telegram", "aiogram", "sqlalchemy.engine")
FORMAT = "%(levelname)s %(name)s: %(message)s"


@pytest.fixture(autouse=True)
def pristine_logging() -> Iterator[None]:
    """Each test starts as a fresh process would (stdlib record factory, no Haoxin handler,
    no levels set on Haoxin's or the libraries' loggers); everything is put back after."""
    root = logging.getLogger()
    factory = logging.getLogRecordFactory()
    root_level = root.level
    ours = [h for h in root.handlers if h.get_name() == "haoxin"]
    loggers = {
        name: logger.level
        for name, logger in logging.root.manager.loggerDict.items()
        if isinstance(logger, logging.Logger)
    }
    logging.setLogRecordFactory(logging.LogRecord)
    for handler in ours:
        root.removeHandler(handler)
    for name in (*OWN, *LIBRARIES, "sqlalchemy", "telegram.ext", "asyncio"):
        logging.getLogger(name).setLevel(logging.NOTSET)
    yield
    logging.setLogRecordFactory(factory)
    for handler in [h for h in root.handlers if h.get_name() == "haoxin"]:
        root.removeHandler(handler)
    for handler in ours:
        root.addHandler(handler)
    root.setLevel(root_level)
    for name, logger in logging.root.manager.loggerDict.items():
        if isinstance(logger, logging.Logger):
            logger.setLevel(loggers.get(name, logging.NOTSET))


class Collect(logging.Handler):
    """Every record that reaches the root logger's handlers, formatted as Haoxin does."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.setFormatter(logging.Formatter(FORMAT))
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def texts(self) -> list[str]:
        return [f"{self.format(r)}\n{r.getMessage()}" for r in self.records]


@pytest.fixture
def collect() -> Iterator[Collect]:
    handler = Collect()
    logging.getLogger().addHandler(handler)
    yield handler
    logging.getLogger().removeHandler(handler)


def leaks(text: str) -> list[str]:
    secrets = (NAME, *PHONES, TOKEN, TOKEN.split(":")[1], HOOK_SECRET, APP_SECRET)
    return [s for s in secrets if s in text]


async def test_a_whole_sign_up_at_debug_logs_nothing_personal(db_path, collect):
    app = await create_app(
        make_settings(
            db_path, log_level="DEBUG", telegram_token=TOKEN, telegram_webhook_secret=HOOK_SECRET
        )
    )
    try:
        # Haoxin's loggers follow HAOXIN_LOG_LEVEL; the root and the libraries do not
        for name in OWN:
            assert logging.getLogger(name).getEffectiveLevel() == logging.DEBUG, name
        assert logging.getLogger().level == logging.WARNING
        for name in LIBRARIES:
            assert logging.getLogger(name).getEffectiveLevel() >= logging.WARNING, name

        await load(app, [course("ys1", "好心月嫂初级班", "月嫂/母婴护理", seats=20)])
        me = Chat(app.dispatcher, "tg:701", "en")
        await me.onboard()
        await me.tap("Find a free course")
        await me.tap("By kind of work")
        await me.tap("Maternity nurse")
        await me.tap("好心月嫂初级班")
        await me.tap("Sign up")
        await fill_form(me)  # NAME, 138 0013 8000, 茂南, 38
        assert NAME in me.text and "+8613800138000" in me.text
        await me.tap("Confirm sign-up")
        assert "Your seat is confirmed" in me.text
        user = await load_user(app, "tg:701")
        async with app.db.sessions() as s:
            signup = await s.scalar(select(Signup).where(Signup.user_id == user.id))
            profile = await s.get(Profile, user.id)
        assert signup.status == "confirmed"
        assert profile.name == NAME and profile.phone == "+8613800138000"

        # what a careless debug line or a chatty library would write
        logging.getLogger("storage.repositories").debug("saved phone %s", "+8613800138000")
        logging.getLogger("aiosqlite").debug("executing INSERT (%r, %r)", NAME, "13800138000")
    finally:
        await app.close()

    texts = collect.texts()
    assert any("saved phone [phone]" in t for t in texts)  # DEBUG of our own is captured
    assert not [r for r in collect.records if r.name.startswith("aiosqlite")]
    for text in texts:
        assert not leaks(text), text


async def test_records_from_any_logger_come_out_redacted(db_path, caplog):
    app = await create_app(
        make_settings(
            db_path,
            telegram_token=TOKEN,
            telegram_webhook_secret=HOOK_SECRET,
            wechat_app_secret=APP_SECRET,
        )
    )
    await app.close()

    url = f"https://api.telegram.org/bot{TOKEN}/sendMessage"
    logging.getLogger("httpx").warning('HTTP Request: POST %s "HTTP/1.1 200 OK"', url)
    logging.getLogger("httpx").warning("GET https://api.telegram.org/bot123456:AAHdq/getMe")
    logging.getLogger("telegram.ext").warning(
        "setWebhook %r", {"url": "https://example.org/hook", "secret_token": HOOK_SECRET}
    )
    logging.getLogger("aiohttp.client").warning(
        "GET https://api.weixin.qq.com/cgi-bin/token?appid=wx1&secret=%s", APP_SECRET
    )
    logging.getLogger("aiosqlite").warning(
        "INSERT INTO profiles VALUES (%s, %s, %s)", "+86 138 0013 8000", "44090219800101123X", 38
    )
    logging.getLogger("bot.wechat").error("HK %s, ID %s", "+852 9123 4567", "A123456(7)")
    try:
        raise ValueError(f"phone 13800138000 via {url}")
    except ValueError:
        logging.getLogger("aiogram.event").exception("update %d failed", 7)

    text = caplog.text + "\n".join(r.getMessage() for r in caplog.records)
    for needle in (*PHONES, TOKEN, "AAHdq", HOOK_SECRET, APP_SECRET, "44090219800101123X"):
        assert needle not in text, needle
    for needle in ("+852 9123 4567", "91234567", "A123456"):
        assert needle not in text, needle
    assert "POST https://api.telegram.org/bot[secret]/sendMessage" in text
    assert "'secret_token': '[secret]'" in text and "secret=[secret]" in text
    assert "VALUES ([phone], [id], 38)" in text and "HK [phone], ID [id]" in text
    assert "update 7 failed" in text and "Traceback" in text and "ValueError: phone [phone]" in text
    assert all(r.args == () and r.exc_info is None for r in caplog.records)


async def test_an_unretrieved_task_error_is_logged_by_type_and_place_only(db_path, caplog):
    app = await create_app(make_settings(db_path))
    await app.close()

    async def fails() -> None:
        raise ValueError(f"{NAME} 13800138000")  # a validation error quoting the update

    task = asyncio.get_running_loop().create_task(fails())
    await asyncio.sleep(0)
    await asyncio.sleep(0)
    assert task.done()
    del task  # never awaited: asyncio reports it when the task is collected
    gc.collect()

    text = caplog.text + "\n".join(r.getMessage() for r in caplog.records)
    assert "Task exception was never retrieved" in text
    assert "ValueError at test_logs.py:" in text and "fails" in text
    assert NAME not in text and "13800138000" not in text


def test_configure_logging_pins_libraries_and_is_idempotent():
    from bot.logs import HANDLER_NAME, configure_logging, redact

    root = logging.getLogger()
    root.setLevel(logging.DEBUG)  # what basicConfig(level=DEBUG) did
    logging.getLogger("aiosqlite").setLevel(logging.DEBUG)  # a library lowering its own level
    logging.getLogger("sqlalchemy.engine.Engine").setLevel(logging.INFO)  # as echo=True does
    settings = make_settings(None, log_level="info", telegram_token=TOKEN, wechat_token="abc")

    configure_logging(settings)
    factory = logging.getLogRecordFactory()
    configure_logging(settings)

    assert logging.getLogRecordFactory() is factory  # wrapped once: one redactor
    assert [h.get_name() for h in root.handlers].count(HANDLER_NAME) == 1
    assert root.level == logging.WARNING
    assert all(logging.getLogger(name).level == logging.INFO for name in OWN)
    for name in ("aiosqlite", "sqlalchemy.engine.Engine", "httpx", "telegram.ext", "asyncio"):
        assert logging.getLogger(name).getEffectiveLevel() == logging.WARNING, name
    assert redact(f"token {TOKEN} and abc") == "token [secret] and abc"  # too short to redact
    with pytest.raises(ValueError, match="unknown log level"):
        configure_logging(make_settings(None, log_level="LOUD"))


def test_ordinary_log_text_is_left_alone():
    from bot.logs import redact

    for text in (
        "a batch of 64 events failed; retrying one by one: RuntimeError at dispatcher.py:171",
        'File "/srv/venv/aiogram/client/bot.py", line 12, in __call__',
        "course 12 has 20 seats; update 987654321 of tg:123456789 at 2024-06-01 18:00:00",
        "flood control: waiting 3.5 s before sendMessage; took 1718000000000 ns",
    ):
        assert redact(text) == text


@pytest.mark.parametrize(
    "text",
    [
        "call 139.1234.5678 now",
        "+86 (139) 1234-5678",
        "(139) 1234 5678",
        "https://api.telegram.org/bot123456%3AAAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw/getMe",
    ],
)
def test_phone_numbers_and_tokens_in_other_spellings_are_redacted(text):
    from bot.logs import redact

    cleaned = redact(text)
    assert not any(d in cleaned for d in ("1234", "AAHdq")), cleaned
