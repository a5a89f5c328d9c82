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
only what changed since. A change costs what the changed document holds, not what the
index holds: a seat taken changes nothing search sees and is dropped after one compare; an
edited title moves that document's postings, and patches the cached sets (a key's
documents, a query's candidates) for that one document. Whether a document is open
(status, start, sign-up deadline) is read from the document at every search.
"""

from __future__ import annotations

import bisect
import datetime as dt
import itertools
import re
import sys
import unicodedata
import weakref
from array import array
from collections import Counter, OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache, lru_cache
from operator import add
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


TIERS = (1.0, 0.8, 0.5)  # the title; the kind of work and brand; everything else
EXACT_UP_TO = 3000  # candidates scored one by one; beyond this, taken by class
RARE = 3  # a token in fewer documents than this may be a typo: near syllables count too
BULK = 1000  # more changed documents than this at once: drop the caches, sort once at the end
# document slots the cached sets may hold together (about 50 B each): at least this many,
# and as many per indexed document (the caches stay within about half the index's size)
CACHE_BUDGET = 1_000_000
CACHE_PER_DOC = 10
NEAR_CACHE = 4096  # typed tokens whose near syllables are remembered

#: a document's keys (tokens and "a|b" pairs), each in its best tier: tier → keys
Keys = dict[float, set[str]]


@dataclass(slots=True)
class Doc:
    """One indexed course or fair: what ranking and the open check need."""

    kind: str
    id: int
    #: per field with any tokens, best tier first: its tier, and its tokens
    tiers: tuple[float, ...]
    tokens: tuple[tuple[str, ...], ...]
    day: dt.date
    closes: dt.date | None
    status: str

    @property
    def text(self) -> str:
        """The joined tokens of every field, best tier first (for tie-breaking)."""
        return " ".join(t for toks in self.tokens for t in toks)

    def keys(self) -> Keys:
        """The keys it posts: each token and neighbouring pair once, in its best tier."""
        out: Keys = {}
        seen: set[str] = set()
        for tier, toks in zip(self.tiers, self.tokens, strict=True):
            keys = _field_keys(toks)
            new = keys - seen
            if new:
                out.setdefault(tier, set()).update(new)
            seen |= keys
        return out


_NONE: frozenset[str] = frozenset()


@lru_cache(maxsize=1024)  # the fields many documents share: kinds of work, brands, bases
def _field_keys(toks: tuple[str, ...]) -> frozenset[str]:
    """A field's keys: its tokens, and each pair of neighbours as "a|b"."""
    return frozenset(toks).union(a + "|" + b for a, b in itertools.pairwise(toks))


class _DayOrder:
    """The documents of one kind sorted by (day, id): parallel arrays of the day's ordinal,
    the id and the slot. Insert and remove cost a binary search and a memmove."""

    __slots__ = ("days", "ids", "slots")

    def __init__(self) -> None:
        self.days = array("i")
        self.ids = array("q")
        self.slots = array("i")

    def _at(self, day: int, ident: int) -> int:
        lo = bisect.bisect_left(self.days, day)
        hi = bisect.bisect_right(self.days, day, lo)
        return bisect.bisect_left(self.ids, ident, lo, hi)

    def insert(self, day: dt.date, ident: int, slot: int) -> None:
        """Put the document (`day`, id `ident`) at `slot` in its place."""
        i = self._at(day.toordinal(), ident)
        self.days.insert(i, day.toordinal())
        self.ids.insert(i, ident)
        self.slots.insert(i, slot)

    def remove(self, day: dt.date, ident: int) -> None:
        """Take out the document (`day`, id `ident`), as it was inserted."""
        i = self._at(day.toordinal(), ident)
        del self.days[i], self.ids[i], self.slots[i]

    def start(self, day: dt.date) -> int:
        """The position of the first document on or after `day`."""
        return bisect.bisect_left(self.days, day.toordinal())


class _Union:
    """Cached: the documents of a kind posting any of `keys` in any of `tiers`."""

    __slots__ = ("docs", "keys", "size", "tiers")

    def __init__(self, keys: tuple[str, ...], tiers: tuple[float, ...], docs: set[int]) -> None:
        self.keys, self.tiers, self.docs = keys, tiers, docs
        self.size = len(docs)

    def patch(self, slot: int, keys: Keys, everything: set[str]) -> bool:
        """Bring `slot`'s membership in step with its keys now; False: drop this entry."""
        holds = any(k in keys.get(t, ()) for t in self.tiers for k in self.keys)
        (self.docs.add if holds else self.docs.discard)(slot)
        return True


class _Plan:
    """Cached: a query's candidates, and (once wanted) its classes among them.

    `candidates` are the documents holding every word (`most` is then the number of
    words), or when none does, those holding the most words (`most` of them).
    `side_by_side` and `in_title` are the candidates with the words side by side in the
    title, and with every word in the title (None until first wanted).
    """

    __slots__ = ("candidates", "in_title", "keys", "most", "pairs", "side_by_side", "size", "words")

    def __init__(self, words: tuple[tuple[str, ...], ...]) -> None:
        self.words = words
        self.pairs = [
            {f"{a}|{b}" for a in left for b in right} for left, right in itertools.pairwise(words)
        ]
        self.keys = tuple({k for w in words for k in w} | {k for p in self.pairs for k in p})
        self.candidates: set[int] = set()
        self.most = 0
        self.side_by_side: set[int] | None = None
        self.in_title: set[int] | None = None
        self.size = 0

    def patch(self, slot: int, keys: Keys, everything: set[str]) -> bool:
        """Bring `slot`'s membership in step with its keys now; False: drop this entry."""
        held = [not everything.isdisjoint(w) for w in self.words]
        count = sum(held)
        if self.most == len(self.words):  # the candidates hold every word
            if count == self.most:
                self.candidates.add(slot)
            else:
                self.candidates.discard(slot)
                if not self.candidates:
                    return False
        elif count > self.most:  # the only one holding this many (perhaps every word)
            self.most, self.candidates = count, {slot}
            self.side_by_side = self.in_title = None
            return True
        elif count == self.most and count:
            self.candidates.add(slot)
        else:
            self.candidates.discard(slot)
            if not self.candidates and self.most:
                return False  # the most held may now be fewer: count again
        if self.in_title is not None and self.side_by_side is not None:
            title = keys.get(1.0, set())
            in_title = slot in self.candidates and all(not title.isdisjoint(w) for w in self.words)
            side = in_title and all(not everything.isdisjoint(p) for p in self.pairs)
            (self.in_title.add if in_title else self.in_title.discard)(slot)
            (self.side_by_side.add if side else self.side_by_side.discard)(slot)
        return True


class SearchIndex:
    """An inverted index over courses and fairs, kept in step one document at a time.

    Each document keeps its slot for life; a changed document has its old postings taken
    out and its new ones put in (sorted arrays of slots, per kind, tier and key). Cached
    sets (a key's documents, a query's candidates and classes) are patched for the one
    document that changed, so no change costs more than its own keys and a few binary
    searches.
    """

    def __init__(self) -> None:
        self.docs: list[Doc] = []
        #: kind → id → slot
        self.slots: dict[str, dict[int, int]] = {}
        #: kind → tier (how much a match there counts) → token or "a|b" pair → sorted slots
        self.postings: dict[str, dict[float, dict[str, array]]] = {}
        #: token → how many documents hold it (the vocabulary, for near syllables)
        self.counts: dict[str, int] = {}
        self.watermark: tuple[dt.datetime | None, dt.datetime | None] = (None, None)
        #: documents whose postings were built or rebuilt (new or changed text) so far
        self.reindexed = 0
        self._ints: list[int] = []  # one int object per slot, shared by every cached set
        self._order: dict[str, _DayOrder] = {}
        self._bulk = False
        self._near: dict[str, list[str]] = {}
        self._cache: OrderedDict[tuple[Any, ...], _Union | _Plan] = OrderedDict()
        self._cached = 0  # slots held by the cached sets
        self._watch: dict[tuple[str, str], set[tuple[Any, ...]]] = {}  # (kind, key) → cache keys
        self._dates: dict[dt.date, dt.date] = {}  # one object per date, shared
        self._layouts: dict[tuple[float, ...], tuple[float, ...]] = {}  # the same, tiers

    @property
    def vocabulary(self) -> Iterable[str]:
        """Every token some document holds."""
        return self.counts.keys()

    # --- building ---------------------------------------------------------------------
    def bulk(self) -> None:
        """Before taking in many documents: drop the caches and sort by day once, in
        `ready`, rather than patch both for each document."""
        self._bulk = True
        self._forget()

    def ready(self) -> None:
        """After adding: finish a bulk load (the day order is sorted again)."""
        if not self._bulk:
            return
        self._bulk = False
        rows: dict[str, list[tuple[int, int, int]]] = {}
        for slot, doc in enumerate(self.docs):
            rows.setdefault(doc.kind, []).append((doc.day.toordinal(), doc.id, slot))
        self._order = {}
        for kind, live in rows.items():
            live.sort()
            order = self._order[kind] = _DayOrder()
            order.days = array("i", (d for d, _i, _s in live))
            order.ids = array("q", (i for _d, i, _s in live))
            order.slots = array("i", (s for _d, _i, s in live))

    def add(
        self,
        kind: str,
        ident: int,
        fields: list[tuple[float, str]],
        day: dt.date,
        closes: dt.date | None,
        status: str,
    ) -> bool:
        """Index a document, or bring it up to date: `fields` are (tier, text); a token is
        posted once, in its best tier. Returns whether anything search sees changed."""
        tiers: list[float] = []
        toks: list[tuple[str, ...]] = []
        for tier, field in sorted(fields, key=lambda f: -f[0]):
            if field_tokens := _tokens(field):
                tiers.append(tier)
                toks.append(field_tokens)
        layout = tuple(tiers)
        new = Doc(
            kind,
            ident,
            self._layouts.setdefault(layout, layout),
            tuple(toks),
            self._dates.setdefault(day, day),
            None if closes is None else self._dates.setdefault(closes, closes),
            sys.intern(status),
        )
        of_kind = self.slots.setdefault(kind, {})
        slot = of_kind.get(ident)
        old = None if slot is None else self.docs[slot]
        if old is not None and old == new:
            return False
        if slot is None:
            slot = of_kind[ident] = len(self.docs)
            self.docs.append(new)
            self._ints.append(slot)
        else:
            self.docs[slot] = new
        order = self._order.setdefault(kind, _DayOrder())
        if not self._bulk and (old is None or (old.day, old.id) != (new.day, new.id)):
            if old is not None:
                order.remove(old.day, old.id)
            order.insert(new.day, new.id, slot)
        if old is None or (old.tiers, old.tokens) != (new.tiers, new.tokens):
            self._repost(kind, slot, old, new)
        return True

    def _repost(self, kind: str, slot: int, old: Doc | None, new: Doc) -> None:
        """Move `slot`'s postings from the `old` document's keys to the `new` one's, and
        patch what was cached about any key that changed."""
        self.reindexed += 1
        was_keys, now_keys = (old.keys() if old else {}), new.keys()
        postings = self.postings.setdefault(kind, {})
        changed: set[str] = set()
        watching = bool(self._watch)
        for tier in TIERS:
            was, now = was_keys.get(tier, _NONE), now_keys.get(tier, _NONE)
            if not (was or now):
                continue
            of_tier = postings.setdefault(tier, {})
            for key in was - now:
                docs = of_tier[key]
                del docs[bisect.bisect_left(docs, slot)]
                if not docs:
                    del of_tier[key]
            for key in now - was if was else now:
                docs = of_tier.get(key)
                if docs is None:
                    of_tier[key] = array("i", (slot,))
                elif docs[-1] < slot:
                    docs.append(slot)
                else:
                    docs.insert(bisect.bisect_left(docs, slot), slot)
            if watching:
                changed |= was ^ now
        had = set().union(*old.tokens) if old else _NONE
        has = set().union(*new.tokens)
        counts = self.counts
        for token in had - has:
            counts[token] -= 1
            if not counts[token]:
                del counts[token]
                self._near_changed(token, gone=True)
        for token in has - had if had else has:
            if token in counts:
                counts[token] += 1
            else:
                counts[token] = 1
                self._near_changed(token, gone=False)
        entries = {e for key in changed for e in self._watch.get((kind, key), ())}
        if entries:
            everything = set().union(*now_keys.values())
            for entry in entries:
                if not self._cache[entry].patch(self._ints[slot], now_keys, everything):
                    self._drop(entry)

    def add_course(self, c: Course) -> bool:
        """Index a course (its base loaded), or bring it up to date; True if it changed."""
        aliases = [words for key, words in ALIASES.items() if key in c.track + c.title]
        fields = [(1.0, c.title), (0.8, c.track), (0.8, c.brand)]
        fields += [(0.8, a) for a in aliases]
        fields += [(0.5, c.base.name), (0.5, c.base.county), (0.5, c.certificate)]
        return self.add("course", c.id, fields, c.starts_on, c.signup_closes_on, c.status)

    def add_fair(self, f: JobFair) -> bool:
        """Index a job fair, or bring it up to date; True if it changed."""
        jobs = [
            f"{job.get('category', '')} {job.get('destination', '')}"
            for employer in f.employers
            for job in employer.get("jobs", [])
        ]
        names = [e.get("name", "") for e in f.employers]
        aliases = [words for key, words in ALIASES.items() if any(key in j for j in jobs)]
        fields = [(1.0, f.title), *((0.8, j) for j in jobs), *((0.8, a) for a in aliases)]
        fields += [(0.5, x) for x in (f.venue, f.county, f.organiser, *names)]
        return self.add("fair", f.id, fields, f.starts_at.date(), None, f.status)

    # --- caches -----------------------------------------------------------------------
    def _forget(self) -> None:
        self._cache.clear()
        self._watch.clear()
        self._near.clear()
        self._cached = 0

    def _remember(self, key: tuple[Any, ...], kind: str, entry: _Union | _Plan) -> None:
        self._cache[key] = entry
        self._cached += entry.size
        for k in entry.keys:
            self._watch.setdefault((kind, k), set()).add(key)
        budget = max(CACHE_BUDGET, CACHE_PER_DOC * len(self.docs))
        while self._cached > budget and len(self._cache) > 1:
            self._drop(next(iter(self._cache)))

    def _drop(self, key: tuple[Any, ...]) -> None:
        entry = self._cache.pop(key)
        self._cached -= entry.size
        kind = key[1]
        for k in entry.keys:
            watchers = self._watch[(kind, k)]
            watchers.discard(key)
            if not watchers:
                del self._watch[(kind, k)]

    def _near_changed(self, token: str, gone: bool) -> None:
        """Patch the remembered near syllables for a token that came or went."""
        if self._bulk:
            return
        for typed, near in self._near.items():
            if gone:
                if token in near:
                    near.remove(token)
            elif _near_miss(typed, token):
                bisect.insort(near, token)

    # --- searching --------------------------------------------------------------------
    def _variants(self, token: str) -> list[tuple[str, float]]:
        """The token, and the syllables one edit away when the token itself is rare
        (a typo: `sou` for `sao`); a common token is taken as meant."""
        if self.counts.get(token, 0) >= RARE:
            return [(token, 2.0)]
        near = self._near.get(token)
        if near is None:
            near = sorted(v for v in self.counts if _near_miss(token, v))
            if len(self._near) >= NEAR_CACHE:
                self._near.clear()
            self._near[token] = near
        return [(token, 2.0), *((v, 1.2) for v in near)]

    def _with(
        self, kind: str, keys: list[str], tiers: tuple[float, ...] = TIERS, keep: bool = True
    ) -> set[int]:
        """The documents of `kind` posting any of `keys` in any of `tiers` (cached unless
        not to `keep`, kept in step with changes; never to be changed by the caller)."""
        key = ("u", kind, tuple(keys), tiers)
        found = self._cache.get(key)
        if found is not None:
            self._cache.move_to_end(key)
            return found.docs  # type: ignore[union-attr]
        postings = self.postings.get(kind, {})
        ints = self._ints.__getitem__
        docs: set[int] = set()
        for t in tiers:
            of_tier = postings.get(t, {})
            for k in keys:
                if k in of_tier:
                    docs.update(map(ints, of_tier[k]))
        if keep:
            self._remember(key, kind, _Union(tuple(keys), tiers, docs))
        return docs

    def _plan(self, kind: str, variants: list[list[str]]) -> _Plan:
        """The query's candidates (cached, kept in step with changes)."""
        words = tuple(tuple(v) for v in variants)
        key = ("p", kind, words)
        plan = self._cache.get(key)
        if plan is not None:
            self._cache.move_to_end(key)
            return plan  # type: ignore[return-value]
        plan = _Plan(words)
        per_word = [self._with(kind, list(w), keep=False) for w in words]
        full = per_word[0].intersection(*per_word[1:])
        if full:
            plan.candidates, plan.most = full, len(words)
        else:
            counts: Counter[int] = Counter()
            for docs in per_word:
                counts.update(docs)
            plan.most = max(counts.values(), default=0)
            plan.candidates = {slot for slot, n in counts.items() if n == plan.most}
        plan.size = len(plan.candidates)
        self._remember(key, kind, plan)
        return plan

    def _classes(self, kind: str, plan: _Plan) -> tuple[set[int], set[int]]:
        """The plan's candidates with the words side by side in the title, and with every
        word in the title."""
        if plan.in_title is None or plan.side_by_side is None:
            words = plan.words
            in_title = set.intersection(
                *(self._with(kind, list(w), (1.0,), keep=False) for w in words)
            )
            side_by_side = in_title
            for left, right in itertools.pairwise(words):
                pairs = [f"{a}|{b}" for a in left for b in right]
                side_by_side = side_by_side & self._with(kind, pairs, keep=False)
            plan.side_by_side = side_by_side & plan.candidates
            plan.in_title = in_title & plan.candidates
            size = len(plan.candidates) + len(plan.in_title) + len(plan.side_by_side)
            if self._cache.get(("p", kind, words)) is plan:  # (not dropped meanwhile)
                self._cached += size - plan.size
            plan.size = size
        return plan.side_by_side, plan.in_title

    def search(self, query: str, kind: str, today: dt.date, limit: int = 5) -> list[int]:
        """The ids of the best `limit` open documents of `kind` for a typed query.

        Candidates are the documents holding every word (or a near miss of it); failing
        that, as many of the words as any document holds, if that is at least half. Few
        candidates are scored exactly; many are taken by class (the words side by side in
        the title, then all in the title, then anywhere), soonest first.
        """
        if self._bulk:
            self.ready()
        qtokens = tokens(query)[:12]
        if not qtokens:
            return []
        variants = [[v for v, _w in self._variants(t)] for t in qtokens]
        plan = self._plan(kind, variants)
        if plan.most * 2 < len(qtokens):
            return []
        candidates = plan.candidates
        if len(candidates) <= EXACT_UP_TO:
            return self._exact(kind, qtokens, variants, candidates, today, limit)
        side_by_side, in_title = self._classes(kind, plan)
        found: list[int] = []
        for group in (side_by_side, in_title, candidates):
            found += [i for i in self._soonest(kind, group, today, limit) if i not in found]
            if len(found) >= limit:
                break
        return found[:limit]

    def _soonest(self, kind: str, group: set[int], today: dt.date, limit: int) -> list[int]:
        """The ids of the first `limit` open documents of `group`, by (day, id)."""
        docs = self.docs
        if len(group) <= EXACT_UP_TO:
            ranked = sorted((docs[s].day, docs[s].id) for s in group if _open(docs[s], today))
            return [ident for _d, ident in ranked[:limit]]
        order = self._order[kind].slots
        out: list[int] = []
        for start in range(self._order[kind].start(today), len(order), 512):
            for slot in order[start : start + 512]:
                if slot in group and _open(doc := docs[slot], today):
                    out.append(doc.id)
                    if len(out) == limit:
                        return out
        return out

    def _exact(
        self,
        kind: str,
        qtokens: list[str],
        variants: list[list[str]],
        candidates: set[int],
        today: dt.date,
        limit: int,
    ) -> list[int]:
        """Score each candidate: per word its best match (exact 2, near 1.2) times the
        tier's weight; 1.5 times the tier's weight for each pair of words side by side."""
        sets = []
        for keys in variants:
            exact, near = keys[:1], keys[1:]
            sets.append(
                [(2.0 * t, self._with(kind, exact, (t,))) for t in TIERS]
                + [(1.2 * t, self._with(kind, near, (t,))) for t in TIERS if near]
            )
        pairs = [
            [
                (1.5 * t, self._with(kind, [f"{a}|{b}" for a in left[:4] for b in right[:4]], (t,)))
                for t in TIERS
            ]
            for left, right in itertools.pairwise(variants)
        ]
        text = " ".join(qtokens)
        docs = self.docs
        live = [slot for slot in candidates if _open(docs[slot], today)]
        # per word (then per pair): each live candidate's best weight, a column at a time
        of_live = set(live)
        words = [_best(options, live, of_live) for options in sets]
        score = list(map(sum, zip(*words, strict=True)))
        if pairs:  # added as one sum after the words' sum, as one candidate at a time would
            side = [_best(options, live, of_live) for options in pairs]
            score = list(map(add, score, map(sum, zip(*side, strict=True))))
        scored = [
            (-s, (d := docs[slot]).day, d.id, slot) for s, slot in zip(score, live, strict=True)
        ]
        scored.sort()
        top = [(s, d, i, self.docs[slot].text) for s, d, i, slot in scored[: limit * 4]]
        top.sort(key=lambda r: (r[0], -fuzz.partial_ratio(text, r[3]), r[1], r[2]))
        return [ident for _s, _d, ident, _t in top[:limit]]


def _best(options: list[tuple[float, set[int]]], live: list[int], of_live: set[int]) -> list[float]:
    """For each of `live` (`of_live` as a set), the heaviest weight among the (weight,
    documents) options that hold it, else 0.0: a column of floats, in the order of `live`."""
    best: dict[int, float] = {}
    for weight, docs in sorted(options, key=lambda o: o[0]):  # the heaviest written last
        best.update(dict.fromkeys(docs & of_live, weight))
    return list(map(best.get, live, itertools.repeat(0.0)))


def _near_miss(typed: str, token: str) -> bool:
    """Whether `token` is one edit from `typed` (a typed token of at least 3 letters)."""
    return (
        len(typed) >= 3
        and token != typed
        and abs(len(token) - len(typed)) <= 1
        and Levenshtein.distance(token, typed, score_cutoff=1) <= 1
    )


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
        """This database's index (built on first use), brought up to date."""
        engine = self.session.bind.sync_engine if self.session.bind else None  # type: ignore[union-attr]
        index = _indexes.get(engine)
        if index is None:
            index = _indexes[engine] = SearchIndex()
        return await self.catch_up(index)

    async def catch_up(self, index: SearchIndex) -> SearchIndex:
        """Re-index what changed since `index.watermark` (the newest `updated_at` of
        courses and of fairs it has seen): one query when nothing did."""
        newest = tuple(
            (
                await self.session.execute(
                    select(
                        select(func.max(Course.updated_at)).scalar_subquery(),
                        select(func.max(JobFair.updated_at)).scalar_subquery(),
                    )
                )
            ).one()
        )
        since_c, since_f = index.watermark
        if newest[0] != since_c:  # only the kind that changed is read again
            courses = select(Course).options(selectinload(Course.base))
            if since_c is not None:
                courses = courses.where(Course.updated_at >= since_c)
            changed = (await self.session.scalars(courses)).all()
            if len(changed) > BULK:
                index.bulk()
            for course in changed:
                index.add_course(course)
            del changed
        if newest[1] != since_f:
            fairs = select(JobFair)
            if since_f is not None:
                fairs = fairs.where(JobFair.updated_at >= since_f)
            changed_fairs = (await self.session.scalars(fairs)).all()
            if len(changed_fairs) > BULK:
                index.bulk()
            for fair in changed_fairs:
                index.add_fair(fair)
        index.watermark = newest  # type: ignore[assignment]
        index.ready()
        return index

    async def courses(self, query: str, today: dt.date, limit: int = 5) -> list[int]:
        """The ids of the best `limit` open courses for a typed query."""
        return (await self.index()).search(query, "course", today, limit)

    async def fairs(self, query: str, today: dt.date, limit: int = 5) -> list[int]:
        """The ids of the best `limit` open job fairs for a typed query."""
        return (await self.index()).search(query, "fair", today, limit)
