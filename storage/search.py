"""Fuzzy search over courses and job fairs: typos, pinyin and both scripts.

Every text is read as a row of tokens: a Chinese character becomes its pinyin syllable
(護 and 护 both become `hu`), a run of Latin letters is split into pinyin syllables when
it is pinyin (`yuesao`, `yue sao`, `yuè sǎo`, `yue4 sao3` → `yue sao`) and kept as a word
otherwise (`nanny`). An inverted index maps each token, and each pair of neighbouring
tokens, to the documents holding it. A query token also matches the syllables one edit
away (`月艘` is `yue sou`, which finds `yue sao`). Documents are scored by the tokens and
pairs they share with the query; rapidfuzz breaks ties on the whole text.

The index is built once per database, on the first search, and kept in step with the
data: each search asks for the newest `updated_at` of courses and fairs, and re-indexes
only what changed since.
"""

from __future__ import annotations

import datetime as dt
import itertools
import re
import unicodedata
import weakref
from array import array
from collections import defaultdict
from dataclasses import dataclass
from functools import cache
from typing import Any

from pypinyin import Style, lazy_pinyin
from pypinyin.contrib.tone_convert import to_normal
from rapidfuzz import fuzz
from rapidfuzz.distance import Levenshtein
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from storage.models import Course, JobFair

# English words a person might type for each kind of work (Chinese text is in the data)
ALIASES = {
    "月嫂": "yuesao maternity nurse confinement",
    "母婴": "maternity newborn mother baby",
    "育婴": "infant baby childcare",
    "保姆": "nanny housekeeper domestic helper",
    "家政": "housekeeping domestic helper",
    "养老": "elder elderly care carer",
    "陪护": "patient companion hospital carer",
    "护理": "nursing care carer",
    "催乳": "lactation breastfeeding",
    "推拿": "massage",
    "钟点": "hourly",
}

_INITIALS = "b p m f d t n l g k h j q x zh ch sh r z c s y w".split()
_FINALS = (
    "a o e i u v ai ei ui ao ou iu ie ve er an en in un vn ang eng ing ong ia iao ian iang "
    "iong ua uo uai uan uang ue van"
).split()


@cache
def _syllables() -> frozenset[str]:
    out = set(_FINALS)
    out |= {i + f for i in _INITIALS for f in _FINALS}
    return frozenset(out)


@cache
def _char_pinyin(ch: str) -> str:
    return lazy_pinyin(ch, style=Style.NORMAL, v_to_u=False)[0].replace("ü", "v")


def _split_pinyin(word: str) -> list[str] | None:
    """`yuesao` → [yue, sao]; None when the word is not pinyin. Longest match first."""
    syllables, out, i = _syllables(), [], 0
    while i < len(word):
        for size in (6, 5, 4, 3, 2, 1):
            piece = word[i : i + size]
            if len(piece) == size and piece in syllables:
                out.append(piece)
                i += size
                break
        else:
            return None
    return out


_LATIN = re.compile(r"[a-z0-9]+")


def tokens(text: str) -> list[str]:
    """The tokens of a text (see the module's docstring)."""
    out: list[str] = []
    word: list[str] = []

    def flush() -> None:
        if word:
            w = "".join(word)
            letters = re.sub(r"\d", "", w)
            split = _split_pinyin(letters) if letters and letters.isalpha() else None
            out.extend(split if split else [w])
            word.clear()

    for ch in unicodedata.normalize("NFKC", text).lower():
        if "\u4e00" <= ch <= "\u9fff" or "\u3400" <= ch <= "\u4dbf":
            flush()
            out.append(_char_pinyin(ch))
        elif ch.isascii() and ch.isalnum():
            word.append(ch)
        elif unicodedata.category(ch) == "Mn":  # a tone mark left by NFKD: drop
            continue
        elif ch.isalpha() and not ch.isascii():  # ǎ, ü ... → plain letters
            plain = to_normal(ch).replace("ü", "v")
            plain = unicodedata.normalize("NFKD", plain).encode("ascii", "ignore").decode()
            word.append(plain or "")
        else:
            flush()
    flush()
    return [t for t in out if t]


@dataclass(slots=True)
class Doc:
    kind: str
    id: int
    text: str  # the joined pinyin, for tie-breaking
    day: dt.date
    closes: dt.date | None
    status: str


TIERS = (1.0, 0.8, 0.5)  # the title; the kind of work and brand; everything else


class SearchIndex:
    def __init__(self) -> None:
        self.docs: list[Doc | None] = []
        self.slot: dict[tuple[str, int], int] = {}
        # per tier (how much a match there counts): token or "a|b" pair → document slots
        self.postings: dict[float, dict[str, array]] = {
            w: defaultdict(lambda: array("i")) for w in TIERS
        }
        self.vocabulary: set[str] = set()
        self.watermark: tuple[dt.datetime | None, dt.datetime | None] = (None, None)
        self._near: dict[str, list[str]] = {}

    # --- building ---------------------------------------------------------------------
    def add(
        self,
        kind: str,
        ident: int,
        fields: list[tuple[float, str]],
        day: dt.date,
        closes: dt.date | None,
        status: str,
    ) -> None:
        """`fields` are (tier, text); a token is posted once, in its best tier."""
        old = self.slot.get((kind, ident))
        if old is not None:
            self.docs[old] = None  # its postings now point at nothing
        slot = len(self.docs)
        all_tokens: list[str] = []
        seen: set[str] = set()
        for tier, field in sorted(fields, key=lambda f: -f[0]):
            toks = tokens(field)
            all_tokens += toks
            keys = set(toks) | {a + "|" + b for a, b in itertools.pairwise(toks)}
            for key in keys - seen:
                self.postings[tier][key].append(slot)
            seen |= keys
        self.vocabulary.update(t for t in all_tokens if "|" not in t)
        self._near.clear()
        self.docs.append(Doc(kind, ident, " ".join(all_tokens), day, closes, status))
        self.slot[(kind, ident)] = slot

    def add_course(self, c: Course) -> None:
        aliases = [words for key, words in ALIASES.items() if key in c.track + c.title]
        fields = [(1.0, c.title), (0.8, c.track), (0.8, c.brand)]
        fields += [(0.8, a) for a in aliases]
        fields += [(0.5, c.base.name), (0.5, c.base.county), (0.5, c.certificate)]
        self.add("course", c.id, fields, c.starts_on, c.signup_closes_on, c.status)

    def add_fair(self, f: JobFair) -> None:
        jobs = [
            f"{job.get('category', '')} {job.get('destination', '')}"
            for employer in f.employers
            for job in employer.get("jobs", [])
        ]
        names = [e.get("name", "") for e in f.employers]
        aliases = [words for key, words in ALIASES.items() if any(key in j for j in jobs)]
        fields = [(1.0, f.title), *((0.8, j) for j in jobs), *((0.8, a) for a in aliases)]
        fields += [(0.5, x) for x in (f.venue, f.county, f.organiser, *names)]
        self.add("fair", f.id, fields, f.starts_at.date(), None, f.status)

    # --- searching --------------------------------------------------------------------
    def _variants(self, token: str) -> list[tuple[str, float]]:
        if token not in self._near:
            near = []
            if len(token) >= 3:
                near = [
                    v
                    for v in self.vocabulary
                    if v != token
                    and abs(len(v) - len(token)) <= 1
                    and Levenshtein.distance(v, token, score_cutoff=1) <= 1
                ]
            self._near[token] = near
        return [(token, 2.0), *((v, 1.2) for v in self._near[token])]

    def search(self, query: str, kind: str, today: dt.date, limit: int = 5) -> list[int]:
        qtokens = tokens(query)[:12]
        if not qtokens:
            return []
        scores: dict[int, float] = defaultdict(float)
        variants = [self._variants(t) for t in qtokens]
        for options in variants:
            best: dict[int, float] = {}
            for tier, postings in self.postings.items():
                for token, weight in options:
                    w = weight * tier
                    for slot in postings.get(token, ()):
                        if best.get(slot, 0.0) < w:
                            best[slot] = w
            for slot, weight in best.items():
                scores[slot] += weight
        for left, right in itertools.pairwise(variants):
            pairs: dict[int, float] = {}
            for tier, postings in self.postings.items():
                for a, _wa in left[:4]:
                    for b, _wb in right[:4]:
                        for slot in postings.get(f"{a}|{b}", ()):
                            pairs[slot] = max(pairs.get(slot, 0.0), 1.5 * tier)
            for slot, bonus in pairs.items():
                scores[slot] += bonus
        if not scores:
            return []
        floor = 0.3 * len(qtokens)  # about half the words, even as near misses in fine print
        ranked = sorted(scores.items(), key=lambda kv: -kv[1])
        text = " ".join(qtokens)
        out: list[tuple[float, float, dt.date, int]] = []
        for slot, score in ranked:
            doc = self.docs[slot]
            if doc is None or doc.kind != kind or score < floor or not _open(doc, today):
                continue
            out.append((-score, -fuzz.partial_ratio(text, doc.text), doc.day, doc.id))
            if len(out) >= limit * 10:
                break
        out.sort()
        return [ident for *_rest, ident in out[:limit]]


def _open(doc: Doc, today: dt.date) -> bool:
    if doc.status != "open":
        return False
    if doc.kind == "fair":
        return doc.day >= today
    return doc.day > today and (doc.closes is None or doc.closes >= today)


_indexes: weakref.WeakKeyDictionary[Any, SearchIndex] = weakref.WeakKeyDictionary()


class SearchRepo:
    """Search through the index of this session's database, brought up to date first."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def index(self) -> SearchIndex:
        engine = self.session.bind.sync_engine if self.session.bind else None  # type: ignore[union-attr]
        index = _indexes.get(engine)
        if index is None:
            index = _indexes[engine] = SearchIndex()
        newest = (
            await self.session.scalar(select(func.max(Course.updated_at))),
            await self.session.scalar(select(func.max(JobFair.updated_at))),
        )
        if newest != index.watermark:
            since_c, since_f = index.watermark
            courses = select(Course).options(selectinload(Course.base))
            fairs = select(JobFair)
            if since_c is not None:
                courses = courses.where(Course.updated_at >= since_c)
            if since_f is not None:
                fairs = fairs.where(JobFair.updated_at >= since_f)
            for course in await self.session.scalars(courses):
                index.add_course(course)
            for fair in await self.session.scalars(fairs):
                index.add_fair(fair)
            index.watermark = newest
        return index

    async def courses(self, query: str, today: dt.date, limit: int = 5) -> list[int]:
        return (await self.index()).search(query, "course", today, limit)

    async def fairs(self, query: str, today: dt.date, limit: int = 5) -> list[int]:
        return (await self.index()).search(query, "fair", today, limit)
