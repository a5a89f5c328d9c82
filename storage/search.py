"""Fuzzy search over courses and job fairs: typos, pinyin and both scripts.

Every text is read as a row of tokens: a Chinese character becomes its pinyin syllable
(護 and 护 both become `hu`), a run of Latin letters is split into pinyin syllables when
it is pinyin (`yuesao`, `yue sao`, `yuè sǎo`, `yue4 sao3` → `yue sao`) and kept as a word
otherwise (`nanny`). An inverted index maps each token, and each pair of neighbouring
tokens, to the documents holding it. A query token also matches the syllables one edit
away. Documents are scored by the tokens and pairs they share with the query; rapidfuzz
breaks ties on the whole text.

A query is read before it is searched (`understand`, issue 9): people type whole
sentences, and WeChat voice input arrives as sentences. A phrase that names a kind of
work, a county or city, or a fact (free, lodging) in any of the fixed vocabularies' words
(storage/vocab.py: names, typed synonyms, English labels; either script or pinyin, a
typo or a near sound allowed: `yuesoa`, `月艘`, `家務助理`) becomes a tag; documents post
the same tags, derived from their data (a course's track, base county, fee and free
groups, lodging; a fair's job categories, county, destinations, live-in jobs). A kind of
work or a fact is a word of the query; a place filters (every result is in one of the
places named). Words that carry no meaning for search (想, 学, 有没有, 怎么, 培训, `I want
to`) are dropped unless nothing else was typed; money words (元, `yuan`) always are.

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
from rapidfuzz.distance import OSA, Levenshtein
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from storage.models import Course, JobFair
from storage.vocab import CITIES, COUNTIES, KINDS_OF_WORK, Vocabulary

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
    return tuple(s for unit in _units(text) for s in unit.syllables)


@dataclass(frozen=True, slots=True)
class _Unit:
    """A Chinese character, or a run of Latin letters and digits, and its tokens."""

    text: str
    latin: bool
    syllables: tuple[str, ...]


def _units(text: str) -> list[_Unit]:
    out: list[_Unit] = []
    word: list[str] = []

    def flush() -> None:
        if word:
            w = "".join(word)
            letters = re.sub(r"\d", "", w)
            split = _split_pinyin(letters) if letters and letters.isalpha() else None
            if w:
                out.append(_Unit(w, True, tuple(split) if split else (w,)))
            word.clear()

    for ch in unicodedata.normalize("NFKC", text).lower():
        if "\u4e00" <= ch <= "\u9fff" or "\u3400" <= ch <= "\u4dbf":
            flush()
            if syllable := _char_pinyin(ch):
                out.append(_Unit(ch, False, (syllable,)))
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
    return out


# --- what a query means -----------------------------------------------------------------
# A query is read against the fixed vocabularies (storage/vocab.py) before the index: a
# phrase naming a kind of work (any of its names, typed words or label parts, in either
# script or pinyin, one typo allowed) becomes that kind's tag; a county or city becomes a
# place the results must be in; "free" and "lodging" become the tags of those facts; words
# that say nothing about what is wanted (想, 学, 有没有, 培训 when everything is training)
# are dropped. Documents post the same tags (`_course_tags`, `_fair_tags`). Issue 9.

KIND, PLACE, FACT, COMBO = "#k:", "#p:", "#f:", "#j:"  # tag prefixes (never typed: `#` splits)
FREE, LODGING = FACT + "free", FACT + "lodging"

#: a course is free when its fee is 0 or it is free for some groups (巾帼家政, domain.md);
#: it lodges when its card says so; a fair's job lodges when it is live-in (包吃住)
FACT_WORDS = {
    FREE: (
        *"免费 免費 免学费 免學費 不要钱 不要錢 不用钱 不用錢 不收费 不收費 唔使钱 唔使錢".split(),
        *"唔洗钱 唔洗錢 唔收钱 唔收錢 零学费 零學費 mianfei free".split(),
        "free of charge",
        "no fee",
        "no cost",
    ),
    LODGING: (
        *"住宿 有住宿 包住 包住宿 包吃住 包食宿 包食住 食宿 有得住 zhusu baozhu".split(),
        *"lodging accommodation dorm dormitory".split(),
        "room and board",
        "board and lodging",
    ),
}
#: the sector's own word, in every title (好心家政, 巾帼家政): no kind of work on its own
GENERIC = frozenset({"家政"})
#: words that carry no meaning for search (Mandarin and Cantonese, both scripts): dropped;
#: of them, those that describe everything (培训 when everything is training, 招聘会 when
#: every fair is one: `GENERAL`) are searched as typed when nothing else is left
STOP_ZH = frozenset(
    (
        "有没有 有沒有 有冇 有无 有無 怎么 怎麼 怎样 怎樣 如何 点样 點樣 培训 培訓 课程 課程 "
        "课 課 班 报名 報名 哪里 哪裡 哪裏 哪儿 哪兒 哪 边度 邊度 边 邊 什么 什麼 乜嘢 咩 "
        "多少 幾多 几多 工作 搵工 工 招聘会 招聘會 招聘 学习 學習 请问 請問 可以 需要 想要 "
        "一下 这个 這個 那个 那個 附近 资讯 資訊 信息 岗位 崗位 职位 職位 机会 機會 介绍 介紹 "
        "推荐 推薦 有关 有關 相关 相關 我 我们 我們 你 想 要 学 學 做 当 當 的 嘅 在 喺 去 "
        "找 搵 有 是 係 吗 嗎 呢 啊 吧 了 啦 呀 个 個 一 些 和 与 與 或 也 都 能 会 會 可 让 讓 "
        "给 給 帮 幫 请 請 问 問 里 裡 裏 啲 冇 唔 同 及 工资 工資 人工 薪水 待遇 条件 條件 要求"
    ).split()
)
#: pinyin typed for the same words: the stop words of two or more characters, and these
STOP_PINYIN_ONE = frozenset(
    "wo xiang yao xue zuo de zai qu zhao you ma ne ba le ge dang ni".split()
)
STOP_EN = frozenset(
    (
        "i im me my we our you want wanna would like to learn learning study be become a an "
        "the course courses class classes lesson lessons training trainings train program "
        "programme programs job jobs work working in at for with near nearby around how do "
        "does can could find looking look search there any anything is are of and or where "
        "what which some need please about on get sign up signup register fair fairs show "
        "tell it this that as from"
    ).split()
)
GENERAL = frozenset(
    (
        "培训 培訓 课程 課程 课 課 班 工作 招聘会 招聘會 招聘 training trainings course courses "
        "class classes job jobs work fair fairs"
    ).split()
)
#: money words: never a search word (`2000元`, `yuan` must not find every 员 by its sound)
NOISE_ZH = frozenset("元 块 塊 钱 錢 蚊".split())
NOISE_EN = frozenset("yuan kuai rmb cny hkd".split())


@dataclass(frozen=True, slots=True)
class Query:
    """What a typed query asks for (`understand`).

    `words`: each a tag (a kind of work or a fact) or a literal token, in the query's
    order, at most 12; `places`: place tags, one of which each result must hold;
    `combos`: (kind, place) tags a fair's job holds when both are asked for together;
    `text`: the tokens that said something, for breaking ties on the whole text.
    """

    words: tuple[str, ...]
    places: tuple[str, ...]
    combos: tuple[str, ...]
    text: str


@dataclass(frozen=True, slots=True)
class _Lexicon:
    #: token tuple → tag
    phrases: dict[tuple[str, ...], str]
    #: the longest phrase, in tokens
    longest: int
    #: (length, position, the phrase's tokens with that position blanked) → phrases
    blanked: dict[tuple[int, int, tuple[str, ...]], list[tuple[str, ...]]]
    #: a phrase's tokens written as one word (`yuesao`, `maternity`) → its tokens
    spellings: dict[str, tuple[str, ...]]
    stop_pinyin: frozenset[tuple[str, ...]]
    general_pinyin: frozenset[tuple[str, ...]]


def _phrases(term_words: Iterable[str]) -> Iterable[tuple[str, ...]]:
    for words in term_words:
        for part in re.split(r"[/／()（）|]", words):
            if (toks := _tokens(part)) and part.strip() not in GENERIC:
                yield toks


@cache
def _lexicon() -> _Lexicon:
    phrases: dict[tuple[str, ...], str] = {}
    vocabularies: list[tuple[Vocabulary, str]] = [
        (KINDS_OF_WORK, KIND),
        (COUNTIES, PLACE),
        (CITIES, PLACE),
    ]
    for vocabulary, prefix in vocabularies:
        for term in vocabulary:
            for toks in _phrases((*term.names, *term.typed, term.label, term.id)):
                phrases.setdefault(toks, prefix + term.id)
    for tag, words in FACT_WORDS.items():
        for toks in _phrases(words):
            phrases.setdefault(toks, tag)
    syllables = _syllables()
    # one pinyin syllable alone names nothing (too many characters share it): `cook` may
    phrases = {p: t for p, t in phrases.items() if len(p) > 1 or p[0] not in syllables}
    blanked: dict[tuple[int, int, tuple[str, ...]], list[tuple[str, ...]]] = {}
    for p in phrases:
        if len(p) > 1:
            for i in range(len(p)):
                blanked.setdefault((len(p), i, (*p[:i], "", *p[i + 1 :])), []).append(p)
    spellings = {"".join(p): p for p in phrases if len("".join(p)) >= 4}
    stop_pinyin = {_tokens(w) for w in STOP_ZH if len(w) > 1}
    stop_pinyin |= {(w,) for w in STOP_PINYIN_ONE}
    general = frozenset(_tokens(w) for w in GENERAL if not w.isascii())
    stop_pinyin |= general
    return _Lexicon(
        phrases, max(map(len, phrases)), blanked, spellings, frozenset(stop_pinyin), general
    )


def _respelled(unit: _Unit, lex: _Lexicon) -> tuple[str, ...] | None:
    """The phrase a Latin word is one typo from, written as one word (`yuesoa`, `nany`,
    `matenity`: a letter swapped, missing, extra or wrong; two in words of 8 or more),
    when only one kind of thing is that near; else None."""
    word = unit.text
    if (
        not unit.latin
        or len(word) < 4
        or word in lex.spellings
        or word in STOP_EN
        or word in NOISE_EN
        or not word.isalpha()
    ):
        return None
    most = 1 if len(word) < 8 else 2
    best: list[tuple[int, str]] = []
    for spelling in lex.spellings:
        if abs(len(spelling) - len(word)) <= most:
            d = OSA.distance(word, spelling, score_cutoff=most)
            if d <= most:
                best.append((d, spelling))
    if not best:
        return None
    best.sort()
    tags = {lex.phrases[lex.spellings[s]] for d, s in best if d == best[0][0]}
    return lex.spellings[best[0][1]] if len(tags) == 1 else None


def _initial(syllable: str) -> str:
    return syllable[:2] if syllable[:2] in ("zh", "ch", "sh") else syllable[:1]


def _near_syllable(typed: str, meant: str) -> bool:
    """Whether a typed syllable may stand for `meant`: the same initial and a final one
    letter apart (in for ing, a front or back nasal), or of the same length sharing a
    letter (艘 sou for 嫂 sao); or one letter apart in all, the first kept (z for zh).
    How pinyin input and voice input slip; a wrong initial is another word, and so is a
    final of another length (理 li is not 老 lao)."""
    if typed == meant or not typed.isalpha():
        return False
    start = _initial(meant)
    if start and _initial(typed) == start:
        was, now = meant[len(start) :], typed[len(start) :]
        apart = Levenshtein.distance(was, now, score_cutoff=2)
        return apart <= 1 or (
            len(was) == len(now) >= 2 and apart == 2 and bool(set(was) & set(now))
        )
    return typed[:1] == meant[:1] and _near_miss(typed, meant)


def _match(
    syls: list[str], i: int, lex: _Lexicon, free: list[bool], near: bool
) -> tuple[int, str] | None:
    """The longest phrase starting at `syls[i]` over syllables still `free`: (its
    length, its tag), or None. Exact; or when `near`, of two or more syllables with
    one of them near (`_near_syllable`: `月艘` is `yue sou`, read as `yue sao`)."""
    room = 0
    while i + room < len(syls) and free[i + room] and room < lex.longest:
        room += 1
    if not near:
        for size in range(room, 0, -1):
            if tag := lex.phrases.get(tuple(syls[i : i + size])):
                return size, tag
        return None
    for size in range(room, 1, -1):
        window = tuple(syls[i : i + size])
        for j in range(size):
            for phrase in lex.blanked.get((size, j, (*window[:j], "", *window[j + 1 :])), ()):
                if _near_syllable(window[j], phrase[j]):
                    return size, lex.phrases[phrase]
    return None


@lru_cache(maxsize=4096)
def understand(query: str) -> Query:
    """Read a typed query (see the comment above `KIND`): its tags, places and words.

    In turn: exact phrases are found, longest first; a Latin word left that is one typo
    from a phrase is read as it; then stop words and money words; then phrases with one
    near syllable among what is left (so a near match never eats a stop word: 想当 is
    not 香港, 點樣報名 not 养老)."""
    lex = _lexicon()
    syls: list[str] = []
    chars: list[str | None] = []  # the character typed, or None for Latin
    unit_of: list[int] = []
    units = _units(query)
    for n, unit in enumerate(units):
        syls += unit.syllables
        chars += [None if unit.latin else unit.text] * len(unit.syllables)
        unit_of += [n] * len(unit.syllables)
    size = len(syls)
    role: list[str] = [""] * size  # a tag, "stop", "general", "noise", "" (a literal word)
    starts: dict[int, str] = {}
    said: dict[int, str] = {}  # a respelled word's phrase, at its first syllable

    def phrases(near: bool) -> None:
        i = 0
        while i < size:
            found = None if role[i] else _match(syls, i, lex, [not r for r in role], near)
            if found:
                length, tag = found
                starts[i] = tag
                role[i : i + length] = [tag] * length
                i += length
            else:
                i += 1

    phrases(near=False)
    for n, unit in enumerate(units):  # whole Latin words: typos, English stop words, money
        if unit.latin:
            at = [k for k in range(size) if unit_of[k] == n]
            if at and all(not role[k] for k in at) and (respelled := _respelled(unit, lex)):
                tag = starts[at[0]] = lex.phrases[respelled]
                said[at[0]] = " ".join(respelled)
                for k in at:
                    role[k] = tag
            elif at and all(not role[k] for k in at):
                kind = (
                    "noise"
                    if unit.text in NOISE_EN
                    else ("general" if unit.text in GENERAL else "stop")
                    if unit.text in STOP_EN
                    else ""
                )
                for k in at:
                    role[k] = kind
    i = 0
    while i < size:
        step = 1
        if not role[i] and chars[i] in NOISE_ZH:
            role[i] = "noise"
        elif not role[i]:
            for length in range(min(4, size - i), 0, -1):
                span = range(i, i + length)
                if any(role[k] for k in span):
                    continue
                typed = [chars[k] for k in span]
                if (
                    (all(typed) and "".join(typed) in STOP_ZH)
                    or (  # type: ignore[arg-type]
                        not any(typed) and tuple(syls[i : i + length]) in lex.stop_pinyin
                    )
                ):
                    general = (
                        "".join(typed) in GENERAL  # type: ignore[arg-type]
                        if all(typed)
                        else tuple(syls[i : i + length]) in lex.general_pinyin
                    )
                    kind = "general" if general else "stop"
                    role[i : i + length] = [kind] * length
                    step = length
                    break
        i += step
    phrases(near=True)
    meaningful = any(r not in ("stop", "general", "noise") for r in role)
    words: list[str] = []
    places: list[str] = []
    kinds: list[str] = []
    text: list[str] = []
    for k in range(size):
        r = role[k]
        if r in ("noise", "stop") or (r == "general" and meaningful):
            continue
        if k in said or not any(j < k and unit_of[j] == unit_of[k] for j in said):
            text.append(said.get(k, syls[k]))
        if r in ("", "general"):
            words.append(syls[k])
        elif k in starts:
            if r.startswith(PLACE):
                if r not in places:
                    places.append(r)
            elif r not in words:
                words.append(r)
                if r.startswith(KIND):
                    kinds.append(r)
    combos = tuple(
        COMBO + k.removeprefix(KIND) + "@" + p.removeprefix(PLACE) for k in kinds for p in places
    )
    return Query(tuple(words[:12]), tuple(places), combos, " ".join(text))


def _tags_in(text: str, prefix: str) -> set[str]:
    """The tags of `prefix` whose phrases a document's text holds, exactly."""
    found, syls, i = set(), list(_tokens(text)), 0
    phrases, longest = _lexicon().phrases, _lexicon().longest
    while i < len(syls):
        for size in range(min(longest, len(syls) - i), 0, -1):
            tag = phrases.get(tuple(syls[i : i + size]))
            if tag:
                if tag.startswith(prefix):
                    found.add(tag)
                i += size
                break
        else:
            i += 1
    return found


@lru_cache(maxsize=4096)
def _kinds_of(name: str, scan: bool) -> frozenset[str]:
    """The kinds of work a track or job category names (`Vocabulary.of_name`, else the
    phrases it holds when `scan`)."""
    term = KINDS_OF_WORK.of_name(name)
    if term is not None:
        return frozenset({KIND + term.id})
    return frozenset(_tags_in(name, KIND)) if scan else frozenset()


@lru_cache(maxsize=4096)
def _places_of(name: str) -> frozenset[str]:
    """The place tags of a county or city name: the county (and Maoming, its city), or
    the city; else the places its text names (`茂名市茂南区...`)."""
    county = COUNTIES.of_name(name)
    if county is not None:
        return frozenset({PLACE + county.id, PLACE + "maoming"})
    city = CITIES.of_name(name)
    if city is not None:
        return frozenset({PLACE + city.id})
    found = _tags_in(name, PLACE)
    if any(COUNTIES.get(t.removeprefix(PLACE)) for t in found):
        found.add(PLACE + "maoming")
    return frozenset(found)


def _course_tags(c: Course) -> list[tuple[float, str]]:
    """A course's tags, each with its tier: its kind of work (its track; a kind its title
    names ranks below), its training base's county, free, lodging."""
    kinds = _kinds_of(c.track, True)
    tags = [(1.0, k) for k in sorted(kinds)]
    tags += [(0.8, k) for k in sorted(_kinds_of(c.title, True) - kinds)]
    tags += [(0.5, p) for p in sorted(_places_of(c.base.county) or _places_of(c.base.name))]
    if c.fee_fen == 0 or c.free_for:
        tags.append((0.8, FREE))
    if c.lodging:
        tags.append((0.8, LODGING))
    return tags


def _fair_tags(f: JobFair) -> list[tuple[float, str]]:
    """A fair's tags: the kinds of its jobs, its county, where its jobs are, lodging
    (a live-in job), and each job's (kind, where) pair."""
    tags: set[tuple[float, str]] = {(0.8, k) for k in _kinds_of(f.title, True)}
    tags |= {(0.5, p) for p in _places_of(f.county)}
    for employer in f.employers:
        for job in employer.get("jobs", []):
            kinds = _kinds_of(str(job.get("category", "")), True)
            places = _places_of(str(job.get("destination", "")))
            tags |= {(1.0, k) for k in kinds} | {(0.5, p) for p in places}
            tags |= {
                (1.0, COMBO + k.removeprefix(KIND) + "@" + p.removeprefix(PLACE))
                for k in kinds
                for p in places
            }
            if job.get("live_in"):
                tags.add((0.8, LODGING))
    return sorted(tags)


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
        return " ".join(t for toks in self.tokens for t in toks if t[0] != "#")

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

    Only documents holding one of the `required` keys (a place asked for) are counted.
    `candidates` are those holding every word (`most` is then the number of words), or
    when none does, those holding the most words (`most` of them). `side_by_side` and
    `in_title` are the candidates with the words side by side in the title, and with every
    word in the title (None until first wanted).
    """

    __slots__ = (
        "candidates",
        "in_title",
        "keys",
        "most",
        "pairs",
        "required",
        "side_by_side",
        "size",
        "words",
    )

    def __init__(self, words: tuple[tuple[str, ...], ...], required: tuple[str, ...]) -> None:
        self.words = words
        self.required = frozenset(required)
        self.pairs = _pairs(words)
        self.keys = tuple(
            {k for w in words for k in w} | {k for p in self.pairs for k in p} | self.required
        )
        self.candidates: set[int] = set()
        self.most = 0
        self.side_by_side: set[int] | None = None
        self.in_title: set[int] | None = None
        self.size = 0

    def patch(self, slot: int, keys: Keys, everything: set[str]) -> bool:
        """Bring `slot`'s membership in step with its keys now; False: drop this entry."""
        inside = not self.required or not everything.isdisjoint(self.required)
        count = sum(not everything.isdisjoint(w) for w in self.words) if inside else -1
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


def _pairs(words: tuple[tuple[str, ...], ...], most: int | None = None) -> list[set[str]]:
    """The "a|b" keys of each two neighbouring literal words (tags make no pairs), with
    at most `most` variants of each."""
    return [
        {f"{a}|{b}" for a in left[:most] for b in right[:most]}
        for left, right in itertools.pairwise(words)
        if left[0][0] != "#" and right[0][0] != "#"
    ]


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
        tags: Iterable[tuple[float, str]] = (),
    ) -> bool:
        """Index a document, or bring it up to date: `fields` are (tier, text), `tags`
        (tier, tag) (`_course_tags`); a token or tag is posted once, in its best tier.
        Returns whether anything search sees changed."""
        tiers: list[float] = []
        toks: list[tuple[str, ...]] = []
        rows = [(tier, _tokens(field)) for tier, field in fields]
        rows += [(tier, (tag,)) for tier, tag in tags]
        for tier, field_tokens in sorted(rows, key=lambda f: -f[0]):
            if field_tokens:
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
        had = {t for t in set().union(*old.tokens) if t[0] != "#"} if old else _NONE
        has = {t for t in set().union(*new.tokens) if t[0] != "#"}
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
        fields = [(1.0, c.title), (0.8, c.track), (0.8, c.brand)]
        fields += [(0.5, c.base.name), (0.5, c.base.county), (0.5, c.certificate)]
        return self.add(
            "course", c.id, fields, c.starts_on, c.signup_closes_on, c.status, _course_tags(c)
        )

    def add_fair(self, f: JobFair) -> bool:
        """Index a job fair, or bring it up to date; True if it changed."""
        jobs = [
            f"{job.get('category', '')} {job.get('destination', '')}"
            for employer in f.employers
            for job in employer.get("jobs", [])
        ]
        names = [e.get("name", "") for e in f.employers]
        fields = [(1.0, f.title), *((0.8, j) for j in jobs)]
        fields += [(0.5, x) for x in (f.venue, f.county, f.organiser, *names)]
        return self.add("fair", f.id, fields, f.starts_at.date(), None, f.status, _fair_tags(f))

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

    def _plan(self, kind: str, variants: list[list[str]], required: tuple[str, ...]) -> _Plan:
        """The query's candidates among the documents holding one of `required` (when
        any), cached, kept in step with changes."""
        words = tuple(tuple(v) for v in variants)
        key = ("p", kind, words, required)
        plan = self._cache.get(key)
        if plan is not None:
            self._cache.move_to_end(key)
            return plan  # type: ignore[return-value]
        plan = _Plan(words, required)
        inside = self._with(kind, list(required)) if required else None
        per_word = [self._with(kind, list(w), keep=False) for w in words]
        if inside is not None:
            per_word = [docs & inside for docs in per_word]
        full = per_word[0].intersection(*per_word[1:]) if per_word else set(inside or ())
        if full or not per_word:
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

    def _classes(
        self, kind: str, plan: _Plan, required: tuple[str, ...]
    ) -> tuple[set[int], set[int]]:
        """The plan's candidates with the words side by side in the title, and with every
        word in the title."""
        if plan.in_title is None or plan.side_by_side is None:
            words = plan.words
            in_title = plan.candidates.intersection(
                *(self._with(kind, list(w), (1.0,), keep=False) for w in words)
            )
            side_by_side = in_title
            for pairs in plan.pairs:
                side_by_side = side_by_side & self._with(kind, sorted(pairs), keep=False)
            plan.side_by_side = side_by_side & plan.candidates
            plan.in_title = in_title & plan.candidates
            size = len(plan.candidates) + len(plan.in_title) + len(plan.side_by_side)
            if self._cache.get(("p", kind, words, required)) is plan:  # (not dropped meanwhile)
                self._cached += size - plan.size
            plan.size = size
        return plan.side_by_side, plan.in_title

    def search(self, query: str, kind: str, today: dt.date, limit: int = 5) -> list[int]:
        """The ids of the best `limit` open documents of `kind` for a typed query.

        The query is read first (`understand`): a kind of work, a fact or a typed token is
        a word (left out when no document holds it); a place filters. Candidates are the
        documents in one of the places asked for (if any) holding every word (a token: or
        a near miss of it); failing that, as many of the words as any document holds, if
        that is at least half. Few candidates
        are scored exactly; many are taken by class (the words side by side in the title,
        then all in the title, then anywhere), soonest first.
        """
        if self._bulk:
            self.ready()
        query_ = understand(query)
        if not query_.words and not query_.places:
            return []
        variants = [
            [w] if w[0] == "#" else [v for v, _w in self._variants(w)] for w in query_.words
        ]
        # a word no document of this kind holds cannot tell documents apart: left out, it
        # does not veto the words that do (`我想学月嫂要什么条件`)
        variants = [keys for keys in variants if self._with(kind, keys)]
        if not variants and not query_.places:
            return []
        plan = self._plan(kind, variants, query_.places)
        if plan.most * 2 < len(variants):
            return []
        candidates = plan.candidates
        if len(candidates) <= EXACT_UP_TO:
            return self._exact(kind, query_, variants, candidates, today, limit)
        side_by_side, in_title = self._classes(kind, plan, query_.places)
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
        query: Query,
        variants: list[list[str]],
        candidates: set[int],
        today: dt.date,
        limit: int,
    ) -> list[int]:
        """Score each candidate: per word its best match times the tier's weight (a kind
        of work 3, a fact 2; a token exact 2, near 1.2); 1.5 times the tier's weight for
        each pair of tokens side by side; 1 when a fair has a job of the kind asked for
        where asked for. Ties: the closer whole text, then the sooner."""
        sets = []
        for keys in variants:
            exact, near = keys[:1], keys[1:]
            weight = 3.0 if exact[0].startswith(KIND) else 2.0
            sets.append(
                [(weight * t, self._with(kind, exact, (t,))) for t in TIERS]
                + [(1.2 * t, self._with(kind, near, (t,))) for t in TIERS if near]
            )
        words = tuple(tuple(v) for v in variants)
        pairs = [
            [(1.5 * t, self._with(kind, sorted(keys), (t,))) for t in TIERS]
            for keys in _pairs(words, 4)
        ]
        if query.combos:
            pairs.append([(1.0, self._with(kind, list(query.combos), (1.0,)))])
        docs = self.docs
        live = [slot for slot in candidates if _open(docs[slot], today)]
        # per word (then per pair): each live candidate's best weight, a column at a time
        of_live = set(live)
        columns = [_best(options, live, of_live) for options in sets]
        score = list(map(sum, zip(*columns, strict=True))) if columns else [0.0] * len(live)
        if pairs:  # added as one sum after the words' sum, as one candidate at a time would
            side = [_best(options, live, of_live) for options in pairs]
            score = list(map(add, score, map(sum, zip(*side, strict=True))))
        scored = [
            (-s, (d := docs[slot]).day, d.id, slot) for s, slot in zip(score, live, strict=True)
        ]
        scored.sort()
        top = [(s, d, i, self.docs[slot].text) for s, d, i, slot in scored[: limit * 4]]
        top.sort(key=lambda r: (r[0], -fuzz.partial_ratio(query.text, r[3]), r[1], r[2]))
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
