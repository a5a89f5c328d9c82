"""What the new-user tester and the attacker found on issue 10, played as they did it."""

from __future__ import annotations

import datetime as dt
import os
import stat
from pathlib import Path

from handlers.conversation import clean_text
from handlers.typed_values import pay_range
from storage.models import User
from storage.repositories import Repos
from storage.workers import holds_contact, holds_id_number
from tests.chat import Chat
from tests.conftest import ADMIN, load_user
from tests.test_worker_profile import ID_NUMBER, build, profile_of, signed_up

TODAY = dt.date.today()


async def _record(app, profile_id: int, *kinds: str) -> None:
    async with app.db.sessions() as s, s.begin():
        repos = Repos(s, app.settings.file_store())
        for kind in kinds:
            profile = await repos.workers.get(profile_id)
            assert profile is not None
            await repos.workers.record_check(
                profile.id, profile.version, ADMIN, kind, "", "passed", TODAY
            )


async def test_a_name_changed_after_its_check_is_checked_again_before_approval(app):
    """The attacker's swap: checked as one name, approved as another."""
    me = await signed_up(app, "tg:7101")
    await build(me)
    await me.tap("Send for checking")
    profile = await profile_of(app, "tg:7101")
    await _record(app, profile.id, "identity", "health", "criminal")
    await me.tap("Edit")
    await me.tap("Name")
    await me.say("张冒名")
    async with app.db.sessions() as s, s.begin():
        repos = Repos(s, app.settings.file_store())
        profile = await repos.workers.get(profile.id)
        assert profile is not None and profile.name == "张冒名"
        checks = await repos.workers.checks(profile)
        assert checks[("identity", "")].result == "recheck"
        assert checks[("health", "")].result == "passed"  # the rest stays
        from storage.workers import NotAllowed, changed_since

        assert "name" in changed_since(profile)  # staff see what changed since they looked
        try:
            await repos.workers.decide(profile.id, profile.version, ADMIN, "approve")
        except NotAllowed as refused:
            assert refused.missing == ("identity",)
        else:
            raise AssertionError("approved a name nobody checked")


async def test_a_verified_credential_whose_name_changed_does_not_say_valid(app):
    me = await signed_up(app, "tg:7102")
    await build(me)
    await me.tap("Send for checking")
    profile = await profile_of(app, "tg:7102")
    await _record(app, profile.id, "identity", "health", "criminal")
    async with app.db.sessions() as s, s.begin():
        repos = Repos(s, app.settings.file_store())
        profile = await repos.workers.get(profile.id)
        assert profile is not None
        profile = await repos.workers.decide(profile.id, profile.version, ADMIN, "approve")
        code = profile.code
    await me.say("/menu")
    await me.tap("My worker profile")
    await me.tap("Edit")
    await me.tap("Name")
    await me.say("陈亚妹")
    stranger = Chat(app.dispatcher, "tg:7199", "en")
    await stranger.say(f"/verify {code}")
    assert "Valid: verified by the programme." not in stranger.text
    assert "Changed since it was verified: Identity being checked again." in stranger.text


async def test_a_phone_number_or_wechat_id_in_her_introduction_is_refused(app):
    me = await signed_up(app, "tg:7103")
    await build(me)
    await me.tap("Edit")
    await me.tap("My introduction")
    for typed in ("我做月嫂五年。电话13800138000", "微信：fong1234", "WhatsApp 9123 4567"):
        await me.say(typed)
        assert "Please don't write a phone number or a WeChat ID here" in me.text
    await me.say("我做月嫂五年，带过双胞胎，会煮月子餐。")
    profile = await profile_of(app, "tg:7103")
    assert profile.intro == "我做月嫂五年，带过双胞胎，会煮月子餐。"  # her punctuation kept


def test_contacts_and_id_numbers_are_found_however_they_are_grouped():
    assert holds_id_number(f"我的身份证是 {ID_NUMBER[:6]}-{ID_NUMBER[6:14]}-{ID_NUMBER[14:]}")
    assert holds_id_number(f"{ID_NUMBER[:6]}.{ID_NUMBER[6:10]}.{ID_NUMBER[10:14]}.002x")
    assert not holds_id_number("我做了 8 年，带过 12 个宝宝")
    assert holds_contact("138 0013 8000") and holds_contact("0668-2880001")
    assert holds_contact("+852 9123 4567") and holds_contact("wx: ab_123")
    assert not holds_contact("I answer phone calls and cook") and not holds_contact(
        "2019年到2026年"
    )


async def test_staff_notes_and_reasons_refuse_a_whole_id_number(app):
    me = await signed_up(app, "tg:7104")
    await build(me)
    await me.tap("Send for checking")
    staff = Chat(app.dispatcher, ADMIN, "en")
    await staff.say("/menu")
    await staff.tap("Vet workers")
    await staff.tap("Identity passed")
    await staff.say(f"身份证 {ID_NUMBER} 已核对")
    assert "That looks like a whole ID number" in staff.text
    await staff.tap("No note")
    await staff.tap("Ask for changes")
    await staff.say(f"身份证号 {ID_NUMBER[:6]} {ID_NUMBER[6:]} 与姓名不符")
    assert "That looks like a whole ID number" in staff.text
    from tests.test_worker_profile import text_cells_with

    assert await text_cells_with(app, [ID_NUMBER, ID_NUMBER.lower()]) == []


async def test_erasing_herself_does_not_give_her_more_tries_at_codes(app):
    me = Chat(app.dispatcher, "tg:7105", "en")
    await me.onboard()
    for n in range(5):
        await me.say(f"/verify ZZZZ-ZZZZ-ZZZ{n}")
    await me.say("/delete_me")
    await me.tap("Yes, delete everything")
    await me.say("/verify ZZZZ-ZZZZ-ZZZ9")
    assert "Too many wrong codes" in me.text


def _file_bytes(path: str) -> bytes:
    return Path(path).read_bytes()


async def test_the_id_hash_key_is_kept_outside_the_database(app):
    store = app.settings.file_store()
    key = store.id_hash_key()
    assert len(key) == 64 and store.id_hash_key() == key  # made once, read back after
    path = store.root / "id-hash.key"
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert key.encode() not in _file_bytes(app.settings.database_url.split("///", 1)[1])


def test_invisible_and_direction_characters_are_dropped_and_chinese_punctuation_kept():
    typed = "李\u2067秀\u2069梅\u2060，\u00ad会\U000e0041煮饭：好！ １２３"
    assert clean_text(typed) == "李秀梅，会煮饭：好！ 123"


def test_cantonese_amounts_like_man_yi_are_read_as_twelve_thousand():
    assert pay_range("萬二到萬五") == (12000, 15000)
    assert pay_range("一万二到一万五") == (12000, 15000)


async def test_on_wechat_a_number_answers_years_and_a_letter_presses_a_button(app):
    """Where buttons are listed as text, a screen whose answer is a number letters them:
    `2` is two years, `B` the second button."""
    from bot.wechat import render

    me = await signed_up(app, "wx:o7106")
    await me.tap("My worker profile")
    await me.tap("Make my worker profile")
    await me.tap("Yes, that is my name")
    await me.tap("Maternity")
    await me.tap("Done")
    await me.tap("Done")  # no add-on skills
    assert "How many years" in me.text
    listed = render(me.replies)
    assert "A. " in listed and "\n1. " not in listed
    skip = next(n for n, label in enumerate(me.labels) if "Skip" in label)
    await me.say(chr(ord("A") + skip))
    assert "How many years" not in me.text  # skipped, not "1 year"
    user = await load_user(app, "wx:o7106")
    assert isinstance(user, User)
    profile = await profile_of(app, "wx:o7106")
    assert profile.years is None


async def test_a_certificate_removed_and_added_again_never_keeps_the_old_check(app):
    """The second attack: remove a checked certificate, add a fake one (which SQLite
    may give the same id): it must not show as verified."""
    me = await signed_up(app, "tg:7107")
    await build(me)
    await me.tap("Send for checking")
    profile = await profile_of(app, "tg:7107")
    cert = profile.certificates[0]
    async with app.db.sessions() as s, s.begin():
        repos = Repos(s, app.settings.file_store())
        p = await repos.workers.get(profile.id)
        assert p is not None
        await repos.workers.record_check(
            p.id, p.version, ADMIN, "certificate", str(cert.id), "passed", TODAY
        )
    async with app.db.sessions() as s, s.begin():
        repos = Repos(s, app.settings.file_store())
        p = await repos.workers.get(profile.id)
        assert p is not None
        await repos.workers.remove_certificate(p, cert.id)
        fake = await repos.workers.add_certificate(
            p, "maternity_nurse", "FAKE-9999", "某假机构", dt.date(2020, 1, 1)
        )
        checks = await repos.workers.checks(p)
        assert ("certificate", str(fake.id)) not in checks


def test_id_numbers_spelt_or_grouped_any_way_and_contacts_are_found_without_dates():
    spelt = (
        "110105～19491231～002X",
        "110105年19491231号002X",
        "一一〇一〇五一九四九一二三一〇〇二X",
        "壹壹零壹零伍壹玖肆玖壹贰叁壹零零贰X",
        "(110105)(19491231)(002X)",
        "١١٠١٠٥١٩٤٩١٢٣١٠٠٢X",
    )
    assert all(holds_id_number(x) for x in spelt)
    contacts = (
        "86-138-0013-8000",
        "0086 13800138000",
        "852-9123-4567",
        "9123 4567",
        "一三八零零一三八零零零",
        "V信 fongfong",
        "fong@163.com",
    )
    assert all(holds_contact(x) for x in contacts)
    ordinary = ("1998.3-2008.12在深圳做保姆", "Hilton Hotel 2015-2020", "每月5000-7000元")
    assert not any(holds_contact(x) for x in ordinary)


def test_two_amounts_side_by_side_are_not_added_together():
    assert pay_range("五千七千") is None and pay_range("五千 七千") is None
    assert pay_range("五千到七千") == (5000, 7000)


async def test_an_id_number_typed_where_it_would_be_searched_is_never_repeated(app, chat):
    me = chat("tg:7108", "en")
    await me.onboard()
    await me.say(f"我的身份证 {ID_NUMBER[:6]}-{ID_NUMBER[6:]}")
    assert "That looks like an ID card number" in me.text
    assert ID_NUMBER[6:] not in me.text


def test_a_key_file_left_empty_by_a_crash_is_replaced(tmp_path):
    (tmp_path / "id-hash.key").write_text("")
    from storage.files import FileStore

    assert len(FileStore(tmp_path).id_hash_key()) == 64
    assert FileStore(tmp_path).id_hash_key() == FileStore(tmp_path).id_hash_key()


async def test_the_approval_notice_does_not_ask_her_to_show_what_she_already_shows(app):
    from tests.test_vetting import all_checks, her_messages, staff, with_repos, worker

    shown = await worker(app, "tg:7109", "en")
    hidden = await worker(app, "tg:7110", "en")

    async def share(repos: Repos) -> None:
        profile = await repos.workers.get(shown)
        assert profile is not None
        await repos.workers.set_shared(profile, True)

    await with_repos(app, share)
    for profile_id in (shown, hidden):
        await all_checks(app, profile_id)
    me = await staff(app)
    for _ in range(2):
        await me.tap("Approve")
        if "Next profile" in " ".join(me.labels) and "Approve" not in " ".join(me.labels):
            await me.tap("Next profile")
    already, not_yet = await her_messages(app, "tg:7109"), await her_messages(app, "tg:7110")
    assert any("while your health check is valid" in m for m in already)
    assert not any("once you have chosen to show it" in m for m in already)
    assert any("once you have chosen to show it" in m for m in not_yet)
