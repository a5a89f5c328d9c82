"""Benchmark: fuzzy search over 100,000 courses and job fairs in a SQLite file.

Prints the time to build the index, and p50/p95/p99 latency of searches typed the way
people type (typos, pinyin with and without spaces or tones, traditional characters,
English words), through the same repository the flows use (which first checks that the
index is up to date: two small queries).

    python bench/search.py [--docs 100000] [--queries 2000]
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from sqlalchemy import insert
from stats import pct

from bot.app import create_app
from bot.config import Settings
from storage.models import Course, JobFair, TrainingBase
from storage.repositories import Repos

TRACKS = [
    "月嫂/母婴护理",
    "育婴员",
    "家政服务员/保姆",
    "养老护理员",
    "病患陪护",
    "催乳师",
    "小儿推拿",
]
BRANDS = ["好心月嫂", "好心保姆", "好心陪护", "好心护理"]
COUNTIES = ["茂南", "电白", "高州", "化州", "信宜"]
WORDS = ["初级班", "中级班", "高级班", "免费培训", "巾帼家政", "实操班", "周末班", "晚班", "提升班"]
CITIES = ["茂名", "广州", "深圳", "东莞", "香港", "澳门"]
QUERIES = [
    "yuesao",
    "yue sao",
    "月艘",
    "yuè sǎo",
    "護理",
    "yanglao",
    "養老護理",
    "nanny",
    "peihu",
    "cuirushi",
    "xiao er tui na",
    "高州 月嫂",
    "shenzhen",
    "aomen",
    "xiang gang",
    "dianbai yuying",
    "huli",
    "baomu",
    "陪護",
    "maternity",
]


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--docs", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=2000)
    args = parser.parse_args()
    rnd = random.Random(7)
    today = dt.date.today()
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite+aiosqlite:///{tmp}/search.db"
        app = await create_app(Settings(_env_file=None, database_url=url))  # type: ignore[call-arg]
        n_courses = args.docs * 7 // 10
        async with app.db.sessions() as s, s.begin():
            bases = [
                {
                    "code": f"b{i}",
                    "name": f"{rnd.choice(COUNTIES)}第{i}家政培训基地",
                    "address": f"人民路{i}号",
                    "county": rnd.choice(COUNTIES),
                    "phone": "",
                }
                for i in range(300)
            ]
            await s.execute(insert(TrainingBase), bases)
            await s.execute(
                insert(Course),
                [
                    {
                        "code": f"c{i}",
                        "title": f"{rnd.choice(BRANDS)}·{rnd.choice(TRACKS)}{rnd.choice(WORDS)}",
                        "track": rnd.choice(TRACKS),
                        "brand": rnd.choice(BRANDS),
                        "base_id": 1 + i % 300,
                        "starts_on": today + dt.timedelta(days=rnd.randint(-30, 120)),
                        "ends_on": today + dt.timedelta(days=130),
                        "seats": 30,
                        "free_for": [],
                        "certificate": "职业技能等级证书",
                        "status": "open",
                    }
                    for i in range(n_courses)
                ],
            )
            await s.execute(
                insert(JobFair),
                [
                    {
                        "code": f"f{i}",
                        "title": f"{rnd.choice(COUNTIES)}家政招聘会第{i}场",
                        "starts_at": dt.datetime.combine(today, dt.time(9))
                        + dt.timedelta(days=rnd.randint(-30, 90)),
                        "county": rnd.choice(COUNTIES),
                        "organiser": "人社局",
                        "status": "open",
                        "employers": [
                            {
                                "name": "好心家政",
                                "jobs": [
                                    {
                                        "category": rnd.choice(TRACKS),
                                        "destination": rnd.choice(CITIES),
                                    }
                                ],
                            }
                        ],
                    }
                    for i in range(args.docs - n_courses)
                ],
            )
        async with app.db.sessions() as s:
            t0 = time.perf_counter()
            await Repos(s).search.index()
            built = time.perf_counter() - t0
            latencies, found = [], 0
            for _ in range(args.queries):
                q = rnd.choice(QUERIES)
                kind = "fairs" if q in ("shenzhen", "aomen", "xiang gang") else "courses"
                t0 = time.perf_counter()
                ids = await getattr(Repos(s).search, kind)(q, today)
                latencies.append((time.perf_counter() - t0) * 1000)
                found += bool(ids)
        await app.close()
    print(f"{args.docs:,} documents ({n_courses:,} courses): index built in {built:.1f} s")
    print(
        f"{args.queries} searches: p50 {statistics.median(latencies):.2f} ms, "
        f"p95 {pct(latencies, 95):.2f} ms, p99 {pct(latencies, 99):.2f} ms, "
        f"{found / args.queries:.0%} found something"
    )


if __name__ == "__main__":
    asyncio.run(main())
