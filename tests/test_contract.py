"""The contract summary of a confirmed hire (handlers/contract.py): read back from the
Word document in each language by each party, refused to anyone else and before the
hire is confirmed, sent to both through the outbox, and delivered: over real HTTP as
sendDocument on Telegram (both frameworks) and as a signed link on WeChat; as a path on
the terminal."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import io
import time
import zipfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiohttp
import docx
import pytest
from aiohttp import web

from bot.app import App, create_app
from bot.wechat import DOCUMENT_DAYS, document_link
from handlers.context import outside
from handlers.contract import ContractTerms, contract_docx, contract_replies, send_contract
from handlers.replies import Reply
from handlers.router import Invalid
from locales import translator
from storage.files import DOCX_TYPE, FileRejected
from storage.models import Hire, StoredFile
from storage.repositories import Repos
from storage.workers import HEALTH_VALID_DAYS
from tests.conftest import make_settings
from tests.fake_telegram import BOT, FakeTelegram
from tests.telegram_player import TOKEN
from tests.wechat_player import running_wechat

TODAY = dt.date(2026, 12, 1)
CONFIRMED = dt.datetime(2026, 12, 1, 4, 0)  # naive UTC: noon in Maoming
START = dt.date(2026, 12, 5)
END = dt.date(2026, 12, 30)
VALID_UNTIL = TODAY + dt.timedelta(days=HEALTH_VALID_DAYS)  # 2027-12-01
OFFICE = "0668-2888000"
STAFF = "console:admin"
HOUSEHOLD, WORKER = ("陈美玲", "13800138000"), ("李秀英", "13900139000")
ADDRESS = "茂南区油城四路8号3栋501"
FILE_NAME = "Haoxin-contract-{date}.docx"

#: what each language's document says, as a reader checks it
EXPECTED = {
    "zh": {
        "trial": ["试工 3 天，试工费每天 ¥300（合计 ¥900）"],
        "wage": "每月 ¥8,800",
        "dates": ["2026年12月5日", "2026年12月30日", "2027年12月1日", "2026年12月1日"],
        "words": ["家政服务合同摘要", "雇主", "健康证有效期至 2027年12月1日", "月嫂/母婴护理"],
        "address": ADDRESS,
        "file": "好心家政-合同-20261201.docx",
    },
    "yue": {
        "trial": ["試工 3 日，試工費每日 CN¥300（合共 CN¥900）"],
        "wage": "每月 CN¥8,800",
        "dates": ["2026年12月5日", "2026年12月30日", "2027年12月1日", "2026年12月1日"],
        "words": ["家政服務合約摘要", "僱主", "健康證有效期至 2027年12月1日", "月嫂／母嬰護理"],
        "address": "茂南區油城四路8號3棟501",
        "file": "好心家政-合約-20261201.docx",
    },
    "en": {
        "trial": ["3 days of trial work at CN¥300 a day (CN¥900 in all)"],
        "wage": "CN¥8,800 a month",
        "dates": ["5 Dec 2026", "30 Dec 2026", "1 Dec 2027", "1 Dec 2026"],
        "words": [
            "Home-services contract summary",
            "health certificate (健康证) is valid until 1 Dec 2027",
            "Maternity nurse (yuesao)",
        ],
        "address": ADDRESS,
        "file": "Haoxin-contract-20261201.docx",
    },
}


@dataclasses.dataclass(frozen=True)
class Deal:
    hire: int
    household: str
    worker: str
    outsider: str


async def make_deal(app: App, prefix: str = "tg:5", *, confirm: bool = True) -> Deal:
    """A household, a vetted worker (health check passed on `TODAY`) and a stranger; the
    household's request, an interview she accepted, a 3-day trial at ¥300 a day and
    ¥8,800 a month, confirmed at `CONFIRMED` unless `confirm` is False."""
    keys = (f"{prefix}01", f"{prefix}02", f"{prefix}03")

    async def build(session: Any) -> int:
        repos = Repos(session, app.dispatcher.files)
        people = []
        for key, (name, phone) in zip(
            keys, (HOUSEHOLD, WORKER, ("王五", "13700137000")), strict=True
        ):
            user = repos.users.new(key, "en")
            await session.flush()
            await repos.profiles.save(user, name=name, phone=phone)
            people.append(user)
        household, worker, _stranger = people
        workers = repos.workers
        profile = await workers.start(worker)
        await workers.edit(
            profile,
            name=WORKER[0],
            kinds=["maternity"],
            years=6,
            places=["maonan"],
            pay={"live_in": [8000, 10000]},
            languages=["cantonese"],
        )
        await workers.submit(profile)
        for kind in ("identity", "health", "criminal"):
            profile = await workers.record_check(
                profile.id, profile.version, STAFF, kind, "", "passed", TODAY
            )
        profile = await workers.decide(profile.id, profile.version, STAFF, "approve", today=TODAY)
        await workers.set_shared(profile, True)
        request = await repos.requests.start(household)
        await repos.requests.edit(
            request, kind="maternity", mode="live_in", place="maonan", starts_on=START, days=26
        )
        await repos.requests.set_address(request, ADDRESS)
        await repos.requests.set_status(request, "open")
        hiring = repos.hiring
        interview = await hiring.ask(
            request, profile, at=dt.datetime(2026, 11, 28, 2), how="home", summary="", today=TODAY
        )
        interview = await hiring.accept(interview)
        hire = await hiring.start_trial(
            interview,
            request,
            starts_on=START,
            ends_on=END,
            trial_days=3,
            trial_fee=300,
            wage=8800,
            wage_unit="month",
        )
        if confirm:
            hire = await hiring.confirm(await hiring.agree_terms(hire), now=CONFIRMED)
        return hire.id

    return Deal(await app.db.transaction(build), *keys)


async def replies_for(
    app: App, key: str, hire_id: int, lang: str, office: str = OFFICE
) -> list[Reply]:
    """`contract_replies` for the person `key`, reading in `lang`, in one transaction."""

    async def ask(session: Any) -> list[Reply]:
        repos = Repos(session, app.dispatcher.files)
        user = await repos.users.get(key)
        assert user is not None
        user.lang = lang
        hire = await session.get(Hire, hire_id)
        options = dataclasses.replace(app.dispatcher.options, office_phone=office)
        return await contract_replies(outside(repos, user, options), hire)

    return await app.db.transaction(ask)


def read_docx(data: bytes) -> tuple[str, Any]:
    """The document's text (paragraph by paragraph) and its core properties."""
    document = docx.Document(io.BytesIO(data))
    return "\n".join(p.text for p in document.paragraphs), document.core_properties


# --- the document, in each language, for each party -----------------------------------


@pytest.mark.parametrize("lang", ["zh", "yue", "en"])
@pytest.mark.parametrize("party", ["household", "worker"])
async def test_each_party_reads_the_contract_back_in_her_language(app, lang, party):
    deal = await make_deal(app)
    key = getattr(deal, party)
    text_reply, document_reply = await replies_for(app, key, deal.hire, lang)

    assert document_reply.document and document_reply.document.endswith(".docx")
    data = app.dispatcher.files.read(document_reply.document)
    assert data.startswith(b"PK")
    body, core = read_docx(data)
    expected = EXPECTED[lang]
    for wanted in (
        HOUSEHOLD[0],
        HOUSEHOLD[1],
        WORKER[0],
        WORKER[1],
        expected["wage"],
        expected["address"],
        OFFICE,
        *expected["trial"],
        *expected["dates"],
        *expected["words"],
    ):
        assert wanted in body, f"{lang}: {wanted!r} not in the document"
        assert wanted in text_reply.text  # the message says the same
    assert body.splitlines()[0] == core.title  # the heading is the document's title

    # the credential code as people read it
    async def code(session: Any) -> str:
        repos = Repos(session)
        profile = await repos.workers.of_user(await repos.users.get(deal.worker))
        return profile.code

    raw = await app.db.transaction(code)
    assert "-".join(raw[i : i + 4] for i in range(0, 12, 4)) in body

    # metadata: the programme, the title, the day; nothing personal
    assert core.author == core.last_modified_by == "好心家政 Haoxin"
    assert not core.comments and not core.subject and not core.keywords
    assert core.created.date() == core.modified.date() == TODAY
    metadata = zipfile.ZipFile(io.BytesIO(data))
    for part in ("docProps/core.xml", "docProps/app.xml"):
        xml = metadata.read(part).decode()
        assert not any(p in xml for p in (*HOUSEHOLD, *WORKER, ADDRESS))
    assert "docProps/thumbnail.jpeg" not in metadata.namelist()
    # Chinese set in an East Asian font, with a fallback phones have
    styles = metadata.read("word/styles.xml").decode()
    assert 'w:eastAsia="Microsoft' in styles and "eastAsiaTheme" not in styles
    assert "Noto Sans CJK" in metadata.read("word/fontTable.xml").decode()
    # the file's name is a catalog message: checked in Chinese once the catalogs have it
    if translator(lang)(FILE_NAME) != FILE_NAME or lang == "en":
        assert document_reply.document_name == expected["file"]
    assert document_reply.document_name.endswith("-20261201.docx")


async def test_the_document_is_hers_kept_once_and_deleted_with_her(app):
    deal = await make_deal(app)
    first = await replies_for(app, deal.household, deal.hire, "zh")
    again = await replies_for(app, deal.household, deal.hire, "zh")
    assert first[1].document == again[1].document  # the same summary: the same file
    store = app.dispatcher.files
    worker = await replies_for(app, deal.worker, deal.hire, "zh")
    assert worker[1].document != first[1].document  # each her own copy

    # read in another language, her earlier copy gives way to the new one
    english = await replies_for(app, deal.household, deal.hire, "en")
    assert english[1].document != first[1].document
    assert not store.path(first[1].document).exists()

    async def rows(session: Any) -> list[tuple[str, int, str]]:
        repos = Repos(session, store)
        out = []
        for key in (deal.household, deal.worker):
            user = await repos.users.get(key)
            for name in await repos.files.names_of(user.id):
                row = await session.get(StoredFile, name)
                out.append((name, key, row.purpose))
        return out

    assert sorted(await app.db.transaction(rows)) == sorted(
        [
            (english[1].document, deal.household, f"contract:{deal.hire}"),
            (worker[1].document, deal.worker, f"contract:{deal.hire}"),
        ]
    )

    async def erase(session: Any) -> None:
        repos = Repos(session, store)
        await repos.users.erase(await repos.users.get(deal.worker))

    await app.db.transaction(erase)
    assert not store.path(worker[1].document).exists()
    assert store.path(english[1].document).exists()


async def test_a_stranger_and_an_unconfirmed_hire_are_refused(app):
    deal = await make_deal(app)
    with pytest.raises(Invalid, match="not one of your hires"):
        await replies_for(app, deal.outsider, deal.hire, "en")
    trial = await make_deal(app, "tg:6", confirm=False)
    for key in (trial.household, trial.worker):
        with pytest.raises(Invalid, match="confirms the hire"):
            await replies_for(app, key, trial.hire, "en")
    with pytest.raises(Invalid, match="not one of your hires"):  # not hers either
        await replies_for(app, deal.household, trial.hire, "en")

    async def files(session: Any) -> int:
        repos, kept = Repos(session), 0
        for key in (deal.outsider, trial.household, trial.worker):
            kept += len(await repos.files.names_of((await repos.users.get(key)).id))
        return kept

    assert await app.db.transaction(files) == 0


async def test_the_emergency_contact_without_an_office_phone_is_this_chat(app):
    deal = await make_deal(app)
    text, _document = await replies_for(app, deal.worker, deal.hire, "en", office="")
    assert "the programme office, through this chat" in text.text
    assert OFFICE not in text.text


async def test_send_contract_tells_both_in_their_own_language(app):
    deal = await make_deal(app)

    async def send(session: Any) -> None:
        repos = Repos(session, app.dispatcher.files)
        household = await repos.users.get(deal.household)
        worker = await repos.users.get(deal.worker)
        household.lang, worker.lang = "en", "yue"
        hire = await repos.hiring.hire(household, deal.hire)
        options = dataclasses.replace(app.dispatcher.options, office_phone=OFFICE)
        await send_contract(outside(repos, household, options), hire)

    await app.db.transaction(send)

    async def outbox(session: Any) -> dict[str, list[dict[str, Any]]]:
        repos = Repos(session)
        return {k: (await repos.outbox.by_user(k)) for k in (deal.household, deal.worker)}

    messages = await app.db.transaction(outbox)
    for key, wanted in ((deal.household, "Home-services contract summary"), (deal.worker, "試工")):
        (message,) = messages[key]
        assert message.topic == f"contract:{deal.hire}"
        text, document = (Reply.from_dict(r) for r in message.replies)
        assert wanted in text.text
        body, _core = read_docx(app.dispatcher.files.read(document.document))
        assert wanted in body and HOUSEHOLD[0] in body and WORKER[0] in body


def test_contract_docx_is_the_same_for_the_same_text():
    text = "# Title\nA line\n- an item"
    one = contract_docx(text, "Title", lang="en", issued_on=TODAY)
    assert one == contract_docx(text, "Title", lang="en", issued_on=TODAY)
    body, core = read_docx(one)
    assert body == "Title\nA line\nan item" and core.title == "Title"


async def test_the_store_keeps_only_word_documents(app):
    store = app.dispatcher.files
    for wrong in (b"%PDF-1.4", b"\x89PNG\r\n\x1a\n", _zip({"a.txt": b"x"})):
        with pytest.raises(FileRejected) as refused:
            store.save_document(wrong)
        assert refused.value.reason == "not_document"
    name, _size = store.save_document(contract_docx("# T", "T"))
    assert store.content_type(name) == DOCX_TYPE


def _zip(parts: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        for name, body in parts.items():
            z.writestr(name, body)
    return out.getvalue()


# --- Telegram: sendDocument over real HTTP ------------------------------------------------


class DocumentTelegram(FakeTelegram):
    """The fake Bot API answering sendDocument as Telegram does (with the message), and
    keeping the names of uploaded files."""

    def __init__(self) -> None:
        super().__init__()
        self.filenames: list[str] = []

    async def _params(self, request: web.Request) -> dict[str, Any]:
        if request.content_type.startswith("multipart/"):
            form = await request.post()  # aiohttp keeps it: read again below
            self.filenames += [v.filename for v in form.values() if not isinstance(v, str)]
        return await super()._params(request)

    def _result(self, method: str, params: dict[str, Any]) -> Any:
        if method != "sendDocument":
            return super()._result(method, params)
        return {
            "message_id": next(self._message_ids),
            "date": int(time.time()),
            "chat": {"id": int(params["chat_id"]), "type": "private"},
            "from": BOT,
            "document": {"file_id": "D1", "file_unique_id": "d1"},
            **({"caption": params["caption"]} if params.get("caption") else {}),
        }


@asynccontextmanager
async def telegram_wired(db_path: Path, framework: str) -> AsyncIterator[tuple[Any, App, Any]]:
    fake = DocumentTelegram()
    url = await fake.start()
    app = await create_app(make_settings(db_path, telegram_token=TOKEN, telegram_api_url=url))
    if framework == "aiogram":
        from bot.telegram_aiogram import wire
    else:
        from bot.telegram_ptb import wire
    wiring = wire(app)
    try:
        async with wiring.started(None, ""):
            yield fake, app, wiring.telegram
    finally:
        await app.close()
        await fake.stop()


@pytest.mark.parametrize("framework", ["aiogram", "ptb"])
async def test_telegram_sends_the_document_with_its_bytes(db_path, framework):
    async with telegram_wired(db_path, framework) as (fake, app, telegram):
        data = contract_docx("# 家政服务合同摘要\n- 试工 3 天", "家政服务合同摘要")
        name, _size = app.dispatcher.files.save_document(data)
        shown = "好心家政-合同-20261201.docx"
        reply = Reply("📄 The contract as a document", document=name, document_name=shown)
        await telegram.send("tg:777", [reply])

        (params,) = [p for m, p in fake.calls if m == "sendDocument"]
        assert int(params["chat_id"]) == 777
        assert params["document"] == data  # the stored file's exact bytes
        assert params["caption"] == "📄 The contract as a document"
        assert shown in fake.filenames
        assert not [m for m, p in fake.calls if m == "sendMessage"]  # the text is its caption

        # a text too long for a caption follows the document; a missing file: the text alone
        await telegram.send("tg:777", [dataclasses.replace(reply, text="证" * 1500)])
        assert [m for m, _p in fake.calls][-2:] == ["sendDocument", "sendMessage"]
        gone = dataclasses.replace(reply, document="0" * 32 + ".docx")
        await telegram.send("tg:777", [gone])
        assert fake.calls[-1][0] == "sendMessage"


# --- WeChat: a signed link -------------------------------------------------------------


PUBLIC = "https://haoxin.example.org"


async def _get(url: str) -> tuple[int, bytes, Any]:
    async with aiohttp.ClientSession() as http, http.get(url) as r:
        return r.status, await r.read(), r.headers


async def test_wechat_sends_a_signed_link_that_serves_the_document(db_path):
    async with running_wechat(db_path, "plain", public_url=PUBLIC) as (url, app, api):
        local = url.removesuffix("/wechat")
        deal = await make_deal(app, "wx:o")

        async def send(session: Any) -> None:
            repos = Repos(session, app.dispatcher.files)
            household = await repos.users.get(deal.household)
            household.lang = "en"
            hire = await repos.hiring.hire(household, deal.hire)
            await send_contract(outside(repos, household, app.dispatcher.options), hire)

        await app.db.transaction(send)
        for _ in range(200):  # the notifier sends the outbox: texts, both people
            if len({m["touser"] for m in api.sent if "/files/" in m["text"]["content"]}) == 2:
                break
            await asyncio.sleep(0.05)
        texts = [m["text"]["content"] for m in api.sent if m["touser"] == "o01"]
        link = next(t for t in texts if "/files/" in t).rsplit(" ", 1)[-1].strip()
        assert link.startswith(f"{PUBLIC}/files/") and f"{DOCUMENT_DAYS} days" in "".join(texts)

        status, body, headers = await _get(link.replace(PUBLIC, local))
        assert status == 200 and headers["Content-Type"] == DOCX_TYPE
        assert headers["Content-Disposition"].startswith("attachment;")
        text, _core = read_docx(body)
        assert HOUSEHOLD[0] in text and "trial" in text

        token = link.rsplit("/", 1)[1]
        stem, expiry, mac = token.split(".")
        forged = f"{stem}.{expiry}.{'0' * 32}"
        altered = f"{stem}.{int(expiry) + 86400}.{mac}"  # a longer life, same signature
        other = f"{'a' * 32}.{expiry}.{mac}"  # another file, same signature
        wide = f"{stem}.{expiry}.{'证' * 32}"  # not even ASCII
        for bad in (forged, altered, other, wide, "x", f"{stem}.{expiry}", "../../etc.1.2"):
            status, _body, _h = await _get(f"{local}/files/{bad}")
            assert status == 404, bad
        store = app.dispatcher.files
        name = f"{stem}.docx"
        expired = document_link(PUBLIC, store, name, now=time.time() - (DOCUMENT_DAYS + 1) * 86400)
        status, _body, _h = await _get(expired.replace(PUBLIC, local))
        assert status == 410
        # a stored picture cannot be reached through a link, even a signed one
        photo, _size = store.save_png(b"\x89PNG\r\n\x1a\n" + b"0" * 64)
        status, _body, _h = await _get(f"{local}/files/{photo.replace('.png', '')}.{expiry}.{mac}")
        assert status == 404
        # once the file is gone (her data erased), the link finds nothing
        store.delete([name])
        status, _body, _h = await _get(link.replace(PUBLIC, local))
        assert status == 404


async def test_wechat_without_a_public_url_says_to_ask_the_office(db_path):
    async with running_wechat(db_path, "plain", office_phone=OFFICE) as (url, app, api):
        deal = await make_deal(app, "wx:p")

        async def send(session: Any) -> None:
            repos = Repos(session, app.dispatcher.files)
            household = await repos.users.get(deal.household)
            hire = await repos.hiring.hire(household, deal.hire)
            await send_contract(outside(repos, household, app.dispatcher.options), hire)

        await app.db.transaction(send)
        for _ in range(200):
            if any("programme office" in m["text"]["content"] for m in api.sent):
                break
            await asyncio.sleep(0.05)
        texts = "\n".join(m["text"]["content"] for m in api.sent if m["touser"] == "p01")
        assert f"ask the programme office ({OFFICE}) for a copy" in texts
        assert "/files/" not in texts
        status, _body, _h = await _get(f"{url.removesuffix('/wechat')}/files/x.1.2")
        assert status == 404  # no route: nothing is served


def test_contract_terms_are_plain_values():
    fields = {f.name: f.type for f in dataclasses.fields(ContractTerms)}
    assert {"household_name", "worker_code", "trial_fee", "health_valid_until"} <= set(fields)
    assert not any("User" in str(t) or "Hire" in str(t) for t in fields.values())


# --- the terminal ----------------------------------------------------------------------


def test_the_terminal_prints_where_the_document_is(app):
    from bot.console import render

    store = app.dispatcher.files
    name, _size = store.save_document(contract_docx("# T", "T"))
    shown = "Haoxin-contract-20261201.docx"
    printed = render(Reply("📄 The contract", document=name, document_name=shown), store)
    assert printed == f"📄 The contract\n[document: {store.path(name).absolute()} ({shown})]"
    gone = render(Reply("📄 The contract", document="0" * 32 + ".docx"), store)
    assert gone == "📄 The contract"
