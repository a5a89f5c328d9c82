"""Her language everywhere, not only in the interface: course and fair content played in
Simplified Chinese, Cantonese and English.

Kinds of work, counties, places, free-training groups and teaching languages show by
their vocabulary's label in her language; titles, bases and firms in Traditional
characters for Cantonese readers and in the data's English field for English readers;
plurals, lists and money as her language writes them; counties in one order on every
screen; every course list line names its county; a filtered fairs list names its filter.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from sqlalchemy import select

from locales import Translator, translator
from storage.importer import DataFile, import_data
from storage.models import Course, JobFair
from storage.vocab import COUNTIES
from tests.chat import Chat
from tests.test_courses import seeker as courses_seeker

HINTS = {"zh": "zh-hans", "yue": "zh-hk", "en": "en"}
TODAY = dt.date.today()

# three bases whose counties sort three ways: as text (信宜, 电白, 茂南), as the programme
# lists them (茂南, 电白, 信宜), and as the fairs list first meets them (电白, 信宜, 茂南);
# one base writes its county 电白区, and is the same county all the same
BASES = [
    {
        "code": "xy",
        "name": "信宜乡村家政培训站",
        "address": "信宜市城南路 45 号",
        "county": "信宜",
    },
    {
        "code": "db",
        "name": "电白区巾帼家政培训基地",
        "name_en": "Dianbai Women's Home-Services Training Base",
        "address": "电白区水东镇海滨三路 16 号",
        "address_en": "16 Haibin 3rd Road, Shuidong, Dianbai",
        "county": "电白",
    },
    {
        "code": "db2",
        "name": "水东家政服务站",
        "address": "电白区水东镇人民路 2 号",
        "county": "电白区",
    },
    {
        "code": "mn",
        "name": "茂名好心家政培训学校",
        "address": "油城五路 88 号",
        "county": "茂南",
    },
]


def course(code: str, title: str, track: str, base: str, starts: int, **extra: Any) -> dict:
    return {
        "code": code,
        "title": title,
        "track": track,
        "base": base,
        "starts_on": TODAY + dt.timedelta(days=starts),
        "ends_on": TODAY + dt.timedelta(days=starts + 10),
        "daily_hours": "09:00-17:00",
        "seats": 20,
        **extra,
    }


COURSES = [
    course(
        "ys",
        "好心月嫂初级班",
        "月嫂/母婴护理",
        "db",
        10,
        title_en="Haoxin maternity nurse, beginners",
        fee_yuan=1800,
        free_for=["rural_women", "unemployed", "poor_households"],
        teaching_language="普通话、粤语",
    ),
    course("ys2", "水东月嫂速成班", "月嫂", "db2", 12),  # the same kind, written another way
    course("hl", "养老护理员培训", "养老护理员", "xy", 14),
    course("bm", "家政服务员培训", "家政服务员/保姆", "mn", 16),
]


def at(days: int, hour: int, minute: int = 0) -> str:
    return dt.datetime.combine(TODAY + dt.timedelta(days=days), dt.time(hour, minute)).isoformat()


FAIRS = [
    {
        "code": "gba",
        "title": "粤港澳大湾区家政就业对接会",
        "title_en": "Greater Bay Area home-services jobs fair",
        "starts_at": at(6, 14, 30),
        "ends_at": at(6, 17),
        "venue": "电白区人民广场",
        "address": "茂名市电白区水东镇人民广场",
        "county": "电白",
        "employers": [
            {
                "name": "澳门好心居家服务中心",
                "name_en": "Macau Haoxin Home Care",
                "jobs": [
                    {
                        "category": "月嫂",
                        "destination": "澳门",
                        "pay_min": 9000,
                        "pay_max": 12000,
                        "live_in": True,
                    }
                ],
            },
            {
                "name": "东莞莞家乐家政",
                "jobs": [
                    {"category": "钟点工", "destination": "东莞", "pay_min": 35, "pay_max": 50}
                ],
            },
        ],
    },
    {
        "code": "xy",
        "title": "信宜招聘会",
        "starts_at": at(8, 9),
        "venue": "信宜文化广场",
        "county": "信宜",
        "employers": [
            {"name": "广州穗康家政", "jobs": [{"category": "养老护理员", "destination": "广州"}]}
        ],
    },
    {
        "code": "mn",
        "title": "茂南招聘会",
        "starts_at": at(9, 9),
        "venue": "茂名市人力资源市场",
        "county": "茂南",
        "employers": [
            {"name": "茂名好心家政", "jobs": [{"category": "保姆", "destination": "茂名"}]}
        ],
    },
]

# what each language shows of that data
SEE: dict[str, dict[str, Any]] = {
    "zh": {
        "maternity": "月嫂/母婴护理",
        "elder": "养老护理员",
        "counties": ["茂南", "电白", "信宜"],
        "ys": "好心月嫂初级班",
        "base": "电白区巾帼家政培训基地（电白）",
        "free": "农村妇女、失业人员和建档立卡贫困户",
        "taught": "普通话和粤语",
        "fee": "¥1,800",
        "gba": "粤港澳大湾区家政就业对接会",
        "firm": "澳门好心居家服务中心：月嫂/母婴护理 · 澳门 · 每月 ¥9,000–12,000",
        "hourly": "东莞莞家乐家政：钟点工 · 东莞 · 每小时 ¥35–50",
        "time": "14:30–17:00",
        "macau": "澳门",
        "dianbai": "电白",
    },
    "yue": {
        "maternity": "月嫂／母嬰護理",
        "elder": "護老員",
        "counties": ["茂南", "電白", "信宜"],
        "ys": "好心月嫂初級班",
        "base": "電白區巾幗家政培訓基地（電白）",
        "free": "農村婦女、失業人士",  # the start of the list, in Traditional characters
        "taught": "普通話及廣東話",
        "fee": "CN¥1,800",
        "gba": "粵港澳大灣區家政就業對接會",
        "firm": "澳門好心居家服務中心：月嫂／母嬰護理 · 澳門 · 每月 CN¥9,000–12,000",
        "hourly": "東莞莞家樂家政：鐘點工 · 東莞 · 每個鐘 CN¥35–50",
        "time": "14:30–17:00",
        "macau": "澳門",
        "dianbai": "電白",
    },
    "en": {
        "maternity": "Maternity nurse (yuesao)",
        "elder": "Elder carer",
        "counties": ["Maonan", "Dianbai", "Xinyi"],
        "ys": "Haoxin maternity nurse, beginners",
        "base": "Dianbai Women's Home-Services Training Base (Dianbai)",
        "free": "rural women, unemployed people and registered poor households",
        "taught": "Mandarin and Cantonese",
        "fee": "CN¥1,800",
        "gba": "Greater Bay Area home-services jobs fair",
        "firm": "Macau Haoxin Home Care: Maternity nurse (yuesao) · Macau · CN¥9,000–12,000",
        "hourly": "东莞莞家乐家政: Hourly cleaner · Dongguan · CN¥35–50",
        "time": "14:30–17:00",
        "macau": "Macau",
        "dianbai": "Dianbai",
    },
}


async def load(app) -> dict[str, int]:
    data = DataFile.model_validate(
        {"training_bases": BASES, "courses": COURSES, "job_fairs": FAIRS}
    )
    async with app.db.sessions() as s, s.begin():
        await import_data(s, data)
        ids = {f"course:{c}": i for c, i in await s.execute(select(Course.code, Course.id))}
        ids |= {f"fair:{c}": i for c, i in await s.execute(select(JobFair.code, JobFair.id))}
        return ids


async def seeker(chat, user: str, lang: str) -> tuple[Chat, Translator]:
    """A job seeker at her main menu who has agreed to the privacy notice."""
    me = await courses_seeker(chat, user, HINTS[lang])
    return me, translator(lang)


def entries(me: Chat, start: str) -> list[str]:
    """The labels of a list's items: the buttons holding ` · `."""
    return [label for label in me.labels if " · " in label and label.startswith(start)]


# --- courses ---------------------------------------------------------------------------
@pytest.mark.parametrize("lang", SEE)
async def test_course_lists_and_card_in_her_language(app, chat, lang):
    see = SEE[lang]
    await load(app)
    me, _ = await seeker(chat, "tg:810", lang)
    await me.tap(_("📚 Find a free course"))
    await me.tap(_("📚 By kind of work"))
    # one button per kind of work, however the data writes it (月嫂 and 月嫂/母婴护理)
    assert f"{see['maternity']} (2)" in me.labels, me.labels
    assert f"{see['elder']} (1)" in me.labels, me.labels
    await me.tap(see["maternity"])
    lines = [label for label in me.labels if " · " in label]
    assert len(lines) == 2
    # each line names its course's county
    assert all(f" · {see['dianbai']} · " in line for line in lines), lines
    assert see["ys"][:20] in lines[0]  # the title, cut short so the county shows
    await me.tap(see["ys"][:20])
    card = me.text
    for key in ("ys", "base", "maternity", "free", "taught", "fee"):
        assert see[key] in card, (key, card)
    if lang == "en":
        assert "、" not in card and "（" not in card  # English punctuation in English
    else:
        assert ", " not in card and ": " not in card  # full-width punctuation in Chinese
    if lang == "yue":
        assert "电白" not in card and "巾帼" not in card  # nothing left in Simplified


@pytest.mark.parametrize("lang", SEE)
async def test_english_readers_see_the_english_field_where_there_is_one(app, chat, lang):
    ids = await load(app)
    me, _ = await seeker(chat, "tg:820", lang)
    await me.say(f"/start course_{ids['course:ys']}")
    english = "Haoxin maternity nurse, beginners" in me.text
    assert english == (lang == "en")
    await me.say(f"/start course_{ids['course:hl']}")  # no English title: the Chinese
    assert ("养老护理员培训" if lang != "yue" else "養老護理員培訓") in me.text


async def test_plurals_come_from_the_catalog(app, chat):
    await load(app)
    me, _ = await seeker(chat, "tg:830", "en")
    await me.tap("Find a free course")
    await me.tap("By kind of work")
    await me.tap("Elder carer")
    assert "1 course open for sign-up" in me.text and "1 courses" not in me.text
    await me.tap("Back")
    await me.tap("By kind of work")
    await me.tap("Maternity nurse")
    assert "2 courses open for sign-up" in me.text
    assert Translator("en").ngettext("{n} course", "{n} courses", 1) == "1 course"
    assert Translator("en").ngettext("{n} course", "{n} courses", 2) == "2 courses"
    one = "{n} course open for sign-up. Tap it to see it:"
    many = "{n} courses open for sign-up. Tap one to see it:"
    assert Translator("zh").ngettext(one, many, 1) == "有 1 个课程可以报名，点一个查看："
    assert Translator("yue").ngettext(one, many, 3) == "有 3 個課程可以報名，㩒一個睇："


@pytest.mark.parametrize("lang", SEE)
async def test_counties_in_one_order_on_every_screen(app, chat, lang):
    see = SEE[lang]
    ids = await load(app)
    me, _ = await seeker(chat, "tg:840", lang)
    order = see["counties"]

    await me.tap(_("📚 Find a free course"))
    await me.tap(_("🗺 By county"))
    by_county = [label.rsplit(" (", 1)[0] for label in me.labels if label.endswith(")")]
    assert by_county == order, by_county
    assert f"{see['dianbai']} (2)" in me.labels  # 电白 and 电白区: one county

    await me.say("/menu")
    await me.tap(_("🤝 Job fairs"))
    await me.tap(_("🗺 County"))
    fairs_filter = [label for label in me.labels if label != _("◀ Back")]
    assert fairs_filter == order, fairs_filter

    await me.say(f"/start course_{ids['course:hl']}")
    await me.tap(_("✍ Sign up"))
    await me.say("李秀梅")
    await me.say("13800138000")
    labels = [_(t.label) for t in COUNTIES]
    form = [label for label in me.labels if label in labels]
    assert [x for x in form if x in order] == order and len(form) == 5, me.labels


# --- signing up, and my sign-ups -------------------------------------------------------
@pytest.mark.parametrize("lang", SEE)
async def test_sign_up_form_summary_and_my_sign_ups_in_her_language(app, chat, lang):
    see = SEE[lang]
    ids = await load(app)
    me, _ = await seeker(chat, "tg:850", lang)
    await me.say(f"/start course_{ids['course:ys']}")
    await me.tap(_("✍ Sign up"))
    await me.say("李秀梅")
    await me.say("13800138000")
    await me.tap(see["dianbai"])
    await me.say("38")
    await me.tap(_("rural women"))
    summary = me.text
    assert see["ys"] in summary and see["dianbai"] in summary and _("rural women") in summary
    if lang == "en":
        assert "电白" not in summary
    await me.tap(f"{_('✏ Change')} {_('county')}")
    assert _("Keep: {answer}", answer=see["dianbai"]) in me.labels
    await me.tap(_("Keep: {answer}", answer=see["dianbai"]))
    await me.tap(_("✅ Confirm sign-up"))
    mine = entries(me, "📚")
    assert len(mine) == 1 and f" · {see['dianbai']} · " in mine[0], me.labels
    async with app.db.sessions() as s:
        from storage.models import Signup

        signup = await s.scalar(select(Signup))
    assert signup.county == "电白"  # kept as the data names it, whatever she reads


# --- fairs -------------------------------------------------------------------------------
@pytest.mark.parametrize("lang", SEE)
async def test_fair_list_and_card_in_her_language(app, chat, lang):
    see = SEE[lang]
    await load(app)
    me, _ = await seeker(chat, "tg:860", lang)
    await me.tap(_("🤝 Job fairs"))
    assert entries(me, see["gba"][:10]), me.labels
    await me.tap(see["gba"][:10])
    card = me.text
    for key in ("gba", "firm", "hourly", "time"):
        assert see[key] in card, (key, card)
    assert not re.search("[上下]午", card)  # a 24-hour clock in every language
    if lang == "en":
        assert "、" not in card and "（" not in card
    else:
        assert ", " not in card and ": " not in card


async def test_one_money_format_per_language():
    for lang, sign in (("zh", "¥"), ("yue", "CN¥"), ("en", "CN¥")):
        _ = translator(lang)
        assert _.money(180_000) == f"{sign}1,800"
        assert _.money_range(900_000, 1_200_000) == f"{sign}9,000–12,000"
        assert _.money(4_550) == f"{sign}45.50"
    assert translator("en").join(["a", "b", "c"]) == "a, b and c"
    assert translator("zh").join(["甲", "乙", "丙"]) == "甲、乙和丙"
    assert translator("yue").time(dt.time(14, 30)) == "14:30"


@pytest.mark.parametrize("lang", SEE)
async def test_a_filtered_fairs_list_names_its_filter(app, chat, lang):
    see = SEE[lang]
    await load(app)
    me, _ = await seeker(chat, "tg:870", lang)
    await me.tap(_("🤝 Job fairs"))
    everything = me.text
    await me.tap(_("🗺 County"))
    await me.tap(see["dianbai"])
    assert see["dianbai"] in me.text.splitlines()[0] and me.text != everything
    assert len(entries(me, "")) == 1

    await me.tap(_("✖ Show all fairs"))
    await me.tap(_("🏙 Where the jobs are"))
    await me.tap(see["macau"])
    assert see["macau"] in me.text.splitlines()[0]

    await me.tap(_("✖ Show all fairs"))
    await me.tap(_("📅 Month"))
    month = me.labels[0]
    await me.tap(month)
    assert month in me.text.splitlines()[0]


def test_every_vocabulary_label_and_plural_is_translated_in_every_catalog():
    from babel.messages.pofile import read_po

    from locales import LANGUAGES, catalog_path
    from storage.vocab import ALL

    labels = {term.label for vocabulary in ALL for term in vocabulary}
    for lang in LANGUAGES:
        with catalog_path(lang).open("rb") as f:
            catalog = read_po(f)
        done = {m.id for m in catalog if m.id and isinstance(m.id, str) and m.string}
        assert not labels - done, (lang, sorted(labels - done)[:3])
        plurals = [m for m in catalog if isinstance(m.id, tuple)]
        assert plurals and all(m.string and all(m.string) for m in plurals), lang
    yue = translator("yue")
    assert [yue(t.label) for t in COUNTIES] == ["茂南", "電白", "高州", "化州", "信宜"]
