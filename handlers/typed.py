"""Typed text anywhere: which button she meant, or else a search of courses and fairs.

The conversation core (`handlers.conversation`) asks this module two things about a
text that is not a command:

1. Which of the current screen's buttons does it name? (`pick`) A button is named when
   the text is its label, one part of its label (`月嫂` for `月嫂/母婴护理 (2)`), or a
   clear piece of it (`同意` for `✅ 我同意`, never for `✖ 不同意`); `yes` / `好` / `係`
   name the affirmative button and `no` / `不` the negative one. Labels and text are
   compared as pinyin syllables, so Traditional and Simplified characters and typed
   pinyin all match, and emoji, punctuation and counts such as `(2)` do not count. Two
   buttons named equally well are both candidates (`ask_which`): she is shown them,
   never refused and never given one of them by chance.
2. Nothing named, and the screen takes no text (a menu, a list, a card): `search` looks
   through courses and job fairs with the same search as the courses and fairs flows,
   and shows what it finds with "◀ Back to where I was". Her state and form are not
   touched, so going back shows the very screen she was on, and typing again searches
   again. Before she has agreed to the privacy notice what she types is searched (the
   lists are public) but never kept; on the privacy question itself it is not searched.

A screen that takes text (a name, a township) gets only whole-label matches: anything
else is her answer. Items of a list (a course, a fair) are named only by their whole
label or a whole part of it (a title without its date): any other text on a list is a
new search. Later flows extend this with `list_items` (their item actions) and
`searcher` (more kinds of things to find).
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from functools import cache, lru_cache

from handlers.context import Ctx, nonce_code
from handlers.lists import short
from handlers.replies import Button
from handlers.router import Handler, Invalid, Replies
from storage.courses import is_open
from storage.fairs import FairFilter
from storage.search import tokens

MAX_WORDS = 40  # the longest text searched (the search screens' own limit)
MAX_FOUND = 5  # of each kind

# --- how well a text names a label ---------------------------------------------------
EXACT, PART, PIECE = 3, 2, 1  # the whole label; one part of it; a clear piece of it

#: actions of list items (a course, a fair): named only by a whole label or part of one
ITEM_ACTIONS: set[str] = {"open", "fair", "typed_course", "typed_fair"}

_COUNT = re.compile(r"[(（]\s*\d+\s*[)）]")  # "(2)": how many, not what
_PARTS = set("/／·・•,，、;；:：()（）[]【】「」《》|｜—–")  # what splits a label into parts
_STOP = {"i", "a", "an", "the", "to", "of", "my", "me", "for", "and", "in", "on", "is", "it"}

# what she may type for yes or no: compared character for character (never as sounds: 的
# sounds like 得, 十 like 是, 西 like 係, and a yes can book a seat or erase her data)
_YES_TYPED = (
    "yes y yeah yep ok okay sure agree confirm 是 是的 好 好的 好呀 好啊 对 对的 對 對的 "
    "可以 行 同意 我同意 确认 確認 确定 確定 嗯 係 系 係呀 得 冇问题 冇問題 没问题 沒問題"
)
_NO_TYPED = "no n nope not 不 不要 不用 不是 否 唔 唔要 唔使 唔好 不同意 唔同意 算了 算啦"
# how an affirmative or a negative label begins (besides ✅ and ✖)
_YES_LABEL = "yes ok confirm agree 确定 确认 同意 是"
_NO_LABEL = "no not 不 唔 否 冇 没"
# a piece right after one of these is negated: 同意 is not a piece of 不同意
_NEGATIONS = {"不", "唔", "冇", "没", "沒", "否", "别", "別", "no", "not", "dont", "non"}


def _cjk(ch: str) -> bool:
    return "\u4e00" <= ch <= "\u9fff" or "\u3400" <= ch <= "\u4dbf" or "\uf900" <= ch <= "\ufaff"


@dataclass(frozen=True, slots=True)
class Words:
    """A text as syllables: each token's source (a character or a Latin word), the
    spans of tokens that are the label's parts, and how much was typed."""

    tokens: tuple[str, ...]
    sources: tuple[str, ...]
    parts: tuple[tuple[int, int], ...]
    cjk: int
    letters: int


@lru_cache(maxsize=4096)
def words(text: str) -> Words:
    """`text` as `Words`: NFKC, case-folded, counts dropped, Chinese as pinyin."""
    text = _COUNT.sub(" ", unicodedata.normalize("NFKC", text)).casefold()
    toks: list[str] = []
    sources: list[str] = []
    parts: list[tuple[int, int]] = []
    run: list[str] = []
    start = 0

    def flush() -> None:
        if run:
            word = "".join(run)
            for tok in tokens(word) or [word]:
                toks.append(tok)
                sources.append(word)
            run.clear()

    def cut() -> None:
        nonlocal start
        flush()
        if len(toks) > start:
            parts.append((start, len(toks)))
        start = len(toks)

    for ch in text:
        if _cjk(ch):
            flush()
            toks.append((tokens(ch) or [ch])[0])
            sources.append(ch)
        elif ch.isalnum():
            run.append(ch)
        elif ch in _PARTS:
            cut()
        else:  # a space, an emoji, an arrow: between words
            flush()
    cut()
    cjk = sum(1 for s in sources if len(s) == 1 and _cjk(s))
    letters = sum(len(s) for s in dict.fromkeys(s for s in sources if not _cjk(s[0])))
    return Words(tuple(toks), tuple(sources), tuple(parts), cjk, letters)


@cache
def _phrases(spaced: str) -> frozenset[tuple[str, ...]]:
    return frozenset(words(w).tokens for w in spaced.split())


def _starts_with(label: Words, first: frozenset[tuple[str, ...]]) -> bool:
    if not label.parts:
        return False
    lo, hi = label.parts[0]
    head = label.tokens[lo:hi]
    return any(head[: len(p)] == p for p in first if p)


@cache
def _said(spaced: str) -> frozenset[str]:
    return frozenset(_letters(w) for w in spaced.split())


def _letters(text: str) -> str:
    """Only the letters and digits, width forms unified, case folded: `Yes!` → `yes`."""
    return "".join(ch for ch in unicodedata.normalize("NFKC", text).casefold() if ch.isalnum())


def _answer(typed: str, label: str, lw: Words) -> bool:
    """Whether `typed` is a yes or a no, character for character, and `label` is the
    button that says it."""
    mark = label.lstrip()[:1]
    head = _letters(label)
    says_yes = any(head.startswith(w) for w in _said(_YES_LABEL))  # 是, not 失业
    says_no = any(head.startswith(w) for w in _said(_NO_LABEL))
    plain = _letters(typed)
    if plain in _said(_YES_TYPED):  # "✅ I agree", "✖ Yes, cancel my place"
        return says_yes or (mark == "✅" and not says_no)
    if plain in _said(_NO_TYPED):  # "✖ No, thank you", "◀ No, keep it"; never "✖ Cancel"
        return says_no
    return False


def _substantial(text: Words) -> bool:
    """Enough to name a piece of a label: two Chinese characters or three letters,
    and more than little words such as "my"."""
    if all(t in _STOP for t in text.tokens):
        return False
    return text.cjk >= 2 or text.letters >= 3


def _piece_of(text: Words, label: Words) -> bool:
    """`text` appears whole in `label` (word by word, syllable by syllable), not right
    after a negation in the label unless she typed one too."""
    n, toks = len(text.tokens), label.tokens
    negated_text = text.sources[:1] and text.sources[0] in _NEGATIONS
    for i in range(len(toks) - n + 1):
        if toks[i : i + n] != text.tokens:
            continue
        if i > 0 and label.sources[i - 1] in _NEGATIONS and not negated_text:
            if any(lo <= i - 1 < hi and lo <= i < hi for lo, hi in label.parts):
                continue
        return True
    return False


def score(text: str, label: str, *, loose: bool = True, item: bool = False) -> int:
    """How well typed `text` names the button `label` (0: not at all).

    `loose=False` (a screen that takes text): only the whole label counts. `item` (a
    list's course or fair): the whole label or a whole part of it."""
    tw, lw = words(text), words(label)
    if not tw.tokens:
        return 0
    if tw.tokens == lw.tokens:
        return EXACT
    if not loose:
        return 0
    if any(lw.tokens[lo:hi] == tw.tokens for lo, hi in lw.parts):
        return PART
    if item:
        return 0
    if _answer(text, label, lw):
        return PART
    if _substantial(tw) and _piece_of(tw, lw):
        return PIECE
    return 0


def pick(text: str, buttons: Sequence[Sequence[str]], *, loose: bool = True) -> list[int]:
    """The indices of the buttons `text` names best: none, one, or several equally."""
    best, found = 0, []
    for n, (label, data) in enumerate(buttons):
        action = data.partition("|")[2].partition(":")[0]
        s = score(text, label, loose=loose, item=action in ITEM_ACTIONS)
        if s > best:
            best, found = s, [n]
        elif s and s == best:
            found.append(n)
    return found


def ask_which(ctx: Ctx, chosen: Sequence[Sequence[str]]) -> Replies:
    """Several buttons fit what she typed: show those, stamped for this screen."""
    _ = ctx._
    stamp = nonce_code(ctx.nonce)
    rows = [[Button(label, f"{stamp}|{data.partition('|')[2]}")] for label, data in chosen]
    rows.append([ctx.button(_("◀ Show all choices"), "back")])
    return [ctx.reply(_("Which one do you mean?"), *rows)]


def list_items(*actions: str) -> None:
    """Declare actions whose buttons are items of a list (named only by their whole
    label or a whole part of it: other text on a list is a new search)."""
    ITEM_ACTIONS.update(actions)


# --- search ---------------------------------------------------------------------------
Searcher = Callable[[Ctx, str], Awaitable[list[Button]]]
SEARCHERS: list[Searcher] = []


#: the actions of the buttons searches show, accepted on the screen that shows them
ACTIONS: dict[str, Handler] = {}


def searcher(fn: Searcher) -> Searcher:
    """Register a kind of thing typed text finds: `fn(ctx, words)` returns a button for
    each thing found, best first, whose action is a global action of its flow or one
    registered with `found`."""
    SEARCHERS.append(fn)
    return fn


def found(action: str) -> Callable[[Handler], Handler]:
    """Register the action of a search result's button (opening what was found)."""

    def register(fn: Handler) -> Handler:
        ACTIONS[action] = fn
        return fn

    return register


# "我想学月嫂", "I want to learn yuesao": what she asks for, without asking
_ASKING = re.compile(
    r"^(?:请问|請問|麻烦|麻煩)?\s*(?:我|俾我|畀我)?\s*"
    r"(?:(?:想要|想|要|希望)\s*(?:学|學|找|揾|搵|做|当|當|报名|報名|报|報|参加|參加|去)?"
    r"|有没有|有沒有|有冇|有无|有無|边度有|邊度有|哪里有|哪裡有)\s*"
    r"|^(?:please\s+)?(?:i\s*(?:'d|would)?\s*)?(?:want|like|need|wanna)\s+(?:to\s+)?"
    r"(?:learn|find|study|become|be|do|join|train\s+as)?\s*(?:an?\s+|the\s+)?",
    re.IGNORECASE,
)


def what_she_asks(text: str) -> str:
    """The thing asked for, without "I want to learn": `我想学月嫂` → `月嫂`."""
    rest = _ASKING.sub("", text, count=1).strip(" ?？!！。.,，")
    return rest or text


NO_SEARCH: set[str] = set()


def no_search(*states: str) -> None:
    """Declare states where typed text is never a search (getting started: she is
    answering who she is, not looking for anything)."""
    NO_SEARCH.update(states)


async def search(ctx: Ctx, text: str) -> Replies:
    """Typed text on a screen that takes none: courses and fairs it finds, with
    "◀ Back to where I was". Her state and form stay as they are."""
    from handlers.onboarding import CHOOSE_ROLE, GREETING, PRIVACY, onboarded

    _ = ctx._
    if len(text) > MAX_WORDS:  # before any reading of it: a long text costs everyone
        raise Invalid(
            _(
                "Please tap one of the buttons, or type a few words (at most {limit} "
                "characters) to search courses and job fairs.",
                limit=MAX_WORDS,
            )
        )
    query = what_she_asks(text)
    if ctx.user.state == GREETING and not onboarded(ctx):
        # typed instead of "Continue" (a WeChat voice message, "我想学月嫂"): she is
        # looking for training or work; what she typed is searched, not kept
        from handlers.menus import home_state
        from handlers.onboarding import SEEKER

        ctx.user.role = SEEKER
        ctx.user.state = home_state(ctx)  # "◀ Back to where I was" is her menu
    if (
        not onboarded(ctx)
        or ctx.user.state in NO_SEARCH | {PRIVACY, CHOOSE_ROLE}
        or not words(query).tokens  # emoji, punctuation: nothing to look for
    ):
        raise Invalid(_("Please tap one of the buttons (or type its number)."))
    found = [b for find in SEARCHERS for b in await find(ctx, query)]
    if not found:
        raise Invalid(
            _(
                "I found no course or job fair for “{words}”. Please tap one of the "
                "buttons, or type other words.",
                words=text,
            )
        )
    head = _("Courses and job fairs for “{words}”. Tap one to see it:", words=text)
    back = ctx.button(_("◀ Back to where I was"), "back")
    return [ctx.reply(head, *([b] for b in found), [back])]


def _since(ctx: Ctx) -> dt.datetime:
    return dt.datetime.combine(ctx.today(), dt.time())


@searcher
async def find_courses(ctx: Ctx, query: str) -> list[Button]:
    """Open courses, as `handlers.courses` searches them."""
    ids = await ctx.repos.search.courses(query, ctx.today(), limit=MAX_FOUND)
    from handlers.courses import list_line  # title in her script, county, date

    found = [c for c in await ctx.repos.courses.by_ids(ids) if is_open(c, ctx.today())]
    return [ctx.button("📚 " + list_line(ctx, c), "typed_course", c.id) for c in found]


@searcher
async def find_fairs(ctx: Ctx, query: str) -> list[Button]:
    """Upcoming job fairs, as `handlers.fairs` searches them."""
    ids = await ctx.repos.search.fairs(query, ctx.today(), limit=MAX_FOUND)
    if not ids:
        return []
    found = await ctx.repos.fairs.listed(_since(ctx), FairFilter(ids=tuple(ids)), 0, MAX_FOUND)
    _ = ctx._
    return [
        ctx.button(
            short(f"🤝 {_.text(f.title, f.title_en)} · {_.short_date(f.starts_at.date())}"),
            "typed_fair",
            f.id,
        )
        for f in found
    ]


@found("typed_course")
async def open_course(ctx: Ctx, arg: str) -> Replies:
    """A course found by typing: its card."""
    from handlers.courses import show_course

    return await show_course(ctx, arg)


@found("typed_fair")
async def open_fair(ctx: Ctx, arg: str) -> Replies:
    """A job fair found by typing: its card."""
    from handlers.fairs import show_fair

    return await show_fair(ctx, arg)
