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

import bisect
import datetime as dt
import itertools
import re
import unicodedata
import weakref
from array import array
from collections import Counter, defaultdict
from dataclasses import dataclass
from functools import cache, lru_cache
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
    return list(_tokens(text))


@lru_cache(maxsize=100_000)
def _tokens(text: str) -> tuple[str, ...]:
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
    return tuple(t for t in out if t)


@dataclass(slots=True)
class Doc:
    kind: str
    id: int
    text: str  # the joined pinyin, for tie-breaking
    day: dt.date
    closes: dt.date | None
    status: str


TIERS = (1.0, 0.8, 0.5)  # the title; the kind of work and brand; everything else
EXACT_UP_TO = 3000  # candidates scored one by one; beyond this, taken by class
RARE = 3  # a token in fewer documents than this may be a typo: near syllables count too


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
        self._sets: dict[tuple[float, str], frozenset[int]] = {}
        self._unions: dict[tuple[tuple[str, ...], tuple[float, ...]], frozenset[int]] = {}
        self._kinds: dict[str, frozenset[int]] = {}
        self._order: tuple[list[int], list[dt.date]] | None = None
        self._kind_slots: dict[str, list[int]] = {}

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
        self.docs.append(Doc(kind, ident, " ".join(all_tokens), day, closes, status))
        self.slot[(kind, ident)] = slot
        self._kind_slots.setdefault(kind, []).append(slot)
        self._near.clear()
        self._sets.clear()
        self._unions.clear()
        self._kinds.clear()
        self._order = None

    def ready(self) -> None:
        """After adding: the live documents of each kind, as sets."""
        self._kinds = {
            kind: frozenset(s for s in slots if self.docs[s] is not None)
            for kind, slots in self._kind_slots.items()
        }

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
        """The token, and the syllables one edit away when the token itself is rare
        (a typo: `sou` for `sao`); a common token is taken as meant."""
        if sum(len(self.postings[t].get(token, ())) for t in TIERS) >= RARE:
            return [(token, 2.0)]
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

    def _set(self, tier: float, key: str) -> frozenset[int]:
        """The documents posting `key` in `tier`, as a set (cached until the next add)."""
        cached = self._sets.get((tier, key))
        if cached is None:
            cached = self._sets[(tier, key)] = frozenset(self.postings[tier].get(key, ()))
        return cached

    def _with(self, keys: list[str], tiers: tuple[float, ...] = TIERS) -> frozenset[int]:
        """The documents posting any of `keys` in any of `tiers` (cached until an add)."""
        key = (tuple(keys), tiers)
        found = self._unions.get(key)
        if found is None:
            found = frozenset().union(*(self._set(t, k) for t in tiers for k in keys))
            if len(self._unions) > 4096:
                self._unions.clear()
            self._unions[key] = found
        return found

    def _by_day(self) -> tuple[list[int], list[dt.date]]:
        if self._order is None:
            live = [(d.day, d.id, slot) for slot, d in enumerate(self.docs) if d is not None]
            live.sort()
            self._order = ([slot for _d, _i, slot in live], [day for day, _i, _s in live])
        return self._order

    def search(self, query: str, kind: str, today: dt.date, limit: int = 5) -> list[int]:
        """The ids of the best `limit` open documents of `kind` for a typed query.

        Candidates are the documents holding every word (or a near miss of it); failing
        that, as many of the words as any document holds, if that is at least half. Few
        candidates are scored exactly; many are taken by class (the words side by side in
        the title, then all in the title, then anywhere), soonest first.
        """
        qtokens = tokens(query)[:12]
        if not qtokens:
            return []
        variants = [[v for v, _w in self._variants(t)] for t in qtokens]
        of_kind = self._kinds.get(kind, frozenset())
        per_word = [self._with(keys) & of_kind for keys in variants]
        candidates: frozenset[int] | set[int] = frozenset.intersection(*per_word)
        if not candidates:
            counts: Counter[int] = Counter()
            for docs in per_word:
                counts.update(docs)
            most = max(counts.values(), default=0)
            if most * 2 < len(qtokens):
                return []
            candidates = {slot for slot, n in counts.items() if n == most}
        if len(candidates) <= EXACT_UP_TO:
            return self._exact(qtokens, variants, candidates, today, limit)
        in_title = frozenset.intersection(*(self._with(keys, (1.0,)) for keys in variants))
        side_by_side = in_title
        for left, right in itertools.pairwise(variants):
            side_by_side = side_by_side & self._with([f"{a}|{b}" for a in left for b in right])
        found: list[int] = []
        for group in (side_by_side & candidates, in_title & candidates, candidates):
            found += [i for i in self._soonest(group, today, limit) if i not in found]
            if len(found) >= limit:
                break
        return found[:limit]

    def _soonest(self, group: frozenset[int] | set[int], today: dt.date, limit: int) -> list[int]:
        docs = self.docs
        if len(group) <= EXACT_UP_TO:
            ranked = sorted((docs[s].day, docs[s].id, s) for s in group if docs[s] is not None)
            slots = [s for _d, _i, s in ranked]
        else:
            order, days = self._by_day()
            slots = (s for s in order[bisect.bisect_left(days, today) :] if s in group)
        out = []
        for slot in slots:
            doc = docs[slot]
            if doc is not None and _open(doc, today):
                out.append(doc.id)
                if len(out) == limit:
                    break
        return out

    def _exact(
        self,
        qtokens: list[str],
        variants: list[list[str]],
        candidates: frozenset[int] | set[int],
        today: dt.date,
        limit: int,
    ) -> list[int]:
        """Score each candidate: per word its best match (exact 2, near 1.2) times the
        tier's weight; 1.5 times the tier's weight for each pair of words side by side."""
        sets = []
        for keys in variants:
            exact, near = keys[:1], keys[1:]
            sets.append(
                [(2.0 * t, self._set(t, exact[0])) for t in TIERS]
                + [(1.2 * t, self._with(near, (t,))) for t in TIERS if near]
            )
        pairs = [
            [
                (1.5 * t, self._with([f"{a}|{b}" for a in left[:4] for b in right[:4]], (t,)))
                for t in TIERS
            ]
            for left, right in itertools.pairwise(variants)
        ]
        text = " ".join(qtokens)
        scored = []
        for slot in candidates:
            doc = self.docs[slot]
            if doc is None or not _open(doc, today):
                continue
            score = sum(
                max((w for w, docs in options if slot in docs), default=0.0) for options in sets
            )
            score += sum(
                max((w for w, docs in options if slot in docs), default=0.0) for options in pairs
            )
            scored.append((-score, doc.day, doc.id, doc.text))
        scored.sort()
        top = scored[: limit * 4]
        top.sort(key=lambda r: (r[0], -fuzz.partial_ratio(text, r[3]), r[1], r[2]))
        return [ident for _s, _d, ident, _t in top[:limit]]


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
            index.ready()
        return index

    async def courses(self, query: str, today: dt.date, limit: int = 5) -> list[int]:
        return (await self.index()).search(query, "course", today, limit)

    async def fairs(self, query: str, today: dt.date, limit: int = 5) -> list[int]:
        return (await self.index()).search(query, "fair", today, limit)
