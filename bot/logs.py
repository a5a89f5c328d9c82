"""Logging: Haoxin's own level for Haoxin's loggers, WARNING for libraries, and a
redactor over every record, whatever its source.

Why (measured when the issue was opened):

- with `HAOXIN_LOG_LEVEL=DEBUG`, `logging.basicConfig` set the *root* level, so aiosqlite
  logged every INSERT with names and phone numbers, and python-telegram-bot logged whole
  messages and the webhook secret;
- at INFO, httpx logged the bot token in every request URL (`/bot<token>/sendMessage`);
- at the default WARNING, a malformed webhook update under aiogram reached asyncio's
  default handler, which logged "Task exception was never retrieved" with the
  exception's text, and so the update's text.

So `HAOXIN_LOG_LEVEL` applies to the `bot`, `handlers`, `storage` and `locales` loggers
only; libraries stay at WARNING; every record is redacted when it is made (tokens,
secrets, phone and ID numbers); and asyncio's loop errors name the exception's type and
where it was raised, never its text.
"""

from __future__ import annotations

import asyncio
import logging
import re
import sys
import traceback
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bot.config import Settings

log = logging.getLogger(__name__)

#: Haoxin's own packages: these follow `HAOXIN_LOG_LEVEL`
OWN_LOGGERS = ("bot", "handlers", "storage", "locales")
#: libraries that log requests, SQL or updates below WARNING: pinned to WARNING
QUIET_LIBRARIES = (
    "aiosqlite",
    "asyncpg",
    "sqlalchemy",
    "sqlalchemy.engine",
    "sqlalchemy.pool",
    "alembic",
    "httpx",
    "httpcore",
    "hpack",
    "h2",
    "telegram",
    "telegram.ext",
    "apscheduler",
    "aiogram",
    "aiohttp",
    "aiohttp.access",
    "aiohttp.client",
    "aiohttp.server",
    "aiohttp.web",
    "asyncio",
    "urllib3",
)
FORMAT = "%(levelname)s %(name)s: %(message)s"
HANDLER_NAME = "haoxin"
#: configured secrets shorter than this are not redacted as strings (too many false hits)
MIN_SECRET = 8

SECRET, PHONE, ID = "[secret]", "[phone]", "[id]"

# Precompiled once. Most patterns begin with a digit, a letter or "+" and check what
# comes before it with a look-behind after that first character, so the regex engine can
# skip ahead to candidates; cheap substring tests (`_Redactor.__call__`) skip the rest.
#: a Telegram bot token: the bot's numeric id, a colon, 35 URL-safe characters
_BOT_TOKEN = re.compile(r"\d(?<![0-9]\d)\d{4,}(?::|%3[Aa])[A-Za-z0-9_-]{20,}")
#: a Bot API URL path: whatever follows /bot (or /file/bot) is the token, even cut short
_BOT_URL = re.compile(r"/bot(?=[^/\s?#]*(?::|%3A|%3a))[^/\s?#\"'<>]+")
_KEYS = ("token", "secret", "password", "aes")
#: key=value, key: value, "key": "value" in URLs, headers, JSON and reprs
_KEY_VALUE = re.compile(
    r"(?<![A-Za-z0-9])((?:access_token|secret[_-]?token|app_?secret|secret|token|password"
    r"|(?:encoding_?)?aes_?key)[\"']?\s*[=:]\s*[\"']?)(?!\[)[^\s&\"',;)}\]]+",
    re.IGNORECASE,
)
_SIX_DIGITS = re.compile(r"\d{6}")
#: a mainland resident ID number: 17 digits and a check digit or X
_MAINLAND_ID = re.compile(r"\d(?<![0-9]\d)\d{16}[0-9Xx](?![0-9A-Za-z])")
#: a Hong Kong ID number: one or two letters, six digits, a check digit or A
_HK_ID = re.compile(r"(?<![0-9A-Za-z])[A-Za-z]{1,2}\d{6}(?:\([0-9A]\)|[0-9A])(?![0-9A-Za-z])")
#: a Hong Kong (+852) or Macau (+853) number: 8 digits, spaced or not
_HK_MACAU_PHONE = re.compile(
    r"(?:(?:\+|00)\(?8|\(8|8(?<![0-9]8))5[23]\)?[\s-]?\d{4}[\s-]?\d{4}(?![0-9])"
)
#: a mainland mobile number, with or without +86 / 0086 / 86, spaces, dashes, dots or
#: brackets around the first three digits (139.1234.5678, +86 (139) 1234-5678)
_MAINLAND_PHONE = re.compile(
    r"(?:(?:\+|00)86|8(?<![0-9]8)6)[\s.-]?\(?1[3-9]\d\)?(?:[\s.-]?\d){8}(?![0-9])"
    r"|\(1[3-9]\d\)(?:[\s.-]?\d){8}(?![0-9])"
    r"|1(?<![0-9]1)[3-9]\d(?:[\s.-]?\d){8}(?![0-9])"
)


class _Redactor:
    """The patterns above, plus the configured secrets as exact strings."""

    def __init__(self) -> None:
        self.secrets: set[str] = set()
        self._exact: re.Pattern[str] | None = None

    def add_secrets(self, secrets: Iterable[str]) -> None:
        """Remember secrets for the life of the process (a union: none is ever forgotten)."""
        self.secrets |= {s for s in secrets if s and len(s) >= MIN_SECRET}
        if self.secrets:
            ordered = sorted(self.secrets, key=len, reverse=True)
            self._exact = re.compile("|".join(map(re.escape, ordered)))

    def __call__(self, text: str) -> str:
        """`text` with secrets, phone numbers and ID numbers replaced by `[secret]`,
        `[phone]` and `[id]`."""
        if self._exact is not None:
            text = self._exact.sub(SECRET, text)
        if ":" in text or "%3" in text:
            text = _BOT_TOKEN.sub(SECRET, text)
            if "/bot" in text:
                text = _BOT_URL.sub("/bot" + SECRET, text)
        lowered = text.lower()
        if any(key in lowered for key in _KEYS):
            text = _KEY_VALUE.sub(r"\1" + SECRET, text)
        if _SIX_DIGITS.search(text):
            text = _MAINLAND_ID.sub(ID, text)
            text = _HK_ID.sub(ID, text)
        if "85" in text:
            text = _HK_MACAU_PHONE.sub(PHONE, text)
        return _MAINLAND_PHONE.sub(PHONE, text)


redact = _Redactor()
_exception_formatter = logging.Formatter()


def _clean(record: logging.LogRecord) -> None:
    """Format the message once, redact it, and keep only the redacted text; the same for
    the traceback and the stack. Handlers then see nothing else."""
    try:
        text = record.getMessage()
    except Exception:  # arguments that do not fit: logging would print them raw to stderr
        text = f"{record.msg!s} [the arguments did not fit the message]"
    record.msg, record.args = redact(text), ()
    if record.exc_info:
        record.exc_text = redact(_exception_formatter.formatException(record.exc_info))
        record.exc_info = None
    elif record.exc_text:
        record.exc_text = redact(record.exc_text)
    if record.stack_info:
        record.stack_info = redact(record.stack_info)


def _redacting_factory(base: Callable[..., logging.LogRecord]) -> Callable[..., logging.LogRecord]:
    def make_record(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = base(*args, **kwargs)
        try:
            _clean(record)
        except Exception:  # never let logging break the caller, never pass the raw text on
            record.msg, record.args = "[a log record was withheld: redaction failed]", ()
            record.exc_info = record.exc_text = record.stack_info = None
        return record

    make_record.haoxin_redacts = True  # type: ignore[attr-defined]
    return make_record


def _level(name: str) -> int:
    value = name.strip().upper()
    if value.isdigit():
        return int(value)
    levels = logging.getLevelNamesMapping()
    if value not in levels:
        raise ValueError(f"unknown log level {name!r}: use DEBUG, INFO, WARNING or ERROR")
    return levels[value]


def configure_logging(settings: Settings) -> None:
    """Set up logging for the process; calling it again adds no second handler or redactor.

    - The root logger is at WARNING with one stderr handler (`FORMAT`), added once.
    - `settings.log_level` applies to Haoxin's own loggers (`OWN_LOGGERS`) only. It used to
      set the root level, and at DEBUG aiosqlite logged INSERTs with names and phone
      numbers, python-telegram-bot whole messages and the webhook secret; at INFO httpx
      logged the bot token in every URL.
    - `QUIET_LIBRARIES` are pinned to WARNING, and their sub-loggers that a library set
      lower go back to inheriting it.
    - Every record, from any logger and to any handler, is redacted when it is made (a
      record factory): the configured Telegram token, webhook secret, WeChat token,
      AppSecret and AES key as exact strings (when at least `MIN_SECRET` characters);
      Telegram bot tokens and whatever follows `/bot` in a Bot API URL; values of
      `access_token=`, `secret=`, `secret_token`, `token=` and the like; mainland mobile
      numbers (with or without +86, spaces, dashes), Hong Kong and Macau numbers
      (+852/+853); mainland and Hong Kong ID numbers. The message is formatted once,
      redacted, and kept without its arguments; a traceback is formatted, redacted and
      kept as text, the exception object dropped. Names cannot be found by a pattern:
      Haoxin's own code never logs them, and libraries are kept at WARNING.
    """
    redact.add_secrets(
        [
            settings.telegram_token,
            settings.telegram_webhook_secret,
            settings.wechat_token,
            settings.wechat_app_secret,
            settings.wechat_aes_key,
        ]
    )
    factory = logging.getLogRecordFactory()
    if not getattr(factory, "haoxin_redacts", False):
        logging.setLogRecordFactory(_redacting_factory(factory))
    # warnings (aiogram warns with a whole update's text) go through logging, redacted
    logging.captureWarnings(True)

    root = logging.getLogger()
    root.setLevel(logging.WARNING)
    if not any(h.get_name() == HANDLER_NAME for h in root.handlers):
        handler = logging.StreamHandler(sys.stderr)
        handler.set_name(HANDLER_NAME)
        handler.setFormatter(logging.Formatter(FORMAT))
        root.addHandler(handler)

    level = _level(settings.log_level)
    for name in OWN_LOGGERS:
        logging.getLogger(name).setLevel(level)
    for name in QUIET_LIBRARIES:
        logging.getLogger(name).setLevel(logging.WARNING)
    prefixes = tuple(f"{name}." for name in QUIET_LIBRARIES)
    for name, logger in list(logging.root.manager.loggerDict.items()):
        if (
            isinstance(logger, logging.Logger)
            and name.startswith(prefixes)
            and name not in QUIET_LIBRARIES
            and logging.NOTSET < logger.level < logging.WARNING
        ):
            logger.setLevel(logging.NOTSET)


def where_raised(exc: BaseException, frames: int = 4) -> str:
    """The last few frames of a traceback as `file:line function`, innermost first."""
    tb = traceback.extract_tb(exc.__traceback__)[-frames:]
    return " <- ".join(f"{f.filename.rsplit('/', 1)[-1]}:{f.lineno} {f.name}" for f in reversed(tb))


def log_failure(what: str, exc: BaseException, logger: logging.Logger | None = None) -> None:
    """Log where it failed, never the exception's text: database errors quote the values
    they were given, which may be a person's name or phone number. Logs to `logger`, by
    default the calling module's."""
    if logger is None:
        logger = logging.getLogger(sys._getframe(1).f_globals.get("__name__", __name__))
    logger.error("%s: %s at %s", what, type(exc).__name__, where_raised(exc), stacklevel=2)


_HEADLINE_END = re.compile(r"[<(\[{'\":=\n]")


def _headline(message: object) -> str:
    """The fixed part of asyncio's message ("Task exception was never retrieved",
    "Exception in callback Foo.bar"): it stops before any repr or argument."""
    head = _HEADLINE_END.split(str(message or ""), maxsplit=1)[0].strip()
    return head[:80] or "an error in the event loop"


def _on_loop_error(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
    what = f"asyncio: {_headline(context.get('message'))}"
    source = context.get("task") or context.get("future")
    get_coro = getattr(source, "get_coro", None)
    coro_name = getattr(get_coro(), "__qualname__", None) if callable(get_coro) else None
    if coro_name:
        what += f" (in {coro_name})"
    exc = context.get("exception")
    if isinstance(exc, BaseException):
        log_failure(what, exc, log)
    else:
        log.error("%s", what)


def quiet_loop_errors(loop: asyncio.AbstractEventLoop) -> None:
    """Make `loop` log its unhandled errors as the exception's type and file:line only.

    asyncio's default handler logs "Task exception was never retrieved" with the
    exception's text and the task's repr, which holds it again; a framework's validation
    error quotes the update it failed on, so at the default WARNING a malformed webhook
    update under aiogram was logged with its text. The message is cut before any repr,
    the coroutine is named by its code name, and the context's objects are never shown.
    """
    loop.set_exception_handler(_on_loop_error)
