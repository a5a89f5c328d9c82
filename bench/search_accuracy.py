"""Benchmark: how often typed search finds what the person meant.

A labelled set of queries, typed the way people type them (keywords and whole sentences,
Mandarin, Cantonese in Traditional characters, pinyin with and without spaces or tones,
English, typos: swapped or missing letters, a wrong character of the same sound), each
with the course or job-fair codes that answer it. The catalogue is the demo data
(`storage/demo.yaml`) plus a few courses and a fair (`EXTRA`) so that each kind of work
is taught in more than one county, and some courses are paid, some free, some lodge.

Every query goes through the repository the bot uses (`Repos(session).search`), on a real
SQLite file. A query is a hit at k when one of its codes is among the first k results;
a query labelled with no codes is a hit when nothing is found. It is clean when the first
min(3, how many codes it has) results all answer it (a place filters: nothing from
elsewhere comes first). Prints top-1, top-3 and clean overall and per group, then every
miss, every result that is not clean, and every hit only at 2 or 3, with what was found.

The queries were written before the search was tuned against them, and no synonym exists
for one query alone: the set measures, it does not train.

    python bench/search_accuracy.py [--quiet]
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import sys
import tempfile
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import select

from bot.app import create_app
from bot.config import Settings
from storage.importer import DEMO_FILE, DataFile, import_data, read_file
from storage.models import Course, JobFair
from storage.repositories import Repos

#: courses and a fair added to the demo data (relative days, as the demo writes them)
EXTRA = {
    "courses": [
        {
            "code": "zd-2026-01",
            "title": "钟点工·居家保洁实操班",
            "track": "钟点工",
            "brand": "好心保姆",
            "base": "mm-jiazheng",
            "starts_on": "today+9",
            "ends_on": "today+12",
            "seats": 20,
            "fee_yuan": 300,
            "certificate": "培训结业证",
        },
        {
            "code": "pr-2026-01",
            "title": "家庭烹饪·粤菜家常菜培训",
            "track": "家庭烹饪",
            "brand": "好心保姆",
            "base": "huazhou-jiuye",
            "starts_on": "today+11",
            "ends_on": "today+20",
            "seats": 20,
            "fee_yuan": 0,
            "free_for": ["rural_women"],
            "certificate": "中式烹调师（五级）",
        },
        {
            "code": "ys-xinyi-01",
            "title": "好心月嫂·金牌月嫂提升班",
            "track": "月嫂/母婴护理",
            "brand": "好心月嫂",
            "base": "xinyi-xiangcun",
            "starts_on": "today+13",
            "ends_on": "today+30",
            "seats": 20,
            "fee_yuan": 2800,
            "certificate": "母婴护理员（四级）职业技能等级证书",
            "lodging": True,
        },
        {
            "code": "yy-maonan-01",
            "title": "育婴员（四级）提升班",
            "track": "育婴员",
            "brand": "好心保姆",
            "base": "mm-jiazheng",
            "starts_on": "today+16",
            "ends_on": "today+30",
            "seats": 25,
            "fee_yuan": 1500,
            "certificate": "育婴员（四级）职业技能等级证书",
        },
        {
            "code": "hl-dianbai-01",
            "title": "养老护理员（五级）免费培训",
            "track": "养老护理员",
            "brand": "好心护理",
            "base": "dianbai-jinguo",
            "starts_on": "today+19",
            "ends_on": "today+35",
            "seats": 30,
            "fee_yuan": 0,
            "free_for": ["rural_women"],
            "certificate": "养老护理员（五级）职业技能等级证书",
            "lodging": True,
        },
        {
            "code": "ph-gaozhou-01",
            "title": "医院陪护员短期班",
            "track": "病患陪护",
            "brand": "好心陪护",
            "base": "gaozhou-zhiyuan",
            "starts_on": "today+22",
            "ends_on": "today+27",
            "seats": 20,
            "fee_yuan": 500,
            "free_for": ["unemployed"],
            "certificate": "医疗护理员培训合格证",
        },
    ],
    "job_fairs": [
        {
            "code": "fair-xinyi-01",
            "title": "信宜市春季家政招聘会",
            "starts_at": "today+20 09:00",
            "venue": "信宜市人力资源市场",
            "county": "信宜",
            "organiser": "信宜市人力资源和社会保障局",
            "employers": [
                {
                    "name": "广州穗安家政",
                    "jobs": [{"category": "育婴员", "destination": "广州", "live_in": True}],
                },
                {
                    "name": "香港福临家庭服务",
                    "jobs": [{"category": "家庭厨师", "destination": "香港"}],
                },
            ],
        }
    ],
}

M = ("ys-2026-01", "jg-muying-01", "ys-xinyi-01")  # maternity (月嫂)
INFANT = ("jg-yuying-01", "yy-maonan-01")
ELDER = ("hl-2026-01", "hl-dianbai-01")
PATIENT = ("ph-2026-01", "ph-gaozhou-01")
BM, CUIRU, TUINA, HOURLY, COOK = (
    ("bm-2026-02",),
    ("jg-cuiru-01",),
    ("tn-2026-01",),
    ("zd-2026-01",),
    ("pr-2026-01",),
)
XINYI = ("hl-2026-01", "ys-xinyi-01")
LODGING = ("ys-2026-01", "jg-yuying-01", "hl-2026-01", "ys-xinyi-01", "hl-dianbai-01")
FREE = (  # fee 0, or free for some groups
    "ys-2026-01",
    "jg-muying-01",
    "jg-cuiru-01",
    "jg-yuying-01",
    "bm-2026-02",
    "ph-2026-01",
    "hl-2026-01",
    "tn-2026-01",
    "pr-2026-01",
    "hl-dianbai-01",
    "ph-gaozhou-01",
)
NONE: tuple[str, ...] = ()
FM, FGBA, FGZ, FXY = "fair-maonan-01", "fair-gba-01", "fair-gaozhou-01", "fair-xinyi-01"

#: (group, kind, query, the codes that answer it)
QUERIES: list[tuple[str, str, str, tuple[str, ...]]] = [
    # Mandarin keywords
    ("zh keyword", "course", "月嫂", M),
    ("zh keyword", "course", "月嫂培训", M),
    ("zh keyword", "course", "母婴护理", M),
    ("zh keyword", "course", "保姆", BM),
    ("zh keyword", "course", "家政服务员", BM),
    ("zh keyword", "course", "育婴师", INFANT),
    ("zh keyword", "course", "育婴员", INFANT),
    ("zh keyword", "course", "养老护理", ELDER),
    ("zh keyword", "course", "陪护", PATIENT),
    ("zh keyword", "course", "催乳师", CUIRU),
    ("zh keyword", "course", "小儿推拿", TUINA),
    ("zh keyword", "course", "钟点工", HOURLY),
    ("zh keyword", "course", "护工", PATIENT),
    ("zh keyword", "course", "照顾老人", ELDER),
    ("zh keyword", "course", "做饭", COOK),
    ("zh keyword", "course", "带小孩", INFANT),
    ("zh keyword", "course", "催乳", CUIRU),
    ("zh keyword", "course", "推拿", TUINA),
    ("zh keyword", "course", "住家保姆", BM),
    ("zh keyword", "course", "病人陪护", PATIENT),
    # Mandarin sentences (typed, or WeChat voice input)
    ("zh sentence", "course", "我想学月嫂", M),
    ("zh sentence", "course", "想做保姆", BM),
    ("zh sentence", "course", "有没有养老护理的培训", ELDER),
    ("zh sentence", "course", "怎么报名月嫂培训", M),
    ("zh sentence", "course", "我想学做饭", COOK),
    ("zh sentence", "course", "有没有免费的月嫂培训", ("ys-2026-01", "jg-muying-01")),
    ("zh sentence", "course", "我要学催乳", CUIRU),
    ("zh sentence", "course", "想学带宝宝", INFANT),
    ("zh sentence", "course", "哪里有陪护培训", PATIENT),
    ("zh sentence", "course", "我想当月嫂", M),
    ("zh sentence", "course", "我想找保姆的工作", BM),
    ("zh sentence", "course", "请问有钟点工课程吗", HOURLY),
    ("zh sentence", "course", "信宜有什么培训", XINYI),
    ("zh sentence", "course", "高州有没有育婴师培训", ("jg-yuying-01",)),
    ("zh sentence", "course", "我在电白想学养老护理", ("hl-dianbai-01",)),
    ("zh sentence", "course", "包住宿的月嫂培训", ("ys-2026-01", "ys-xinyi-01")),
    ("zh sentence", "course", "免费的育婴培训", ("jg-yuying-01",)),
    ("zh sentence", "course", "我想学小儿推拿", TUINA),
    ("zh sentence", "course", "学催乳师要多少钱", CUIRU),
    ("zh sentence", "course", "茂南的月嫂班", ("ys-2026-01",)),
    # places and facts
    ("place/fact", "course", "信宜", XINYI),
    ("place/fact", "course", "茂南", ("ys-2026-01", "ph-2026-01", "zd-2026-01", "yy-maonan-01")),
    ("place/fact", "course", "化州", ("bm-2026-02", "pr-2026-01")),
    ("place/fact", "course", "电白月嫂", ("jg-muying-01",)),
    ("place/fact", "course", "高州 陪护", ("ph-gaozhou-01",)),
    ("place/fact", "course", "住宿", LODGING),
    ("place/fact", "course", "免费", FREE),
    ("place/fact", "course", "免费培训", FREE),
    ("place/fact", "course", "包吃住", LODGING),
    ("place/fact", "course", "不要钱的", FREE),
    ("place/fact", "course", "信宜 月嫂", ("ys-xinyi-01",)),
    ("place/fact", "course", "电白 免费", ("jg-muying-01", "jg-cuiru-01", "hl-dianbai-01")),
    # Cantonese, Traditional characters
    ("cantonese", "course", "家務助理", BM),
    ("cantonese", "course", "我想學月嫂", M),
    ("cantonese", "course", "陪月", M),
    ("cantonese", "course", "湊BB", INFANT),
    ("cantonese", "course", "點樣報名做保姆", BM),
    ("cantonese", "course", "有冇免費課程", FREE),
    ("cantonese", "course", "照顧老人", ELDER),
    ("cantonese", "course", "護工", PATIENT),
    ("cantonese", "course", "催乳師", CUIRU),
    ("cantonese", "course", "小兒推拿", TUINA),
    ("cantonese", "course", "鐘點工", HOURLY),
    ("cantonese", "course", "工人姐姐", BM),
    ("cantonese", "course", "想做陪月員", M),
    ("cantonese", "course", "有冇包住宿嘅月嫂班", ("ys-2026-01", "ys-xinyi-01")),
    ("cantonese", "course", "信宜有冇養老護理", ("hl-2026-01",)),
    ("cantonese", "course", "育嬰員", INFANT),
    ("cantonese", "course", "家務助理培訓", BM),
    ("cantonese", "course", "我想學煮飯", COOK),
    # pinyin
    ("pinyin", "course", "yuesao", M),
    ("pinyin", "course", "yue sao", M),
    ("pinyin", "course", "baomu", BM),
    ("pinyin", "course", "bao mu", BM),
    ("pinyin", "course", "yuyingshi", INFANT),
    ("pinyin", "course", "yu ying yuan", INFANT),
    ("pinyin", "course", "yanglao", ELDER),
    ("pinyin", "course", "yang lao hu li", ELDER),
    ("pinyin", "course", "peihu", PATIENT),
    ("pinyin", "course", "cuirushi", CUIRU),
    ("pinyin", "course", "xiao er tui na", TUINA),
    ("pinyin", "course", "tuina", TUINA),
    ("pinyin", "course", "zhongdiangong", HOURLY),
    ("pinyin", "course", "wo xiang xue yuesao", M),
    ("pinyin", "course", "xinyi yuesao", ("ys-xinyi-01",)),
    ("pinyin", "course", "gaozhou yuying", ("jg-yuying-01",)),
    ("pinyin", "course", "mianfei yuesao", ("ys-2026-01", "jg-muying-01")),
    ("pinyin", "course", "yuè sǎo", M),
    ("pinyin", "course", "muying huli", M),
    ("pinyin", "course", "jiazheng fuwuyuan", BM),
    # English
    ("english", "course", "nanny", BM),
    ("english", "course", "maternity nurse", M),
    ("english", "course", "confinement nanny", M),
    ("english", "course", "elderly care", ELDER),
    ("english", "course", "patient companion", PATIENT),
    ("english", "course", "lactation", CUIRU),
    ("english", "course", "baby massage", TUINA),
    ("english", "course", "infant care", INFANT),
    ("english", "course", "free nanny course", BM),
    ("english", "course", "I want to be a nanny", BM),
    ("english", "course", "housekeeper training", BM),
    ("english", "course", "cooking class", COOK),
    ("english", "course", "free courses with lodging", LODGING),
    ("english", "course", "hourly cleaner", HOURLY),
    ("english", "course", "yuesao in xinyi", ("ys-xinyi-01",)),
    ("english", "course", "elder carer Dianbai", ("hl-dianbai-01",)),
    # typos: swapped or missing letters, a wrong character of the same sound
    ("typo", "course", "yuesoa", M),
    ("typo", "course", "yusao", M),
    ("typo", "course", "月艘", M),
    ("typo", "course", "約嫂", M),
    ("typo", "course", "保母", BM),
    ("typo", "course", "养老户理", ELDER),
    ("typo", "course", "崔乳师", CUIRU),
    ("typo", "course", "nany", BM),
    ("typo", "course", "matenity", M),
    ("typo", "course", "yangloa", ELDER),
    ("typo", "course", "育英师", INFANT),
    ("typo", "course", "陪户", PATIENT),
    ("typo", "course", "baumu", BM),
    ("typo", "course", "tuinna", TUINA),
    # words that name nothing in the catalogue: nothing is the right answer
    ("nothing", "course", "2000元", NONE),
    ("nothing", "course", "yuan", NONE),
    # job fairs
    ("fair", "fair", "深圳", (FM,)),
    ("fair", "fair", "香港", (FGBA, FXY)),
    ("fair", "fair", "月嫂 招聘会", (FM, FGZ)),
    ("fair", "fair", "澳门保姆", (FGBA,)),
    ("fair", "fair", "家務助理", (FGBA, FM)),
    ("fair", "fair", "东莞 钟点工", (FGBA,)),
    ("fair", "fair", "广州月嫂", (FGZ,)),
    ("fair", "fair", "信宜招聘会", (FXY,)),
    ("fair", "fair", "我想去香港做保姆", (FGBA,)),
    ("fair", "fair", "shenzhen", (FM,)),
    ("fair", "fair", "xianggang", (FGBA, FXY)),
    ("fair", "fair", "hong kong", (FGBA, FXY)),
    ("fair", "fair", "macau", (FGBA,)),
    ("fair", "fair", "高州", (FGZ,)),
    ("fair", "fair", "包住的工作", (FM, FGBA, FGZ, FXY)),
    ("fair", "fair", "陪护", (FGZ,)),
    ("fair", "fair", "elderly care jobs", (FGBA,)),
    ("fair", "fair", "住家保姆", (FGBA, FM)),
    ("fair", "fair", "有冇香港嘅工", (FGBA, FXY)),
    ("fair", "fair", "做饭", (FXY,)),
    ("fair", "fair", "茂名 月嫂", (FM, FGZ)),
    ("fair", "fair", "dongguan", (FGBA,)),
    ("fair", "fair", "电白", (FGBA,)),
    # written after the first tuning, without running them first: does it generalise?
    ("later", "course", "想学育儿嫂", INFANT),
    ("later", "course", "我想做钟点工", HOURLY),
    ("later", "course", "babysitter", INFANT),
    ("later", "course", "老人护理培训", ELDER),
    ("later", "course", "照顾病人", PATIENT),
    ("later", "course", "有没有包住的养老班", ELDER),
    ("later", "course", "化州有咩課程", ("bm-2026-02", "pr-2026-01")),
    ("later", "course", "yue sao pei xun", M),
    ("later", "course", "mianfei peixun", FREE),
    ("later", "course", "yuesao peixun xinyi", ("ys-xinyi-01",)),
    ("later", "course", "nanny training in huazhou", BM),
    ("later", "course", "月嫂要学几天", M),
    ("later", "course", "保洁", HOURLY),
    ("later", "course", "陪診", PATIENT),
    ("later", "course", "通乳", CUIRU),
    ("later", "course", "婴儿推拿", TUINA),
    ("later", "course", "yuyng", INFANT),
    ("later", "course", "cuiru", CUIRU),
    ("later", "fair", "去深圳做月嫂", (FM,)),
    ("later", "fair", "澳門", (FGBA,)),
    ("later", "fair", "广州有什么工作", (FM, FGZ, FXY)),
    ("later", "fair", "钟点工", (FGBA,)),
    ("later", "fair", "housekeeper hong kong", (FGBA,)),
]


def hit(found: list[str], expected: tuple[str, ...], k: int) -> bool:
    """Whether one of `expected` is among the first `k` found (nothing expected: nothing
    found)."""
    if not expected:
        return not found
    return any(code in expected for code in found[:k])


def clean(found: list[str], expected: tuple[str, ...]) -> bool:
    """Whether the first min(3, how many answer it) found all answer it: nothing wrong is
    shown before every right one (up to three) is."""
    if not expected:
        return not found
    return all(code in expected for code in found[: min(3, len(expected))])


async def run(quiet: bool) -> float:
    """Run the set; print the figures; returns the top-3 accuracy overall."""
    today = dt.date.today()
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite+aiosqlite:///{tmp}/accuracy.db"
        app = await create_app(Settings(_env_file=None, database_url=url))  # type: ignore[call-arg]
        try:
            async with app.db.sessions() as s, s.begin():
                await import_data(s, read_file(DEMO_FILE))
                await import_data(s, DataFile.model_validate(EXTRA))
            async with app.db.sessions() as s:
                codes = {
                    "course": dict((await s.execute(select(Course.id, Course.code))).all()),
                    "fair": dict((await s.execute(select(JobFair.id, JobFair.code))).all()),
                }
            results = []
            for group, kind, query, expected in QUERIES:
                async with app.db.sessions() as s:
                    search = Repos(s).search
                    ids = await (search.courses if kind == "course" else search.fairs)(
                        query, today, limit=5
                    )
                found = [codes[kind][i] for i in ids]
                results.append((group, query, expected, found))
        finally:
            await app.close()

    per_group: dict[str, list[tuple[bool, bool, bool]]] = defaultdict(list)
    for group, _q, expected, found in results:
        per_group[group].append(
            (hit(found, expected, 1), hit(found, expected, 3), clean(found, expected))
        )
    every = [r for rows in per_group.values() for r in rows]

    def line(name: str, rows: list[tuple[bool, bool, bool]]) -> str:
        top1, top3, tidy = (sum(r[i] for r in rows) / len(rows) for i in range(3))
        return (
            f"{name:<12} {len(rows):>4} queries  top-1 {top1:6.1%}  top-3 {top3:6.1%}"
            f"  clean {tidy:6.1%}"
        )

    print(line("overall", every))
    for group, rows in per_group.items():
        print(line(group, rows))
    misses = [r for r in results if not hit(r[3], r[2], 3)]
    if misses and not quiet:
        print(f"\nmisses at top-3 ({len(misses)}):")
        for group, query, expected, found in misses:
            print(f"  [{group}] {query!r}: expected {list(expected)}, found {found}")
    messy = [r for r in results if hit(r[3], r[2], 3) and not clean(r[3], r[2])]
    if messy and not quiet:
        print(f"\nright, but a wrong one ranks among the first (not clean) ({len(messy)}):")
        for group, query, expected, found in messy:
            print(f"  [{group}] {query!r}: expected {list(expected)}, found {found}")
    weak = [r for r in results if hit(r[3], r[2], 3) and not hit(r[3], r[2], 1)]
    if weak and not quiet:
        print(f"\nright only at 2 or 3 ({len(weak)}):")
        for group, query, expected, found in weak:
            print(f"  [{group}] {query!r}: expected {list(expected)}, found {found}")
    return sum(r[1] for r in every) / len(every)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quiet", action="store_true", help="the figures only")
    args = parser.parse_args()
    asyncio.run(run(args.quiet))


if __name__ == "__main__":
    main()
