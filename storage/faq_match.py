"""Which question of the catalogue a typed text asks (issue 13).

A text is read the way search reads one (`storage.search`): Traditional characters are
made Simplified (OpenCC `hk2s`), common Cantonese words become their Mandarin ones
(`使唔使` → `要不要`, `幾多` → `多少`), each Chinese character becomes its pinyin syllable
(`钱`, `錢` and typed `qian` are one token), Latin runs that are pinyin are split into
syllables (`peixunyaoqianma`), and English words are stemmed and folded to a few
shared words (`cost`, `fee`, `pay` → `money`). Its features are the syllables, the pairs
of neighbouring syllables, and the English words.

Each entry is scored by TF-IDF cosine: against each of its questions (the best one)
and against all its questions together, half each. A feature of the text that no
question holds is looked up among the near ones: a syllable pair one slip away
(`月搜` `yue sou` for `月嫂` `yue sao`, `storage.search._near_syllable`), an English word
or a pinyin syllable one or two letters off (rapidfuzz), counted at `NEAR_WEIGHT`.

`Match.confident` when the best score is at least `CONFIDENT`, ahead of the second by
`MARGIN` and the second at most `SECOND_AT_MOST` of it (unless the text is nearly one
of its questions, `SAID_SO`); `Match.weak` (show the top three) from `WEAK`. The
thresholds were set on the dev half of `bench/faq_labelled.yaml` and are measured on
both halves by `bench/faq.py`.
"""

from __future__ import annotations

import itertools
import math
import re
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

from rapidfuzz import process
from rapidfuzz.distance import OSA

from storage.faq import Catalogue, Entry
from storage.search import _char_pinyin, _near_syllable, _split_pinyin

#: the best score that answers at once, how far ahead of the second it must be, and the
#: most the second may score against it (a single word near several questions is not
#: confident: `证书` fits five)
CONFIDENT = 0.42
MARGIN = 0.06
SECOND_AT_MOST = 0.8
#: ...unless the text is nearly one of the best entry's own questions (cosine)
SAID_SO = 0.8
#: the best score that offers the top three
WEAK = 0.22
#: what an entry about another kind of work than the one asked about scores, of its own
OTHER_KIND = 0.75
#: what an entry written for the other side (a job seeker's, to a household) scores
OTHER_SIDE = 0.75
#: what a near feature counts, against an exact one
NEAR_WEIGHT = 0.7
#: how much the nearest single question counts against all the entry's questions together
MIX = 0.5
#: the longest text read (characters): a question is a sentence or two
MAX_TEXT = 300

# Cantonese words and their Mandarin ones (after `hk2s`): longest first when applied
_CANTONESE = {
    "使唔使": "要不要",
    "要唔要": "要不要",
    "可唔可以": "可不可以",
    "有冇": "有没有",
    "系唔系": "是不是",
    "系咪": "是不是",
    "系唔": "是不",
    "几多钱": "多少钱",
    "几钱": "多少钱",
    "几多": "多少",
    "点样": "怎么",
    "点算": "怎么办",
    "点解": "为什么",
    "做乜": "为什么",
    "乜嘢": "什么",
    "咩嘢": "什么",
    "边度": "哪里",
    "边个": "谁",
    "边间": "哪个",
    "边啲": "哪些",
    "几时": "什么时候",
    "揾工": "找工作",
    "搵工": "找工作",
    "揾": "找",
    "搵": "找",
    "返工": "上班",
    "人工": "工资",
    "人工几多": "工资多少",
    "冇": "没有",
    "唔": "不",
    "系": "是",
    "嘅": "的",
    "喺": "在",
    "咩": "什么",
    "佢哋": "他们",
    "佢": "她",
    "俾": "给",
    "畀": "给",
    "啲": "些",
    "嘢": "东西",
    "睇": "看",
    "同埋": "和",
    "咗": "了",
    "紧": "着",
    "攞": "拿",
    "琴日": "昨天",
    "听日": "明天",
    "今日": "今天",
    "屋企": "家里",
    "宿位": "宿舍",
    "靓": "好",
    "细路": "孩子",
    "BB": "宝宝",
    "bb": "宝宝",
}
_CANTONESE_RE = re.compile("|".join(sorted(map(re.escape, _CANTONESE), key=len, reverse=True)))

# words of this programme said in several ways (Simplified, after the Cantonese ones):
# each is read as the first of its group
_SAME = (
    "钱 学费 培训费 费用 收费 交钱 付钱 花钱 给钱 收钱 要钱",
    "工资 薪水 薪资 收入 月薪 待遇 赚钱 挣钱 赚 挣",
    "住宿 宿舍 住的地方 地方住 地方睡 睡觉 瞓",
    "孩子 小孩 小朋友 娃娃 带娃 湊仔 仔女 子女",
    "取消 退掉 退出 退课 不去了 不上了 不读了",
    "课程 培训班 学习班 课",
    "招聘会 招工会 双选会 招聘活动",
    "多久 多长时间 多少天 几天 多长 多少日",
    "保姆 家政员 家务助理 住家阿姨 住家工人 工人姐姐 菲佣",
    "电话 手机号 号码 联系方式",
    "删除 删掉 删了 清除",
    "月嫂 母婴护理",
    "证书 证件 资格证",
)
_SAME_WORDS = {w: group.split()[0] for group in _SAME for w in group.split()}
_SAME_RE = re.compile("|".join(sorted(map(re.escape, _SAME_WORDS), key=len, reverse=True)))
#: what carries no meaning in a question: particles, and who is asking
_DROPPED = frozenset("吗呢啊呀吧嘛哦啦咯喔的了么我你您们请问一下")
#: the same typed in pinyin (only the syllables that are nearly always these words)
_DROPPED_PINYIN = frozenset("ma ne wo ni nin le de ya la o".split())


@lru_cache(maxsize=1)
def _same_syllables() -> tuple[dict[tuple[str, ...], tuple[str, ...]], int]:
    """`_SAME` as syllables (so typed pinyin is read the same way), and the longest."""
    out: dict[tuple[str, ...], tuple[str, ...]] = {}
    for group in _SAME:
        words = group.split()
        usual = tuple(_char_pinyin(c) for c in words[0])
        for w in words:
            out[tuple(_char_pinyin(c) for c in w)] = usual
    return out, max(map(len, out))


def _usual(syls: list[str]) -> list[str]:
    """Syllables with each `_SAME` word as its group's first (longest first)."""
    same, longest = _same_syllables()
    out: list[str] = []
    i = 0
    while i < len(syls):
        for size in range(min(longest, len(syls) - i), 0, -1):
            found = same.get(tuple(syls[i : i + size]))
            if found is not None:
                out.extend(found)
                i += size
                break
        else:
            out.append(syls[i])
            i += 1
    return out


# English: words that carry no meaning here, and words folded to one
_STOP_EN = frozenset(
    "a an the i me my we our you your it its is are am be been was were do does did to of "
    "for in on at by with and or if can could would should will shall may might must "
    "there this that these those which any some have has had "
    "get got please hi hello thanks thank ok so about from as just anything something "
    "anyone someone much many".split()
)
_FOLD_EN = {
    "cost": "money",
    "costs": "money",
    "fee": "money",
    "fees": "money",
    "charge": "money",
    "price": "money",
    "pay": "pay",
    "paid": "pay",
    "salary": "pay",
    "wage": "pay",
    "wages": "pay",
    "earn": "pay",
    "earning": "pay",
    "earnings": "pay",
    "income": "pay",
    "free": "free",
    "training": "train",
    "trained": "train",
    "course": "train",
    "courses": "train",
    "class": "train",
    "classes": "train",
    "lesson": "train",
    "study": "train",
    "learn": "train",
    "dorm": "lodging",
    "dormitory": "lodging",
    "accommodation": "lodging",
    "lodging": "lodging",
    "housing": "lodging",
    "stay": "lodging",
    "sleep": "lodging",
    "room": "lodging",
    "kid": "child",
    "kids": "child",
    "children": "child",
    "childcare": "child",
    "baby": "baby",
    "babies": "baby",
    "newborn": "baby",
    "certificate": "certificate",
    "certificates": "certificate",
    "cert": "certificate",
    "certification": "certificate",
    "qualification": "certificate",
    "delete": "delete",
    "erase": "delete",
    "remove": "delete",
    "cancel": "cancel",
    "cancelling": "cancel",
    "canceling": "cancel",
    "withdraw": "cancel",
    "quit": "cancel",
    "phone": "phone",
    "call": "phone",
    "contact": "phone",
    "reach": "phone",
    "hk": "hongkong",
    "hongkong": "hongkong",
    "macao": "macau",
    "gba": "greaterbay",
    "bay": "greaterbay",
    "greater": "greaterbay",
    "job": "job",
    "jobs": "job",
    "work": "job",
    "employment": "job",
    "nanny": "nanny",
    "housekeeper": "nanny",
    "maid": "nanny",
    "helper": "nanny",
    "yuesao": "yuesao",
    "confinement": "yuesao",
    "postpartum": "yuesao",
    "maternity": "yuesao",
    "elderly": "elder",
    "old": "elder",
    "senior": "elder",
    "safe": "safety",
    "danger": "safety",
    "dangerous": "safety",
    "tuition": "money",
    "commission": "money",
    "charged": "money",
    "register": "signup",
    "registration": "signup",
    "enrol": "signup",
    "enroll": "signup",
    "enrolment": "signup",
    "signup": "signup",
    "license": "certificate",
    "licence": "certificate",
    "creche": "child",
    "daycare": "child",
    "nursery": "child",
    "medical": "health",
    "drop": "cancel",
    "offline": "pause",
    "hide": "pause",
    "pause": "pause",
    "event": "fair",
    "events": "fair",
    "fair": "fair",
    "fairs": "fair",
    "long": "duration",
    "days": "duration",
    "duration": "duration",
    "weeks": "duration",
    "verified": "verify",
    "verification": "verify",
    "checked": "verify",
    "check": "verify",
    "vetted": "verify",
    "vetting": "verify",
    "privacy": "privacy",
    "private": "privacy",
    "data": "privacy",
    "information": "privacy",
    "info": "privacy",
}
_LATIN = re.compile(r"[a-z0-9]+")


def _stem(word: str) -> str:
    if word in _FOLD_EN:
        return _FOLD_EN[word]
    for end in ("ing", "ed", "es", "s"):
        if len(word) > len(end) + 3 and word.endswith(end):
            base = word[: -len(end)]
            return _FOLD_EN.get(base, base)
    return word


@lru_cache(maxsize=1)
def _to_simplified() -> object:
    from opencc import OpenCC

    return OpenCC("hk2s")


def normalise(text: str) -> str:
    """NFKC, lower case, Simplified characters, Cantonese words as Mandarin ones, a
    programme's word said another way as its usual one (`_SAME`)."""
    text = unicodedata.normalize("NFKC", text).lower()
    text = re.sub(r"\bsign(?:ing|ed)?[\s-]*up\b", "signup", text)
    if any(ord(ch) > 0x2E80 for ch in text):
        text = _to_simplified().convert(text)  # type: ignore[attr-defined]
        text = _CANTONESE_RE.sub(lambda m: _CANTONESE[m.group()], text)
        text = _SAME_RE.sub(lambda m: _SAME_WORDS[m.group()], text)
    return text


def _cjk(ch: str) -> bool:
    return "\u4e00" <= ch <= "\u9fff" or "\u3400" <= ch <= "\u4dbf"


@lru_cache(maxsize=8192)
def units(text: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The text's runs of syllables (Chinese characters, and pinyin as they run
    together) and its English words: (`syllable runs` joined by " ", `words`).

    A text with any Latin word that is not pinyin is English: its Latin words are all
    words (`name` is not `na me` there); otherwise they are pinyin (`yuesao`)."""
    norm = normalise(text)
    latin = _LATIN.findall(norm)
    english_text = any(w.isalpha() and _split_pinyin(w) is None for w in latin)
    runs: list[list[str]] = [[]]
    english: list[str] = []
    word: list[str] = []

    def flush() -> None:
        if not word:
            return
        w = "".join(word)
        word.clear()
        split = None if english_text or not w.isalpha() else _split_pinyin(w)
        if split:
            runs[-1].extend(x for x in split if x not in _DROPPED_PINYIN)
            return
        if runs[-1]:
            runs.append([])
        if w not in _STOP_EN:
            english.append(_stem(w))

    for ch in norm:
        if ch in _DROPPED:
            flush()
        elif _cjk(ch):
            flush()
            runs[-1].append(_char_pinyin(ch))
        elif ch.isascii() and ch.isalnum():
            word.append(ch)
        else:
            flush()
            if ch != " " and runs[-1]:
                runs.append([])
    flush()
    return tuple(" ".join(_usual(r)) for r in runs if r), tuple(english)


def features(text: str) -> Counter[str]:
    """The text's features: `s:` syllables, `p:` pairs of neighbouring syllables,
    `w:` English words, and the Chinese characters themselves (`c:` each, `d:` pairs),
    which tell apart what sounds alike."""
    runs, english = units(text[:MAX_TEXT])
    out: Counter[str] = Counter()
    norm = normalise(text[:MAX_TEXT])
    chars = [ch if _cjk(ch) and ch not in _DROPPED else " " for ch in norm]
    for run in "".join(chars).split():
        for ch in run:
            out["c:" + ch] += 1
        for a, b in itertools.pairwise(run):
            out[f"d:{a}{b}"] += 1
    for run in runs:
        syls = run.split()
        for s in syls:
            out["s:" + s] += 1
        for a, b in itertools.pairwise(syls):
            out[f"p:{a}_{b}"] += 1
    for w in english:
        out["w:" + w] += 1
    return out


@dataclass(frozen=True)
class Match:
    """The entries a text may ask, best first, with their scores (0–1)."""

    ranked: tuple[tuple[Entry, float], ...]
    #: how near the text is to the best entry's nearest question (cosine, 0–1)
    nearest: float = 0.0

    @property
    def best(self) -> Entry | None:
        return self.ranked[0][0] if self.ranked else None

    @property
    def confident(self) -> bool:
        if not self.ranked or self.ranked[0][1] < CONFIDENT:
            return False
        first = self.ranked[0][1]
        second = self.ranked[1][1] if len(self.ranked) > 1 else 0.0
        close = second > SECOND_AT_MOST * first and self.nearest < SAID_SO
        return first - second >= MARGIN and not close

    @property
    def weak(self) -> bool:
        return bool(self.ranked) and self.ranked[0][1] >= WEAK

    def top(self, n: int = 3, *, floor: float = WEAK) -> list[Entry]:
        return [e for e, s in self.ranked[:n] if s >= floor]


class Matcher:
    """The catalogue's entries, indexed for matching (built once per catalogue version)."""

    def __init__(self, catalogue: Catalogue) -> None:
        self.catalogue = catalogue
        self.entries = catalogue.entries
        docs: list[tuple[int, Counter[str]]] = []
        for n, entry in enumerate(self.entries):
            for question in entry.all_questions():
                docs.append((n, features(question)))
        df: Counter[str] = Counter()
        for _n, f in docs:
            df.update(f.keys())
        total = max(len(docs), 1)
        self.idf = {k: math.log((1 + total) / (1 + c)) + 1.0 for k, c in df.items()}
        # each question's vector, and its norm with and without the characters' own
        # features (a query typed in pinyin or English has none of those)
        self.variants: list[tuple[int, dict[str, float], float, float]] = []
        joined: list[Counter[str]] = [Counter() for _ in self.entries]
        for n, f in docs:
            vec = self._weigh(f)
            self.variants.append((n, vec, _norm(vec), _norm(_sounds(vec))))
            joined[n].update({k: 1 for k in f})
        self.joined = []
        for f in joined:
            vec = self._weigh(f)
            self.joined.append((vec, _norm(vec), _norm(_sounds(vec))))
        # the kinds of work each entry's titles name (`storage.search.understand`)
        self.kinds = [_kinds(e.title(lang) for lang in ("zh", "yue", "en")) for e in self.entries]
        self.who = [e.who for e in self.entries]
        self.syllables = sorted({k[2:] for k in self.idf if k.startswith("s:")})
        self.words = sorted({k[2:] for k in self.idf if k.startswith("w:")})
        self.pairs_by_first: dict[str, list[str]] = defaultdict(list)
        self.pairs_by_second: dict[str, list[str]] = defaultdict(list)
        for k in self.idf:
            if k.startswith("p:"):
                a, b = k[2:].split("_", 1)
                self.pairs_by_first[a].append(b)
                self.pairs_by_second[b].append(a)

    def _weigh(self, f: Counter[str]) -> dict[str, float]:
        return {k: (1 + math.log(c)) * self.idf.get(k, 1.0) for k, c in f.items()}

    def _near(self, key: str) -> list[str]:
        """Features of the catalogue one slip from `key`, which none holds."""
        kind, _sep, value = key.partition(":")
        if kind == "p":
            a, b = value.split("_", 1)
            near = [f"p:{a}_{x}" for x in self.pairs_by_first.get(a, ()) if _near_syllable(b, x)]
            near += [f"p:{x}_{b}" for x in self.pairs_by_second.get(b, ()) if _near_syllable(a, x)]
            return near
        if kind == "w":
            if len(value) < 4:
                return []
            cutoff = 1 if len(value) < 8 else 2
            found = process.extract(
                value, self.words, scorer=OSA.distance, score_cutoff=cutoff, limit=3
            )
            return ["w:" + w for w, _d, _i in found]
        return []

    def query(self, text: str) -> dict[str, float]:
        """The text's weighted features, near ones standing in for unknown ones."""
        f = features(text)
        vec: dict[str, float] = {}
        for k, c in f.items():
            if k in self.idf:
                vec[k] = vec.get(k, 0.0) + (1 + math.log(c)) * self.idf[k]
                continue
            near = self._near(k)
            for n in near:
                w = NEAR_WEIGHT * self.idf[n] / len(near)
                vec[n] = max(vec.get(n, 0.0), w)
        return vec

    def match(self, text: str, limit: int = 5, *, role: str = "") -> Match:
        """The entries `text` may ask, best first (at most `limit`). `role` (`seeker`,
        `household`): who asks; the other side's entries score `OTHER_SIDE` of theirs."""
        q = self.query(text)
        qn = _norm(q)
        if not qn:
            return Match(())
        written = any(k[0] in "cd" for k in q)  # Chinese characters typed
        best_variant = [0.0] * len(self.entries)
        for n, vec, norm, sounds in self.variants:
            norm = norm if written else sounds
            if norm:
                s = _dot(q, vec) / (qn * norm)
                if s > best_variant[n]:
                    best_variant[n] = s
        asked_kinds = _kinds([text])
        scored = []
        for n, (vec, norm, sounds) in enumerate(self.joined):
            norm = norm if written else sounds
            whole = _dot(q, vec) / (qn * norm) if norm else 0.0
            score = MIX * best_variant[n] + (1 - MIX) * whole
            if asked_kinds and self.kinds[n] and not asked_kinds & self.kinds[n]:
                score *= OTHER_KIND  # 月嫂 asked, a nanny's pay answered: not this one
            if role and self.who[n] and self.who[n] != role:
                score *= OTHER_SIDE  # a household asking about fees: not a job seeker's
            if score > 0:
                scored.append((self.entries[n], round(score, 4)))
        order = sorted(range(len(scored)), key=lambda i: -scored[i][1])
        ranked = tuple(scored[i] for i in order[:limit])
        nearest = best_variant[self.entries.index(ranked[0][0])] if ranked else 0.0
        return Match(ranked, nearest)

    def ranked_keys(self, text: str, limit: int = 3) -> list[str]:
        return [e.key for e, _s in self.match(text, limit).ranked]


def _kinds(texts: Iterable[str]) -> frozenset[str]:
    """The kinds of work the texts name (`#k:maternity`...), as search reads them."""
    from storage.search import understand

    return frozenset(
        w for t in texts for w in understand(t[:MAX_TEXT]).words if w.startswith("#k:")
    )


def _sounds(vec: dict[str, float]) -> dict[str, float]:
    """A vector without the Chinese characters' own features (`c:`, `d:`)."""
    return {k: v for k, v in vec.items() if k[0] not in "cd"}


def _norm(vec: dict[str, float]) -> float:
    return math.sqrt(sum(v * v for v in vec.values()))


def _dot(a: dict[str, float], b: dict[str, float]) -> float:
    if len(a) > len(b):
        a, b = b, a
    return sum(v * b.get(k, 0.0) for k, v in a.items())


_MATCHERS: dict[object, Matcher] = {}


def built(version: object) -> Matcher | None:
    """The matcher kept for `version` (a database and `FaqRepo.version`), if any."""
    return _MATCHERS.get(version)


def keep(version: object, matcher: Matcher) -> Matcher:
    """Keep `matcher` for `version` (the last few versions only)."""
    if len(_MATCHERS) > 8:
        _MATCHERS.clear()
    _MATCHERS[version] = matcher
    return matcher


def keys_of(entries: Sequence[Entry]) -> list[str]:
    return [e.key for e in entries]


def texts(entries: Iterable[Entry]) -> list[str]:
    return [q for e in entries for q in e.all_questions()]
