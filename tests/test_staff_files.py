"""Import and export as files in chat (issue 12), played as staff would: an admin sends a
GBK CSV of courses and then the same file again (updated, never twice); a file with
wrong rows gets every row number and reason in her language and changes nothing; a
base's staff cannot import or export another base's course, even by a forged button;
a workbook that is no workbook, a 50 MB file, an empty file and a photo are refused; the
template sent back unchanged changes nothing; exports opened with openpyxl hold the
right rows and no formula, and are in the audit log; on WeChat an .xlsx comes as a link
that downloads over real HTTP. The terminal plays the same in English, Chinese and
Cantonese."""

from __future__ import annotations

import asyncio
import csv
import datetime as dt
import io
import re
import time
import zipfile
from collections.abc import Callable
from typing import Any

import aiohttp
import pytest
from openpyxl import Workbook, load_workbook
from sqlalchemy import func, select

from bot.console import chat as terminal
from bot.wechat import DOCUMENT_DAYS, document_link
from handlers.contract import contract_docx
from locales import translator
from storage.files import CSV_TYPE, DOCX_TYPE, XLSX_TYPE, FileRejected, FileStore
from storage.models import AuditEntry, Course, JobFair, Outbox, StoredFile, User, WorkerProfile
from storage.repositories import Repos
from tests.catalogue import course, load
from tests.chat import Chat
from tests.conftest import ADMIN, load_user
from tests.test_exports import EVIL_NAMES, EVIL_TITLE, register, sheet, sign_up, table
from tests.test_fairs import fair
from tests.test_staff_roles import invite_for, person
from tests.wechat_player import WeChatPlayer, running_wechat

HEADER = ["code", "title", "track", "base", "starts_on", "ends_on", "seats"]
CHINESE = ["编号", "课程名称", "工种", "培训基地", "开课日期", "结束日期", "名额", "教室"]
MM = "茂名好心家政培训学校"


def csv_bytes(rows: list[list[Any]], encoding: str = "utf-8") -> bytes:
    out = io.StringIO()
    csv.writer(out).writerows(rows)
    return out.getvalue().encode(encoding)


def xlsx_bytes(rows: list[list[Any]]) -> bytes:
    book = Workbook()
    for row in rows:
        book.active.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def day(n: int) -> str:
    return (dt.date.today() + dt.timedelta(days=n)).isoformat()


async def count(app, model: type) -> int:
    async with app.db.sessions() as s:
        return await s.scalar(select(func.count()).select_from(model)) or 0


async def set_form(app, key: str, **values: Any) -> None:
    """Put `values` in her form as an older screen of hers could have left them."""
    async with app.db.sessions() as s, s.begin():
        user = await s.scalar(select(User).where(User.key == key))
        user.form = {**(user.form or {}), **values}


async def courses_of(app) -> dict[str, Course]:
    async with app.db.sessions() as s:
        return {c.code: c for c in await s.scalars(select(Course))}


async def admin_at_import(app, kind: str = "courses", hint: str = "en") -> Chat:
    """An admin on the import screen of `kind` (the bases imported first)."""
    await load(app, [])
    me = Chat(app.dispatcher, ADMIN, hint)
    await me.say("/start")
    await me.tap("Import and export")
    await me.tap({"courses": "Import courses", "fairs": "Import job fairs"}.get(kind, "workers"))
    return me


def document(app, me: Chat) -> tuple[bytes, str]:
    """The file of her last answer, and the name she sees."""
    (reply,) = [r for r in me.replies if r.document]
    return app.dispatcher.files.read(reply.document), reply.document_name


# --- importing -------------------------------------------------------------------------------
async def test_an_admin_imports_a_gbk_csv_then_the_same_file_updates_nothing_twice(app):
    me = await admin_at_import(app)
    assert "Required: code, title, track, base, starts_on, ends_on, seats." in me.text
    assert me.labels == ["📄 Template", "◀ Back"]
    rows = [
        CHINESE,
        ["ys-01", "好心月嫂初级班", "月嫂", "mm", "2026/12/9", "2026年12月20日", 20, "301"],
        ["yy-01", "育婴员培训班", "育婴员", "xy", day(20), day(30), 15, ""],
    ]
    gbk = csv_bytes(rows, "gbk")
    await me.send_file(gbk, "document", "课程.csv")
    assert "✅ 课程.csv: 2 rows of courses imported: 2 new, 0 updated, 0 unchanged." in me.text
    assert "📥 Import courses" in me.labels  # back on the hub
    found = await courses_of(app)
    assert (found["ys-01"].title, found["ys-01"].room, found["ys-01"].seats) == (
        "好心月嫂初级班",
        "301",
        20,
    )
    assert str(found["ys-01"].starts_on) == "2026-12-09"

    await me.send_file(gbk, "document", "课程.csv")  # on the hub: say what it holds first
    assert "To import a file, first tap what it holds" in me.text
    assert await count(app, Course) == 2
    await me.tap("Import courses")
    await me.send_file(gbk, "document", "课程.csv")  # the very same file again
    assert "2 rows of courses imported: 0 new, 0 updated, 2 unchanged." in me.text
    assert await count(app, Course) == 2

    # a place held, then the room moves: updated, and she is told
    await sign_up(app, "tg:501", found["ys-01"].id, "李秀梅", "13800138001")
    rows[1][7] = "302"
    await me.tap("Import courses")
    await me.send_file(csv_bytes(rows, "gbk"), "document", "课程.csv")
    assert "0 new, 1 updated, 1 unchanged." in me.text
    assert "People holding a place who were told of a change: 1." in me.text
    assert (await courses_of(app))["ys-01"].room == "302"
    async with app.db.sessions() as s:
        told = [o.replies[0]["text"] for o in await s.scalars(select(Outbox))]
        audit = list(await s.scalars(select(AuditEntry).where(AuditEntry.action == "import")))
    assert any("302" in t for t in told)
    assert len(audit) == 3 and {a.actor for a in audit} == {ADMIN}


async def test_wrong_rows_are_each_named_and_nothing_changes(app):
    me = await admin_at_import(app)
    await load(app, [course("old", "旧课程", "月嫂/母婴护理")])
    before = await courses_of(app)
    rows = [
        CHINESE,
        ["c1", "月嫂初级班", "月嫂", "mm", day(10), day(20), 20, ""],
        ["c2", "育婴班", "育婴员", "mm", "2026-02-30", day(20), 20, ""],
        ["c3", "保姆班", "保姆", "mm", day(10), day(20), "二十", ""],
        ["c4", "陪护班", "病患陪护", "nowhere", day(10), day(20), 20, ""],
        ["c1", "月嫂中级班", "月嫂", "mm", day(10), day(20), 20, ""],
        ["c5", EVIL_TITLE, "月嫂", "mm", day(10), day(20), 20, ""],
        ["c6", "催乳班", "催乳师", "xy", day(14), day(12), 10, ""],
    ]
    await me.send_file(csv_bytes(rows), "document", "课程.csv")
    text = me.text
    assert "Nothing was imported: 课程.csv has 6 problems. Correct them" in text
    for line in (
        "row 3, column “开课日期”: there is no such day: “2026-02-30”",
        "row 4, column “名额”: should be a whole number, not “二十”",
        "row 5, column “培训基地”: unknown training base “nowhere”; write its code: mm, xy",
        "row 6, column “编号”: the same code as row 2; each code may be used once",
        "row 7, column “课程名称”: a formula (=…) cannot be imported",
        "row 8, column “结束日期”: it ends before it starts",
    ):
        assert line in text, line
    after = await courses_of(app)
    assert [(c.code, c.title, c.seats) for c in after.values()] == [
        (c.code, c.title, c.seats) for c in before.values()
    ]
    assert await count(app, Course) == 1
    assert (await load_user(app, ADMIN)).state == "IMPORT_FILE"  # send the corrected file
    assert "📄 Template" in me.labels


async def test_many_problems_come_as_thirty_lines_and_a_spreadsheet_of_all(app):
    me = await admin_at_import(app)
    rows = [HEADER] + [[f"c{n}", "月嫂班", "月嫂", "mm", "soon", day(20), 20] for n in range(60)]
    await me.send_file(csv_bytes(rows), "document", "many.csv")
    assert me.text.count("column “starts_on”: “soon” is not a date") == 30
    assert "… and 30 more: every problem is in the spreadsheet" in me.text
    data, name = document(app, me)
    assert name.startswith("Haoxin-problems-") and name.endswith(".xlsx")
    problems = sheet(data)
    assert problems[0] == ["Row", "Column", "Problem"] and len(problems) == 61
    assert problems[60][:2] == [61, "starts_on"]
    assert all(len(r.text) <= 4096 for r in me.replies)
    assert await count(app, Course) == 0


async def test_a_bases_staff_imports_her_bases_courses_only(app):
    ids = await load(app, [course("xy1", "信宜育婴班", "育婴员", base="xy")])
    code = await invite_for(app, MM)
    me = await person(app)
    await me.say(f"/staff {code}")
    await me.tap("Import and export")
    assert "You import and export 茂名好心家政培训学校's courses only." in me.text
    assert [x for x in me.labels if x.startswith("📥")] == ["📥 Import courses"]
    nonce = me.button("Import courses").data.split("|")[0]
    await me.press(f"{nonce}|imp:workers")  # forged onto her screen: never issued
    assert "I don't recognise that button." in me.text
    await me.tap("Import courses")
    await set_form(app, "tg:301", fx_kind="workers")  # a form from before (forged)
    await me.tap("Template")
    assert "Only the programme office imports job fairs and workers." in me.text
    assert not any(r.document for r in me.replies)
    await me.tap("Import courses")
    assert "its code is mm" in me.text
    rows = [
        HEADER,
        ["mm1", "茂名月嫂班", "月嫂", "mm", day(10), day(20), 20],
        ["xy2", "信宜保姆班", "保姆", "xy", day(10), day(20), 20],
        ["xy1", "信宜育婴班（改）", "育婴员", "mm", day(10), day(20), 20],  # theirs, moved
    ]
    await me.send_file(csv_bytes(rows), "document", "mine.csv")
    assert "row 3, column “base”: a course of another training base" in me.text
    assert "row 4, column “base”: a course of another training base" in me.text
    found = await courses_of(app)
    assert set(found) == {"xy1"} and found["xy1"].title == "信宜育婴班"
    assert found["xy1"].id == ids["xy1"]


@pytest.mark.parametrize(
    ("data", "kind", "name", "size", "said"),
    [
        (b"code,title\nc1,x\n", "document", "courses.xlsx", None, "is not an Excel workbook"),
        (b"", "document", "huge.xlsx", 50 * 1024 * 1024, "That file is 50.0 MB"),
        (b"", "document", "empty.csv", None, "That file is empty"),
        (b"\xff\xd8\xff\xe0 a photo", "photo", "", None, "That is a photo"),
        (b"%PDF-1.4 a scan", "document", "scan.pdf", None, "not a spreadsheet (it looks like pdf)"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1 old", "document", "old.xls", None, "old Excel file"),
        (b"PK\x03\x04 broken zip", "document", "book.xlsx", None, "is not an Excel workbook"),
    ],
)
async def test_files_that_are_no_spreadsheet_are_refused(app, data, kind, name, size, said):
    me = await admin_at_import(app)
    await me.send_file(data, kind, name, size)
    assert said in me.text
    assert "Import courses: send the spreadsheet" in me.text  # asked again
    assert (await load_user(app, ADMIN)).state == "IMPORT_FILE"
    assert await count(app, Course) == 0


async def test_a_word_document_named_xlsx_and_typed_text_are_refused(app):
    me = await admin_at_import(app)
    package = io.BytesIO()
    with zipfile.ZipFile(package, "w") as z:
        z.writestr("[Content_Types].xml", "<x/>")
        z.writestr("word/document.xml", "<x/>")
    await me.send_file(package.getvalue(), "document", "courses.xlsx")
    assert "courses.xlsx is not an Excel workbook (.xlsx), whatever its name says" in me.text
    await me.say("here is my file")
    assert "Please send the spreadsheet itself as a file" in me.text


@pytest.mark.parametrize("kind", ["courses", "fairs", "workers"])
async def test_the_template_imports_as_it_is(app, kind):
    me = await admin_at_import(app, kind)
    await me.tap("Template")
    data, name = document(app, me)
    assert name == f"Haoxin-{kind}.xlsx"
    book = load_workbook(io.BytesIO(data))
    header, example = list(book.worksheets[0].iter_rows(values_only=True))
    assert header[0] == "code" and example[0]
    assert book.worksheets[1].cell(1, 4).value == "What to write"
    # sent back unchanged, the example row is refused: nothing is written
    await me.send_file(data, "document", name)
    assert "the template's example row" in me.text
    model = {"courses": Course, "fairs": JobFair, "workers": WorkerProfile}[kind]
    assert await count(app, model) == 0
    # with its own code, every other cell of the example imports as it is
    book.worksheets[0].cell(2, 1).value = f"mine-{kind}"
    mine = io.BytesIO()
    book.save(mine)
    await me.send_file(mine.getvalue(), "document", name)  # still on the import screen
    assert "1 row of" in me.text and "imported: 1 new" in me.text, me.text
    assert await count(app, model) == 1


# --- exporting -------------------------------------------------------------------------------
@pytest.fixture
async def lists(app) -> dict[str, int]:
    """A full course of base mm (one seat, one waiting) titled as a formula, a course of
    base xy, a fair; people whose names would be formulas."""
    ids = await load(
        app,
        [
            course("a", EVIL_TITLE, "月嫂/母婴护理", seats=1),
            course("b", "+1 育婴班", "育婴员", base="xy"),
        ],
        [fair("f", "@SUM 招聘会", 6, "茂南", [("好心", "月嫂", "深圳", 1, 2, True)])],
    )
    await sign_up(app, "tg:801", ids["a"], EVIL_NAMES[0], "13800138001")
    await sign_up(app, "tg:802", ids["a"], EVIL_NAMES[1], "13800138002")  # waits
    await sign_up(app, "tg:803", ids["b"], EVIL_NAMES[2], "+852 9123 4567")
    async with app.db.sessions() as s:
        ids["f"] = await s.scalar(select(JobFair.id).where(JobFair.code == "f"))
    await register(app, "tg:804", ids["f"], EVIL_NAMES[3], "13900139000")
    return ids


async def exports(app) -> list[AuditEntry]:
    async with app.db.sessions() as s:
        return list(await s.scalars(select(AuditEntry).where(AuditEntry.action == "export")))


async def test_an_admin_exports_lists_with_the_right_rows_and_no_formula(app, lists):
    me = Chat(app.dispatcher, ADMIN, "en")
    await me.say("/start")
    await me.tap("Import and export")
    await me.tap("Export a list")
    assert me.labels == [
        "📝 Sign-up list",
        "⏳ Waiting list",
        "🎓 Attendance",
        "🤝 Job fair registrations",
        "🪪 Verified workers",
        "◀ Back",
    ]
    await me.tap("Sign-up list")
    await me.tap("HYPERLINK")  # the course, by its title
    await me.tap("XLSX")
    data, name = document(app, me)
    assert name.startswith("Haoxin-signups-a-") and name.endswith(".xlsx")
    assert "Sign-up list:" in me.text and "1 row" in me.text
    rows = sheet(data)
    assert [r[:4] for r in rows[1:]] == [
        ["a", "'" + EVIL_TITLE, "'" + EVIL_NAMES[0], "13800138001"]
    ]

    await me.tap("Waiting list")
    await me.tap("All courses")
    await me.tap("CSV")
    data, name = document(app, me)
    assert name.startswith("Haoxin-waiting-") and name.endswith(".csv")
    assert FileStore.content_type(me.replies[0].document) == CSV_TYPE
    rows = table(data)
    assert [r[3] for r in rows[1:]] == ["'" + EVIL_NAMES[1]]

    await me.tap("Job fair registrations")
    await me.tap("SUM")
    await me.tap("XLSX")
    rows = sheet(document(app, me)[0])
    assert [r[3] for r in rows[1:]] == ["'" + EVIL_NAMES[3]]

    await me.tap("Verified workers")  # no course or fair to choose
    assert "Verified workers: every verified worker." in me.text
    await me.tap("XLSX")
    assert sheet(document(app, me)[0])[0][:3] == ["credential", "name", "phone"]

    logged = await exports(app)
    assert [(e.subject, e.actor, e.after) for e in logged] == [
        ("export:signups", ADMIN, {"rows": 1, "format": "xlsx", "course": "a"}),
        ("export:waiting", ADMIN, {"rows": 1, "format": "csv"}),
        ("export:fairs", ADMIN, {"rows": 1, "format": "xlsx", "fair": "f"}),
        ("export:workers", ADMIN, {"rows": 0, "format": "xlsx"}),
    ]


async def test_a_bases_staff_cannot_export_another_bases_course(app, lists):
    code = await invite_for(app, MM)
    me = await person(app)
    await me.say(f"/staff {code}")
    await me.tap("Import and export")
    await me.tap("Export a list")
    assert "Verified workers" not in " ".join(me.labels)
    nonce = me.button("Sign-up list").data.split("|")[0]
    await me.press(f"{nonce}|list:workers")  # forged onto her screen: never issued
    assert "I don't recognise that button." in me.text
    await me.tap("Sign-up list")
    assert "+1 育婴班" not in " ".join(me.labels)  # base xy's course is not listed
    nonce = me.button("All my base's courses").data.split("|")[0]
    await me.press(f"{nonce}|course:{lists['b']}")
    assert "I don't recognise that button." in me.text
    # base xy's course in her form some other way (a screen from before a move to
    # this base): the export itself refuses it
    await me.tap("HYPERLINK")
    await set_form(app, "tg:301", ex_course=lists["b"])
    await me.tap("CSV")
    assert "That course belongs to another training base." in me.text
    assert not any(r.document for r in me.replies)
    await me.tap("Sign-up list")
    await me.tap("All my base's courses")
    await set_form(app, "tg:301", ex_what="workers")
    await me.tap("XLSX")
    assert "Only the programme office exports fair registrations and workers." in me.text
    assert not any(r.document for r in me.replies) and await exports(app) == []
    # her own base's, all of them: base xy's people are not in it
    await me.tap("Sign-up list")
    await me.tap("All my base's courses")
    await me.tap("CSV")
    rows = table(document(app, me)[0])
    assert [r[0] for r in rows[1:]] == ["a"]
    assert [(e.actor, e.after) for e in await exports(app)] == [
        ("tg:301", {"rows": 1, "format": "csv"})
    ]


# --- WeChat: a link that downloads -----------------------------------------------------------
PUBLIC = "https://haoxin.example.org"
OPENID = "oADMIN09"


async def _get(url: str) -> tuple[int, bytes, Any]:
    async with aiohttp.ClientSession() as http, http.get(url) as r:
        return r.status, await r.read(), r.headers


async def held(app: Any, name: str, purpose: str, key: str = f"wx:{OPENID}") -> None:
    """The stored file `name` recorded as `key`'s (as `FileRepo.keep_document` does)."""
    async with app.db.sessions() as session, session.begin():
        user = await session.scalar(select(User).where(User.key == key))
        session.add(StoredFile(name=name, user_id=user.id, purpose=purpose))


async def test_a_wechat_link_to_an_xlsx_downloads_over_real_http(db_path):
    staff = {"admin_ids": frozenset({f"wx:{OPENID}"}), "public_url": PUBLIC}
    async with running_wechat(db_path, mode="safe", **staff) as (url, app, _api):
        await load(app, [course("a", "好心月嫂初级班", "月嫂/母婴护理")])
        _ = translator("zh")
        me = WeChatPlayer(url, OPENID, mode="aes")
        await me.say("/start")
        await me.tap(_("📂 Import and export"))
        # an Official Account receives no files: the import screen says where to send it
        await me.tap(_("📥 Import courses"))
        assert (
            _(
                "WeChat cannot send files to an Official Account: send the file to Haoxin "
                "on Telegram, or ask the programme office to import it (haoxin import)."
            )
            in me.text
        )
        await me.tap(_("◀ Back"))
        await me.tap(_("📤 Export a list"))
        await me.tap(_("📝 Sign-up list"))
        await me.tap(_("All courses"))
        await me.tap(_("📊 XLSX (Excel)"))
        link = re.search(rf"{PUBLIC}/files/[0-9a-z.]+", me.text).group()
        local = url.removesuffix("/wechat")
        status, body, headers = await _get(link.replace(PUBLIC, local))
        assert status == 200 and headers["Content-Type"] == XLSX_TYPE
        assert headers["Content-Disposition"] == 'attachment; filename="haoxin-document.xlsx"'
        assert sheet(body)[0][:3] == ["course", "course_title", "name"]

        token = link.rsplit("/", 1)[1]
        stem, extension, expiry, mac = token.split(".")
        assert extension == "xlsx"
        store = app.dispatcher.files
        for bad in (
            f"{stem}.docx.{expiry}.{mac}",  # another extension, same signature
            f"{stem}.{expiry}.{mac}",  # read as a Word document's
            f"{stem}.xlsx.{int(expiry) + 86400}.{mac}",  # a longer life
            f"{stem}.png.{expiry}.{mac}",  # never a picture
        ):
            status, _body, _h = await _get(f"{local}/files/{bad}")
            assert status == 404, bad
        # a CSV too, and a picture never gets a link at all
        name, _size = store.save_document(b"\xef\xbb\xbfcourse,name\r\na,\xe6\x9d\x8e\r\n")
        status, _body, _h = await _get(document_link(local, store, name))
        assert status == 404  # a file no one holds is served to no one
        await held(app, name, "export:s:all:csv")
        status, body, headers = await _get(document_link(local, store, name))
        assert (status, headers["Content-Type"], body[:3]) == (200, CSV_TYPE, b"\xef\xbb\xbf")
        assert headers["Content-Disposition"].endswith('.csv"')
        # a Word document's link keeps the form links always had (those sent still work)
        docx = contract_docx("# 合同", "合同")
        name_docx, _size = store.save_document(docx)
        await held(app, name_docx, "contract:1")
        link_docx = document_link(local, store, name_docx)
        assert len(link_docx.rsplit("/", 1)[1].split(".")) == 3
        status, body, headers = await _get(link_docx)
        assert (status, headers["Content-Type"], body) == (200, DOCX_TYPE, docx)
        assert headers["Content-Disposition"].endswith('.docx"')
        photo, _size = store.save_png(b"\x89PNG\r\n\x1a\n" + b"0" * 64)
        with pytest.raises(KeyError):
            document_link(local, store, photo)
        old = time.time() - (DOCUMENT_DAYS + 1) * 86400
        status, _body, _h = await _get(document_link(local, store, name, now=old))
        assert status == 410
        # a base's staff member's export: served while she is staff, not once revoked
        async with app.db.sessions() as session, session.begin():
            base_id = await session.scalar(select(Course.base_id))
            staff_user = Repos(session).users.new("wx:oBASE", "zh")
            staff_user.staff_base_id = base_id
        hers, _size = store.save_document(b"\xef\xbb\xbfcourse,name\r\nb,\xe6\x9d\x8e\r\n")
        await held(app, hers, "export:s:all:csv", "wx:oBASE")
        assert (await _get(document_link(local, store, hers)))[0] == 200
        async with app.db.sessions() as session, session.begin():
            await Repos(session).staff.revoke(staff_user.id, f"wx:{OPENID}")
        assert (await _get(document_link(local, store, hers)))[0] == 404


def test_the_store_keeps_a_csv_only_as_haoxin_writes_one(tmp_path):
    store = FileStore(tmp_path)
    name, _size = store.save_document("\ufeffcourse,name\r\na,李秀梅\r\n".encode())
    assert name.endswith(".csv") and store.content_type(name) == CSV_TYPE
    for wrong in (b"course,name\r\n", b"\xef\xbb\xbf\x00bin", b"\xef\xbb\xbf\xff\xfe"):
        with pytest.raises(FileRejected):
            store.save_document(wrong)


# --- the terminal, in each language ---------------------------------------------------------
def label(lang: str) -> Callable[[str], str]:
    """A button's words as she types them at the terminal: the label in her language,
    emoji aside."""
    _ = translator(lang)
    return lambda msgid: _(msgid).split(" ", 1)[-1] if not msgid[0].isalnum() else _(msgid)


@pytest.mark.parametrize("lang", ["en", "zh", "yue"])
async def test_the_terminal_imports_a_file_and_exports_a_list(app, tmp_path, lang):
    await load(app, [])
    say = label(lang)
    path = tmp_path / "courses.xlsx"
    path.write_bytes(
        xlsx_bytes(
            [CHINESE, ["ys-01", "好心月嫂初级班", "月嫂", "mm", day(10), day(20), 20, "301"]]
        )
    )
    lines = [
        "/start",
        say("📂 Import and export"),
        say("📥 Import courses"),
        f"/file {path}",
        say("📤 Export a list"),
        say("🎓 Attendance"),
        say("All courses"),
        say("📄 CSV"),
    ]
    out = io.StringIO()
    hint = {"en": "en", "zh": "zh-hans", "yue": "zh-hk"}[lang]
    await terminal(
        app.dispatcher,
        ADMIN,
        stdin=io.StringIO("\n".join(lines) + "\n"),
        stdout=out,
        lang_hint=hint,
    )
    text = out.getvalue()
    _ = translator(lang)
    imported = _.ngettext(
        "{file}: {n} row of {what} imported: {created} new, {updated} updated, "
        "{unchanged} unchanged.",
        "{file}: {n} rows of {what} imported: {created} new, {updated} updated, "
        "{unchanged} unchanged.",
        1,
        file="courses.xlsx",
        what=_("courses"),
        created=1,
        updated=0,
        unchanged=0,
    )
    assert imported in text
    assert "[document: " in text and "Haoxin-attendance-" in text and ".csv)]" in text
    stored = text.split("[document: ", 1)[1].split(" (", 1)[0].rsplit("/", 1)[1]
    assert table(app.dispatcher.files.read(stored))[0] == [
        "course",
        "name",
        "phone",
        "attended",
        "completed_on",
    ]
    assert (await courses_of(app))["ys-01"].room == "301"
    assert [e.after["format"] for e in await exports(app)] == ["csv"]
    assert (await load_user(app, ADMIN)).lang == lang


async def test_reading_a_big_spreadsheet_holds_no_one_else_up(app, monkeypatch):
    """A spreadsheet sent as a file is read before its event joins a transaction: while
    it is being read (held here until someone else has been answered), another
    person's conversation goes on."""
    import threading

    import bot.dispatcher

    reading, answered = threading.Event(), threading.Event()
    read = bot.dispatcher.read_bytes

    def slow_read(data: bytes, name: str) -> object:
        reading.set()
        answered.wait(10)  # until the other person was answered (or 10 s: then failed)
        return read(data, name)

    monkeypatch.setattr(bot.dispatcher, "read_bytes", slow_read)
    me = await admin_at_import(app)
    other = Chat(app.dispatcher, "tg:777", "en")
    await other.say("/start")
    rows = [CHINESE, ["ys-01", "好心月嫂初级班", "月嫂", "mm", day(9), day(20), 20, "301"]]
    upload = asyncio.create_task(me.send_file(csv_bytes(rows, "gbk"), "document", "课程.csv"))
    assert await asyncio.to_thread(reading.wait, 10), "the file was not read before its event"
    await asyncio.wait_for(other.say("/start"), 5)  # answered while the file is read
    answered.set()
    await upload
    assert "1 row of courses imported: 1 new" in me.text
    assert await count(app, Course) == 1
