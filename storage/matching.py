"""Matching a household's request with vetted workers: a short list that explains itself
and spreads exposure fairly (issue 11).

Three cuts, so that one request against 100,000 workers takes milliseconds:

1. **The tags** (`_ranked`, SQL on `worker_tags` alone): every hard filter that is a
   fact of her offer (kind of work, place, mode) is the start of one `o:` tag per
   (kind, place, mode) she offers, and the tag's end carries what the score needs of
   her (years, lowest pay for that mode, languages: `storage.workers.tags_of`). One
   index range per place gives everyone who does that work there in that mode, with
   the place, language, years and budget points computed from the tag; those with the
   most years are read first (`YEAR_STEPS`), stopping as soon as no one with fewer
   years could score higher. The best `PAGE` go on; equal scores in an order rotated
   by the request and the day. When more tie at the cut than that, those among them
   whose introduction holds a word of the note or of a special need go on too
   (`_worded`).
2. **The profile's own filters** (`_candidates`): visible today
   (`storage.workers.visible`), a health check valid through the start date, available
   from the start to the last day; page after page of the tags until `PREFILTER` pass.
   The note's and needs' words found word for word in the introduction are added, and
   the best `PREFILTER` (the less shown first among equals) go on.
3. **The full score** (`_score`, Python): the same points with their reasons, and the
   fuzzy match (rapidfuzz) of the note and special needs against her skills,
   introduction and past jobs; then the fair order (`_fair_order`).

The first cut is approximate where the tags cannot know: someone whose words match
the note but who scores lower by her tags than the `PAGE` best may be left out.

**Places.** Counties and cities have no coordinates in the vocabulary, so matching is by
place, not distance (a request's latitude and longitude are kept in `MatchQuery` for a
later distance score). A worker who works anywhere in Maoming (`maoming`) serves a
request in any of its counties; a request for `maoming` as a whole is served by a worker
in any of its counties too. Either way the same place scores higher
(`POINTS["place"]` against `POINTS["maoming"]`).

**The dates.** The job runs from `starts_on` for `days` days: `ends_on` is its last day
(`starts_on + days - 1`; the start day itself when the length is not known). Her
`available_from` must be on or before the start and her `available_until` on or after
the last day (either may be open); her health check valid through the start.

**Scoring** (points, `POINTS`): same place; any language the household asked for;
years of experience (2 a year, at most `MAX_YEARS`; a penalty below the household's
minimum); her lowest pay for that mode within the budget (a budget in the unit her pay
is kept in: a month for live-in and day, an hour for hourly); each special need her
skills or words cover; each word of the note found in what she wrote; her rating from
households' reviews, once she has three (`_rating`; fewer: neutral). Age preferences
are not scored: her year of birth is not stored.

**Fair exposure.** Among candidates within `BAND` points of the best one left, the one
shown least often comes first (then the higher score, then the lower id): equally
qualified women take turns, and a clearly better one is never passed over.
`record=True` counts the returned ones as shown, in one UPSERT in the caller's
transaction.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
import zlib
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from typing import Any

from rapidfuzz import fuzz
from sqlalchemy import Integer, and_, cast, exists, func, not_, or_, select, text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased, selectinload

from storage.hiring import at_work
from storage.models import (
    Exposure,
    HelpRequest,
    WorkerProfile,
    WorkerTag,
    utcnow,
)
from storage.vocab import COUNTIES, KINDS_OF_WORK
from storage.workers import LANGUAGE_LETTERS, WorkerRepo, offer_prefix, visible

#: the most candidates a household sees at a time (issue 11)
MAX_SHORTLIST = 5
#: years of experience count up to this many
MAX_YEARS = 10
#: how many of the best `o:` tags are read at a time (`_ranked`), and at most how many
#: pages while too few of them pass the profile's own filters
PAGE = 150
MAX_PAGES = 10
#: `_ranked` reads those with at least this many years first, then fewer
YEAR_STEPS = (MAX_YEARS, 6, 3, 0)
#: how many candidates the first cut passes on to the full score
PREFILTER = 20
#: candidates within this many points of the best one left count as near-equal
BAND = 4.0
#: the points of each part of the score
POINTS = {
    "place": 20.0,  # works in the very county or city asked for
    "maoming": 12.0,  # Maoming-wide: she works anywhere in Maoming, or it is a county of it
    "language": 20.0,  # speaks (one of) the language(s) asked for
    "year": 2.0,  # a year of experience, up to `MAX_YEARS`
    "below_min_years": -10.0,  # fewer years than the household's minimum
    "budget": 15.0,  # her lowest pay for that mode is within the budget
    "need": 6.0,  # a special need her skills or words cover
    "note": 5.0,  # a word of the household's note found in what she wrote
}
#: at most this many points from the note's words
MAX_NOTE_POINTS = 15.0
#: how alike a note word and her text must be (rapidfuzz partial ratio, 0-100)
NOTE_SIMILARITY = 80.0
#: modes paid by the month and by the hour (`WorkerProfile.pay`)
MONTHLY_MODES = ("live_in", "day")

#: special needs (`HelpRequest.needs` ids): the kinds or skills that cover one, and the
#: words in her introduction or past jobs that do
NEEDS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "twins": ((), ("双胞胎", "雙胞胎", "双胎", "雙胎", "twins")),
    "premature": ((), ("早产", "早產", "premature")),
    "dementia": ((), ("失智", "痴呆", "認知障礙", "认知障碍", "dementia", "alzheimer")),
    "bedridden": (("patient",), ("卧床", "臥床", "瘫痪", "癱瘓", "bedridden", "翻身")),
    "pets": ((), ("宠物", "寵物", "猫", "貓", "狗", "pets", "pet")),
    "cooking": (("cooking",), ("做饭", "煮饭", "煮飯", "做菜", "烹饪", "烹飪", "cooking")),
}

_COUNTY_IDS = tuple(t.id for t in COUNTIES)
_WORD_SPLIT = re.compile(r"[\s,，.。;；、!！?？:：/／()（）\[\]【】\"“”'‘’~～\-]+")
#: words of a note that say nothing about the worker
_FILLER = re.compile(
    r"需要|希望|最好|要求|我们|我們|家里|家裡|请|請|可以|能够|能夠|一个|一個|要|会|會|能|的|和|有|"
    r"\b(?:need|needs|want|wants|please|would|like|with|and|the|can|who|able|to|a|an)\b",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class MatchQuery:
    """What matching needs of a request (`from_request`). `place` is a `COUNTIES` or
    `CITIES` id; budgets in yuan a `budget_unit` (`month` or `hour`); `needs` special
    need ids (`NEEDS`); `ends_on` the job's last day (None: the start day)."""

    kind: str
    mode: str
    place: str
    starts_on: dt.date | None = None
    ends_on: dt.date | None = None
    latitude: float | None = None
    longitude: float | None = None
    budget_min: int | None = None
    budget_max: int | None = None
    budget_unit: str = "month"
    languages: tuple[str, ...] = ()
    age_min: int | None = None
    age_max: int | None = None
    min_years: int | None = None
    needs: tuple[str, ...] = ()
    note: str = ""

    @classmethod
    def from_request(cls, req: HelpRequest) -> MatchQuery:
        """The query of a saved request."""
        ends_on = None
        if req.starts_on is not None and req.days:
            ends_on = req.starts_on + dt.timedelta(days=max(1, req.days) - 1)
        return cls(
            kind=req.kind,
            mode=req.mode,
            place=req.place,
            starts_on=req.starts_on,
            ends_on=ends_on,
            latitude=req.latitude,
            longitude=req.longitude,
            budget_min=req.budget_min,
            budget_max=req.budget_max,
            budget_unit=req.budget_unit or "month",
            languages=tuple(req.languages or ()),
            age_min=req.age_min,
            age_max=req.age_max,
            min_years=req.min_years,
            needs=tuple(req.needs or ()),
            note=req.note or "",
        )

    def place_tags(self) -> tuple[str, ...]:
        """The `place:` tags that serve this place (module docstring: Maoming-wide)."""
        if self.place in _COUNTY_IDS:
            return (f"place:{self.place}", "place:maoming")
        if self.place == "maoming":
            return ("place:maoming", *(f"place:{c}" for c in _COUNTY_IDS))
        return (f"place:{self.place}",)

    def budget(self) -> tuple[int, int] | None:
        """The budget as (low, high) when it is in the unit her pay for this mode is
        kept in (a month for live-in and day, an hour for hourly); else None."""
        unit = "month" if self.mode in MONTHLY_MODES else "hour"
        if self.budget_unit != unit or (self.budget_min is None and self.budget_max is None):
            return None
        low = self.budget_min if self.budget_min is not None else 0
        high = self.budget_max if self.budget_max is not None else 10**9
        return low, high


@dataclass
class Match:
    """A candidate: her profile (with certificates), the score and its reasons, the
    strongest first: (reason id, params) for the flow to translate: `place` {place},
    `maoming` {} (anywhere in Maoming), `county` {place} (a county of Maoming),
    `language` {language}, `years` {n, kind} (years in that kind of work), `experience`
    {n}, `budget` {low, high, unit}, `need` {need}, `note` {words}, `health` {month}
    (a date: when her health check passed)."""

    profile: WorkerProfile
    score: float
    reasons: list[tuple[str, dict[str, Any]]] = field(default_factory=list)


# --- stage 1: SQL ----------------------------------------------------------------------
def _offer_range(tag: Any, prefix: str, dialect: str, min_years: int = 0) -> Any:
    """`tag` starts with `prefix` (and, after it, at least `min_years`): an index range
    on SQLite (binary collation), a comparison of the start on PostgreSQL (whose
    collation may not sort bytewise)."""
    end = prefix[:-1] + chr(ord(prefix[-1]) + 1)
    if dialect == "sqlite":
        return and_(tag >= prefix + (f"{min_years:02d}" if min_years else ""), tag < end)
    same = func.substr(tag, 1, len(prefix)) == prefix
    if not min_years:
        return same
    return and_(same, cast(func.substr(tag, len(prefix) + 1, 2), Integer) >= min_years)


def _ranked_sql(query: MatchQuery, dialect: str, min_years: int) -> tuple[str, dict[str, Any]]:
    """`_ranked`'s statement and parameters. Written out as SQL: built for every
    request, SQLAlchemy's expressions cost more than the query itself. Only numbers
    this module makes (points, positions, the budget, years) and letters of
    `LANGUAGE_LETTERS` are written into the text; a request's own words (kind, place,
    mode) are parameters."""
    budget = query.budget()
    letters = [LANGUAGE_LETTERS[x] for x in query.languages if x in LANGUAGE_LETTERS]
    params: dict[str, Any] = {}
    parts = []
    for n, place in enumerate(p.removeprefix("place:") for p in query.place_tags()):
        prefix = offer_prefix(query.kind, place, query.mode)
        exact = place == query.place or len(query.place_tags()) == 1
        at = len(prefix) + 1
        years = f"CAST(substr(tag, {at}, 2) AS INTEGER)"
        score = f"{POINTS['place'] if exact else POINTS['maoming']:.1f}"
        score += f" + (CASE WHEN {years} > {MAX_YEARS} THEN {MAX_YEARS} ELSE {years} END)"
        score += f" * {POINTS['year']:.1f}"
        if query.min_years:
            below = f"{POINTS['below_min_years']:.1f}"
            score += f" + (CASE WHEN {years} < {int(query.min_years)} THEN {below} ELSE 0.0 END)"
        if budget is not None:
            low = f"CAST(substr(tag, {at + 2}, 5) AS INTEGER)"
            fit = f"{POINTS['budget']:.1f}"
            score += f" + (CASE WHEN {low} <= {int(budget[1])} THEN {fit} ELSE 0.0 END)"
        if letters:
            spoken = " OR ".join(f"substr(tag, {at + 7}) LIKE '%{x}%'" for x in letters)
            score += f" + (CASE WHEN {spoken} THEN {POINTS['language']:.1f} ELSE 0.0 END)"
        params[f"p{n}"] = prefix
        if dialect == "sqlite":
            params[f"e{n}"] = prefix[:-1] + chr(ord(prefix[-1]) + 1)
            params[f"s{n}"] = prefix + (f"{min_years:02d}" if min_years else "")
            where = f"tag >= :s{n} AND tag < :e{n}"
        else:
            where = f"substr(tag, 1, {len(prefix)}) = :p{n}"
            if min_years:
                where += f" AND {years} >= {int(min_years)}"
        parts.append(f"SELECT profile_id, {score} AS partial FROM worker_tags WHERE {where}")
    union = " UNION ALL ".join(parts)
    # below 2**31 all along (PostgreSQL's integer)
    rotation = "((profile_id % 1000003) * 1009 + :salt) % 1000003"
    sql = (
        f"SELECT profile_id, partial FROM ({union}) AS ranked "
        f"ORDER BY partial DESC, {rotation}, profile_id LIMIT :count"
    )
    return sql, params


async def _ranked(
    session: AsyncSession, query: MatchQuery, salt: int, count: int
) -> list[tuple[int, float]]:
    """The best `count` (profile id, partial score) by the `o:` tags alone: the place,
    years, budget and language points (`_score` counts them the same way). Equal
    scores come in an order that `salt` rotates, so a long tie does not favour the same
    few. Reads those with the most years first (`YEAR_STEPS`: an index range of the
    tag's start and her years), and stops there when no one with fewer years could
    score higher than the last of them: a broad request reads a few thousand tags, not
    every worker's."""
    dialect = session.get_bind().dialect.name
    ceiling = POINTS["place"] + POINTS["year"] * MAX_YEARS
    ceiling += POINTS["budget"] if query.budget() is not None else 0.0
    ceiling += POINTS["language"] if query.languages else 0.0
    for min_years in YEAR_STEPS:
        sql, params = _ranked_sql(query, dialect, min_years)
        result = await session.execute(text(sql), {**params, "salt": salt, "count": count})
        rows = [(pid, float(partial)) for pid, partial in result]
        # the most anyone with fewer years can score
        below = ceiling - POINTS["year"] * (MAX_YEARS - min(MAX_YEARS, max(0, min_years - 1)))
        if min_years == 0 or (len(rows) == count and rows[-1][1] >= below):
            if len(rows) == count:
                rows += await _worded(session, query, dialect, min_years, rows[-1][1], params)
            return rows
    return []


async def _worded(
    session: AsyncSession,
    query: MatchQuery,
    dialect: str,
    min_years: int,
    floor: float,
    params: dict[str, Any],
) -> list[tuple[int, float]]:
    """Those scoring at least `floor` by their tags whose introduction holds a word of
    the note or of a special need: when more tie at the cut than `_ranked` reads, the
    words decide among them, not the rotation."""
    words = note_words(query.note)
    for need in query.needs:
        words += [_plain(n) for n in NEEDS.get(need, ((), ()))[1]]
    if not words:
        return []
    sql, _params = _ranked_sql(query, dialect, min_years)
    union = sql[sql.index("FROM (") + 6 : sql.index(") AS ranked")]
    escaped = {
        f"w{n}": "%" + w.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        for n, w in enumerate(words[:20])
    }
    like = " OR ".join(f"lower(wp.intro) LIKE :{k} ESCAPE '\\'" for k in escaped)
    stmt = (
        f"SELECT ranked.profile_id, ranked.partial FROM ({union}) AS ranked "
        f"JOIN worker_profiles wp ON wp.id = ranked.profile_id "
        f"WHERE ranked.partial >= :floor AND ({like}) LIMIT :count"
    )
    values = {**params, **escaped, "floor": floor, "count": PAGE}
    return [(pid, float(partial)) for pid, partial in await session.execute(text(stmt), values)]


def _hard_filters(query: MatchQuery, today: dt.date) -> list[Any]:
    """The profile's own hard filters: visible today, a health check valid through the
    start, available from the start to the last day, not on a trial or hired on any of
    those days (`storage.hiring.at_work`)."""
    starts = max(query.starts_on or today, today)
    ends = max(query.ends_on or starts, starts)
    wp = WorkerProfile
    return [
        visible(today),
        wp.health_valid_until >= starts,
        or_(wp.available_from.is_(None), wp.available_from <= starts),
        or_(wp.available_until.is_(None), wp.available_until >= ends),
        not_(at_work(wp.id, starts, ends if query.ends_on is not None else None)),
    ]


async def _candidates(
    session: AsyncSession, query: MatchQuery, today: dt.date, exclude: Collection[int]
) -> list[tuple[float, int, int, str]]:
    """Those passing every hard filter among the best by the `o:` tags, page by page
    until there are `PREFILTER` or no more: (partial score, shown, id, intro)."""
    salt = zlib.crc32(f"{query}|{today}".encode()) % 1000003
    wp = WorkerProfile
    found: dict[int, tuple[float, int, int, str]] = {}
    checked: set[int] = set(exclude)
    for page in range(MAX_PAGES):
        ranked = await _ranked(session, query, salt, (page + 1) * PAGE)
        best: dict[int, float] = {}
        for pid, partial in ranked:
            if pid not in checked:
                best[pid] = max(partial, best.get(pid, partial))
        checked.update(best)
        if best:
            rows = await session.execute(
                select(wp.id, wp.intro, func.coalesce(Exposure.shown, 0))
                .outerjoin(Exposure, Exposure.profile_id == wp.id)
                .where(wp.id.in_(list(best)), *_hard_filters(query, today))
            )
            for pid, intro, shown in rows:
                found[pid] = (best[pid], shown, pid, intro or "")
        if len(ranked) < (page + 1) * PAGE or len(found) >= PREFILTER:
            break
    return list(found.values())


# --- stage 2: the full score -------------------------------------------------------------
def _plain(text: str) -> str:
    return unicodedata.normalize("NFKC", text).casefold()


def note_words(note: str) -> list[str]:
    """The words of a household's note worth looking for in a worker's text: split at
    punctuation and filler words (需要, 希望, "need"…), two characters or more, at most
    ten."""
    words: list[str] = []
    for piece in _WORD_SPLIT.split(_FILLER.sub(" ", _plain(note))):
        piece = piece.strip()
        if len(piece) >= 2 and piece not in words:
            words.append(piece[:20])
    return words[:10]


def _her_text(row: Any) -> str:
    """What she wrote and offers, as one text to look for words in: her introduction,
    her past jobs, and every name of her kinds of work and skills (Chinese, English,
    pinyin: `storage.vocab`)."""
    parts = [row.intro or ""]
    for job in row.jobs or []:
        if isinstance(job, dict):
            parts.extend(str(job.get(k) or "") for k in ("what", "where"))
    text = _plain(" ".join(parts))
    return " ".join(
        [text, *(_KIND_TEXT.get(k, "") for k in [*(row.kinds or []), *(row.skills or [])])]
    )


#: every name of each kind of work and skill, as `_her_text` compares them
_KIND_TEXT = {t.id: _plain(" ".join((t.label, *t.names, *t.typed))) for t in KINDS_OF_WORK}


def _kind_years(row: Any, kind: str) -> int:
    """Her years in this kind of work, from her past jobs."""
    total = 0
    for job in row.jobs or []:
        if isinstance(job, dict) and job.get("what") == kind:
            years = job.get("years")
            total += years if isinstance(years, int) and years > 0 else 0
    return total


def _pay(row: Any, mode: str) -> tuple[int, int] | None:
    value = (row.pay or {}).get(mode)
    if isinstance(value, list) and len(value) == 2 and all(isinstance(v, int) for v in value):
        return value[0], value[1]
    return None


def _rating(row: Any) -> tuple[float, tuple[str, dict[str, Any]] | None]:
    """Points and a reason from households' reviews of her (`storage.reviews`), once
    she has `SHOWN_FROM` (as her credential shows them): 4 points a mark above or below
    4.0 on average (5.0: +4, 4.0: 0, 3.0: -4, at worst -8), so a rating moves her
    within about one `BAND` and a new worker without reviews (neutral, 0) still takes
    her turn. The reason: `("rating", {"average": 4.6, "count": 5})`."""
    from storage.reviews import SHOWN_FROM

    count, average = row.reviews_count or 0, row.reviews_average
    if count < SHOWN_FROM or average is None:
        return 0.0, None
    points = max(-8.0, min(4.0, (float(average) - 4.0) * 4.0))
    return points, ("rating", {"average": round(float(average), 1), "count": int(count)})


def _score(row: Any, query: MatchQuery, words: list[str]) -> tuple[float, list[Any]]:
    """The full score of one candidate and its reasons, the strongest first (the
    health check last: true of everyone shown, said of each)."""
    parts: list[tuple[float, tuple[str, dict[str, Any]] | None]] = []
    places = list(row.places or [])
    if len(query.place_tags()) == 1 or query.place in places:
        parts.append((POINTS["place"], ("place", {"place": query.place})))
    elif query.place == "maoming":
        county = next((p for p in _COUNTY_IDS if p in places), "maoming")
        parts.append((POINTS["maoming"], ("county", {"place": county})))
    else:
        parts.append((POINTS["maoming"], ("maoming", {})))
    spoken = [x for x in query.languages if x in (row.languages or [])]
    if spoken:
        parts.append((POINTS["language"], ("language", {"language": spoken[0]})))
    years = max(0, row.years or 0)
    points = min(years, MAX_YEARS) * POINTS["year"]
    if query.min_years and years < query.min_years:
        points += POINTS["below_min_years"]
    kind_years = _kind_years(row, query.kind)
    if kind_years:
        parts.append((points, ("years", {"n": kind_years, "kind": query.kind})))
    elif years:
        parts.append((points, ("experience", {"n": years})))
    else:
        parts.append((points, None))
    budget, pay = query.budget(), _pay(row, query.mode)
    if budget is not None and pay is not None and pay[0] <= budget[1]:
        unit = "month" if query.mode in MONTHLY_MODES else "hour"
        parts.append((POINTS["budget"], ("budget", {"low": pay[0], "high": pay[1], "unit": unit})))
    text = _her_text(row) if (query.needs or words) else ""
    offers = {*(row.kinds or []), *(row.skills or [])}
    for need in query.needs:
        kinds, needles = NEEDS.get(need, ((), ()))
        if offers & set(kinds) or any(_plain(n) in text for n in needles):
            parts.append((POINTS["need"], ("need", {"need": need})))
    found = [w for w in words if fuzz.partial_ratio(w, text) >= NOTE_SIMILARITY]
    if found:
        points = min(MAX_NOTE_POINTS, POINTS["note"] * len(found))
        parts.append((points, ("note", {"words": found})))
    parts.append(_rating(row))
    score = sum(p for p, _ in parts)
    reasons = [r for _, r in sorted(parts, key=lambda pr: -pr[0]) if r is not None]
    if row.health_passed_on is not None:
        reasons.append(("health", {"month": row.health_passed_on}))
    return score, reasons


def _words_points(query: MatchQuery, words: list[str], text: str) -> float:
    """The special needs and note words found word for word in `text` (her
    introduction): the first cut, before the fuzzy match of `_score`."""
    points = 0.0
    for need in query.needs:
        if any(_plain(n) in text for n in NEEDS.get(need, ((), ()))[1]):
            points += POINTS["need"]
    found = sum(1 for w in words if w in text)
    return points + min(MAX_NOTE_POINTS, POINTS["note"] * found)


#: the columns `_score` reads
_SCORED = (
    WorkerProfile.id,
    WorkerProfile.kinds,
    WorkerProfile.skills,
    WorkerProfile.years,
    WorkerProfile.jobs,
    WorkerProfile.places,
    WorkerProfile.pay,
    WorkerProfile.languages,
    WorkerProfile.intro,
    WorkerProfile.health_passed_on,
    WorkerProfile.reviews_count,
    WorkerProfile.reviews_average,
)


def _fair_order(scored: list[tuple[float, int, int, Any]], limit: int) -> list[Any]:
    """`limit` of (score, shown, id, item), fairly: repeatedly, among those within
    `BAND` of the best score left, the least shown (then the higher score, the lower
    id)."""
    left = sorted(scored, key=lambda s: (-s[0], s[2]))
    out: list[Any] = []
    while left and len(out) < limit:
        floor = left[0][0] - BAND
        near = [s for s in left if s[0] >= floor]
        pick = min(near, key=lambda s: (s[1], -s[0], s[2]))
        left.remove(pick)
        out.append(pick)
    return out


# --- public ------------------------------------------------------------------------------
async def shortlist(
    session: AsyncSession,
    query: MatchQuery,
    today: dt.date,
    *,
    limit: int = MAX_SHORTLIST,
    exclude: Collection[int] = (),
    record: bool = True,
    fair: bool = True,
) -> list[Match]:
    """At most `limit` (never more than `MAX_SHORTLIST`) workers who pass every hard
    filter, best first, near-equals the less shown first (`fair=False`: by score
    alone, for the benchmark's comparison), with the reasons. `exclude`: profile ids
    never to offer (already shown, declined, a failed trial). `record`: count them as
    shown (`Exposure`), in this transaction."""
    limit = max(0, min(limit, MAX_SHORTLIST))
    if limit == 0:
        return []
    exclude = frozenset(exclude)
    words = note_words(query.note)
    quick = []
    for partial, shown, pid, intro in await _candidates(session, query, today, exclude):
        quick.append((partial + _words_points(query, words, _plain(intro)), shown, pid))
    quick.sort(key=lambda q: (-q[0], q[1] if fair else 0, q[2]))
    shown_of = {pid: shown for _, shown, pid in quick}
    # the best, and those the fair order would take (near-equals, the less shown)
    top = [pid for _, _, pid in quick[:PREFILTER]]
    if fair:
        picked = _fair_order([(score, shown, pid, None) for score, shown, pid in quick], PREFILTER)
        top = list(dict.fromkeys([*top, *(pid for _, _, pid, _ in picked)]))
    scored = []
    if top:
        for row in await session.execute(select(*_SCORED).where(WorkerProfile.id.in_(top))):
            score, reasons = _score(row, query, words)
            scored.append((score, shown_of[row.id] if fair else 0, row.id, reasons))
    picked = _fair_order(scored, limit)
    ids = [p[2] for p in picked]
    profiles = {
        p.id: p
        for p in await session.scalars(
            select(WorkerProfile)
            .where(WorkerProfile.id.in_(ids))
            .options(selectinload(WorkerProfile.certificates))
        )
    }
    matches = [Match(profiles[p[2]], p[0], p[3]) for p in picked if p[2] in profiles]
    if record and matches:
        await record_shown(session, [m.profile.id for m in matches])
    return matches


async def record_shown(session: AsyncSession, profile_ids: Iterable[int]) -> None:
    """Count each worker as shown once more, now: one UPSERT (executemany) on SQLite and
    PostgreSQL, in the caller's transaction."""
    now = utcnow()
    rows = [{"profile_id": pid, "shown": 1, "last_shown_at": now} for pid in profile_ids]
    if not rows:
        return
    dialect = session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    stmt = insert(Exposure)
    stmt = stmt.on_conflict_do_update(
        index_elements=[Exposure.profile_id],
        set_={"shown": Exposure.shown + 1, "last_shown_at": stmt.excluded.last_shown_at},
    )
    await session.execute(stmt, rows)


def _offers(query: MatchQuery, dialect: str) -> Any:
    """The SQL condition for a worker with an `o:` tag for the query's kind of work, in
    a place that serves it, in its mode."""
    tag = aliased(WorkerTag)
    prefixes = [offer_prefix(query.kind, p[6:], query.mode) for p in query.place_tags()]
    offered = or_(*(_offer_range(tag.tag, prefix, dialect) for prefix in prefixes))
    return exists().where(tag.profile_id == WorkerProfile.id, offered)


async def fits(session: AsyncSession, query: MatchQuery, profile_id: int, today: dt.date) -> bool:
    """Whether one worker passes every hard filter of the query (a newly verified
    worker who fits an open request is offered to it): she offers its kind of work
    there in its mode, is visible, available on its dates and not at work elsewhere."""
    dialect = session.get_bind().dialect.name
    wp = WorkerProfile
    stmt = select(wp.id).where(
        wp.id == profile_id, _offers(query, dialect), *_hard_filters(query, today)
    )
    return (await session.scalar(stmt)) is not None


async def rank(
    session: AsyncSession,
    query: MatchQuery,
    today: dt.date,
    profile_ids: Collection[int],
    *,
    limit: int = MAX_SHORTLIST,
    record: bool = True,
) -> list[Match]:
    """Those of `profile_ids` who fit the query (`fits`), best first by the full score
    with its reasons (then the lower id), at most `limit` (never more than
    `MAX_SHORTLIST`). For a few given workers (newly verified ones offered to an open
    request, `handlers.chores`): one query for all of them, none of the tag ranking of
    `shortlist`. `record`: count them as shown (`Exposure`), in this transaction."""
    ids = list(dict.fromkeys(profile_ids))
    limit = max(0, min(limit, MAX_SHORTLIST))
    if not ids or limit == 0:
        return []
    dialect = session.get_bind().dialect.name
    wp = WorkerProfile
    words = note_words(query.note)
    rows = await session.execute(
        select(*_SCORED).where(
            wp.id.in_(ids), _offers(query, dialect), *_hard_filters(query, today)
        )
    )
    scored = []
    for row in rows:
        score, reasons = _score(row, query, words)
        scored.append((score, row.id, reasons))
    scored.sort(key=lambda s: (-s[0], s[1]))
    best = scored[:limit]
    profiles = {
        p.id: p
        for p in await session.scalars(
            select(wp).where(wp.id.in_([s[1] for s in best])).options(selectinload(wp.certificates))
        )
    }
    matches = [
        Match(profiles[pid], score, reasons) for score, pid, reasons in best if pid in profiles
    ]
    if record and matches:
        await record_shown(session, [m.profile.id for m in matches])
    return matches


async def sync_all_tags(session: AsyncSession, batch: int = 500) -> int:
    """Write every profile's `WorkerTag` rows (`WorkerRepo.sync_tags`), for profiles
    kept before matching read tags; returns how many profiles were read."""
    repo, after, count = WorkerRepo(session), 0, 0
    while True:
        profiles = list(
            await session.scalars(
                select(WorkerProfile)
                .where(WorkerProfile.id > after)
                .order_by(WorkerProfile.id)
                .limit(batch)
            )
        )
        if not profiles:
            return count
        for profile in profiles:
            await repo.sync_tags(profile)
        count += len(profiles)
        after = profiles[-1].id
