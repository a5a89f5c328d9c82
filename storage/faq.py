"""The catalogue of questions and answers (issue 13).

It ships as `storage/faq.yaml`, a file staff can read and edit:

    topics:
      fees: {zh: 费用和免费培训, yue: 費用同免費培訓, en: Fees and free training}
    entries:
      - key: fees-free                 # a-z, 0-9 and '-', at most 40
        topic: fees
        q: {zh: [培训要钱吗？, …], yue: [培訓使唔使錢？, …], en: [Is training free?, …]}
        a: {zh: "…", yue: "…", en: "…"}

The first question of each language is the entry's title (its button). Answers may
hold `{office_phone}`, `{office_hours}` and `{emergency}`, filled from configuration
when shown (`Entry.answer`).

Staff extend it by import (`haoxin import faq FILE`: the same YAML shape, or a
spreadsheet with the columns of `COLUMNS`; `{key: KEY, active: false}` hides an entry;
a topic must be one of the shipped file's), and an admin turns a help-desk answer into
an entry (`FaqRepo.save`, `handlers.help_desk_faq`). Those are `FaqEntry` rows: a row
with the key of a shipped entry takes its place, and an inactive row hides it. Every
instance's matcher (`storage.faq_match`) rebuilds when the rows change
(`FaqRepo.version`).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import FaqEntry, utcnow

if TYPE_CHECKING:
    from storage.faq_match import Matcher

SHIPPED = Path(__file__).with_name("faq.yaml")
LANGUAGES = ("zh", "yue", "en")
#: whose question an entry is: anyone's, a job seeker's or worker's, a household's
WHO = ("", "seeker", "household")
#: the placeholders an answer may hold, filled when it is shown
PLACEHOLDERS = ("office_phone", "office_hours", "emergency")

KEY = re.compile(r"^[a-z0-9][a-z0-9-]{0,39}$")
#: the longest question (characters) and answer (characters: one Telegram message,
#: with room for the screen's own lines)
MAX_QUESTION = 300
MAX_ANSWER = 3000
#: questions of one entry in one language
MAX_QUESTIONS = 30
#: the most entries one import may hold, and the largest file (bytes)
MAX_ENTRIES = 2000
MAX_FILE = 2 * 1024 * 1024
#: a spreadsheet's columns: several questions in one cell, one per line (or `|`)
COLUMNS = (
    "key",
    "topic",
    *(f"question_{lang}" for lang in LANGUAGES),
    *(f"answer_{lang}" for lang in LANGUAGES),
)
_BRACES = re.compile(r"\{([^{}]*)\}")


class FaqError(ValueError):
    """A catalogue file or entry that cannot be taken: `problems` lists each, as
    `entry 3 (fees-free): why`."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems[:5]))
        self.problems = problems


@dataclass(frozen=True)
class Entry:
    """One question of the catalogue: its ways of being asked and its answer, per
    language (`zh`, `yue`, `en`). `source`: `file` (shipped), `import` or `desk`."""

    key: str
    topic: str
    questions: Mapping[str, tuple[str, ...]]
    answers: Mapping[str, str]
    source: str = "file"
    #: whose question it is (`seeker`, `household`; "": anyone's): the shipped file's
    #: `who` (staff's entries are for anyone)
    who: str = ""

    def title(self, lang: str) -> str:
        """Its first question in `lang` (else in another language: Chinese for
        Cantonese, in Traditional characters)."""
        for code in _fallbacks(lang):
            if self.questions.get(code):
                return _script(self.questions[code][0], code, lang)
        return self.key

    def answer(self, lang: str, fill: Mapping[str, str] | None = None) -> str:
        """Its answer in `lang` (or the nearest language it has), the placeholders
        filled from `fill` (missing ones from the programme's defaults: left out)."""
        text = ""
        for code in _fallbacks(lang):
            if self.answers.get(code):
                text = _script(self.answers[code], code, lang)
                break
        fill = fill or {}
        return _BRACES.sub(lambda m: fill.get(m.group(1), m.group(0)), text)

    def all_questions(self) -> Iterable[str]:
        for lang in LANGUAGES:
            yield from self.questions.get(lang, ())


@dataclass(frozen=True)
class Catalogue:
    """Topics (`{id: {lang: label}}`) and entries, in the file's order."""

    topics: Mapping[str, Mapping[str, str]]
    entries: tuple[Entry, ...]
    by_key: Mapping[str, Entry] = field(default_factory=dict)
    #: keys an import hides (`active: false`)
    hidden: tuple[str, ...] = ()

    def topic_label(self, topic: str, lang: str) -> str:
        labels = self.topics.get(topic, {})
        for code in _fallbacks(lang):
            if labels.get(code):
                return _script(labels[code], code, lang)
        return topic

    def of_topic(self, topic: str) -> list[Entry]:
        return [e for e in self.entries if e.topic == topic]


def _fallbacks(lang: str) -> tuple[str, ...]:
    return {"yue": ("yue", "zh", "en"), "en": ("en", "zh", "yue")}.get(lang, ("zh", "yue", "en"))


def _script(text: str, written: str, wanted: str) -> str:
    """Chinese written for `zh` shown to a Cantonese reader: in Traditional characters."""
    if wanted == "yue" and written == "zh":
        from locales import hong_kong

        return hong_kong(text)
    return text


# --- reading entries ------------------------------------------------------------------
def _texts(value: Any, where: str, problems: list[str], *, many: bool) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        items = [v for v in re.split(r"\n|\|", value)] if many else [value]
    elif isinstance(value, list) and many:
        items = value
    else:
        problems.append(f"{where}: not text")
        return ()
    out = []
    for item in items:
        if not isinstance(item, str | int | float) or isinstance(item, bool):
            problems.append(f"{where}: not text")
            continue
        text = str(item).strip()
        if text:
            out.append(text)
    return tuple(dict.fromkeys(out))


def entry_from(data: Any, where: str, problems: list[str], source: str = "file") -> Entry | None:
    """One entry from its mapping (`key`, `topic`, `q`, `a`), or None with its problems
    appended to `problems`."""
    if not isinstance(data, Mapping):
        problems.append(f"{where}: not a mapping of key, topic, q and a")
        return None
    before = len(problems)
    if not all(isinstance(data.get(f), str | None) for f in ("key", "topic")):
        problems.append(f"{where}: key and topic must be text")
        return None
    key = str(data.get("key") or "").strip().lower()
    where = f"{where} ({key})" if key else where
    if not KEY.match(key):
        problems.append(f"{where}: key must be 1–40 of a-z, 0-9 and '-'")
    topic = str(data.get("topic") or "").strip().lower()[:24]
    q, a = data.get("q") or {}, data.get("a") or {}
    if not isinstance(q, Mapping) or not isinstance(a, Mapping):
        problems.append(f"{where}: q and a must map zh, yue and en to texts")
        return None
    unknown = (set(q) | set(a)) - set(LANGUAGES)
    if unknown:
        problems.append(f"{where}: unknown languages {sorted(map(str, unknown))}")
    questions = {
        lang: _texts(q.get(lang), f"{where} q.{lang}", problems, many=True) for lang in LANGUAGES
    }
    answers = {}
    for lang in LANGUAGES:
        found = _texts(a.get(lang), f"{where} a.{lang}", problems, many=False)
        answers[lang] = found[0] if found else ""
    if not any(questions.values()):
        problems.append(f"{where}: no question")
    if not any(answers.values()):
        problems.append(f"{where}: no answer")
    for lang in LANGUAGES:
        if len(questions[lang]) > MAX_QUESTIONS:
            problems.append(f"{where} q.{lang}: more than {MAX_QUESTIONS} questions")
        if any(len(t) > MAX_QUESTION for t in questions[lang]):
            problems.append(f"{where} q.{lang}: a question over {MAX_QUESTION} characters")
        if len(answers[lang]) > MAX_ANSWER:
            problems.append(f"{where} a.{lang}: over {MAX_ANSWER} characters")
        for name in _BRACES.findall(answers[lang]):
            if name not in PLACEHOLDERS:
                problems.append(
                    f"{where} a.{lang}: unknown placeholder {{{name}}}; "
                    f"use {', '.join('{' + p + '}' for p in PLACEHOLDERS)}"
                )
    who = data.get("who") or ""
    if who not in WHO:
        problems.append(f"{where}: who must be one of {', '.join(w for w in WHO if w)}")
    if len(problems) > before:
        return None
    return Entry(key, topic, questions, answers, source, who)


def parse(data: Any, source: str = "file") -> Catalogue:
    """A catalogue from a loaded YAML document (`topics`, `entries`). Raises `FaqError`
    listing every problem (a key twice, a bad entry)."""
    problems: list[str] = []
    if isinstance(data, list):
        data = {"entries": data}
    if not isinstance(data, Mapping):
        raise FaqError(["the file must hold `entries:` (and optionally `topics:`)"])
    topics: dict[str, dict[str, str]] = {}
    given = data.get("topics") or {}
    if not isinstance(given, Mapping):
        raise FaqError(["`topics:` must map each topic id to its labels (zh, yue, en)"])
    for tid, labels in given.items():
        if isinstance(labels, Mapping):
            topics[str(tid)] = {str(k): str(v) for k, v in labels.items() if k in LANGUAGES}
        else:
            problems.append(f"topic {tid}: labels must map zh, yue and en to texts")
    raw = data.get("entries") or []
    if not isinstance(raw, list):
        raise FaqError(["`entries:` must be a list"])
    if len(raw) > MAX_ENTRIES:
        raise FaqError([f"more than {MAX_ENTRIES} entries"])
    entries: list[Entry] = []
    hidden: list[str] = []
    seen: set[str] = set()
    known_topics = set(topics) | (set(shipped().topics) if source != "file" else set())
    for n, item in enumerate(raw, 1):
        if isinstance(item, Mapping) and item.get("active") is False:  # hide an entry
            key = item.get("key")
            if not isinstance(key, str) or not KEY.match(key.strip().lower()):
                problems.append(f"entry {n}: key must be 1–40 of a-z, 0-9 and '-'")
            else:
                hidden.append(key.strip().lower())
            continue
        entry = entry_from(item, f"entry {n}", problems, source)
        if entry is not None and entry.topic not in known_topics:
            problems.append(
                f"entry {n} ({entry.key}): topic must be one of {', '.join(sorted(known_topics))}"
            )
            continue
        if entry is None:
            continue
        if entry.key in seen:
            problems.append(f"entry {n} ({entry.key}): the key is used twice")
            continue
        seen.add(entry.key)
        entries.append(entry)
    if problems:
        raise FaqError(problems)
    return Catalogue(topics, tuple(entries), {e.key: e for e in entries}, tuple(hidden))


def load(text: str, source: str = "file") -> Catalogue:
    """A catalogue from YAML text, read as every data file is (`storage.importer`: no
    anchors or aliases, so nothing expands; at most `MAX_NODES` values). Raises
    `FaqError`, naming the line and column of what cannot be read."""
    from storage.importer import DataFileError, _load_yaml

    try:
        data = _load_yaml(text)
    except DataFileError as exc:
        raise FaqError([str(exc)]) from exc
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise FaqError([f"not readable YAML{where}: {problem}"]) from exc
    return parse(data or {}, source)


@cache
def shipped() -> Catalogue:
    """The catalogue as shipped (`storage/faq.yaml`), read once."""
    return load(SHIPPED.read_text(encoding="utf-8"))


def from_rows(
    rows: Iterable[Mapping[str, Any]], source: str = "import", numbers: list[int] | None = None
) -> Catalogue:
    """Entries from a spreadsheet's rows (`COLUMNS`; questions one per line or
    separated by `|`). Raises `FaqError`, naming rows by `numbers` (the spreadsheet's
    row numbers; default: the header is row 1)."""
    entries = []
    rows = list(rows)
    shown = numbers or list(range(2, len(rows) + 2))
    for row in rows:
        get = {str(k).strip().lower(): v for k, v in row.items() if k is not None}
        entries.append(
            {
                "key": get.get("key"),
                "topic": get.get("topic"),
                "q": {lang: get.get(f"question_{lang}") for lang in LANGUAGES},
                "a": {lang: get.get(f"answer_{lang}") for lang in LANGUAGES},
            }
        )
    try:
        return parse({"entries": entries}, source)
    except FaqError as bad:

        def row_of(m: re.Match[str]) -> str:
            return f"row {shown[int(m.group(1)) - 1]}"

        raise FaqError([re.sub(r"^entry (\d+)", row_of, p) for p in bad.problems]) from bad


def read_catalogue(content: bytes, name: str, source: str = "import") -> Catalogue:
    """A catalogue from a file's bytes: `.yaml`/`.yml` (the shipped file's shape) or a
    spreadsheet (`.csv` in UTF-8 or GBK, `.xlsx`; `COLUMNS`). Raises `FaqError`, or
    `storage.tabular.TableError` for a spreadsheet that cannot be read."""
    if Path(name).suffix.lower() in (".yaml", ".yml"):
        if len(content) > MAX_FILE:
            raise FaqError([f"the file is over {MAX_FILE // 1024 // 1024} MiB"])
        try:
            text = content.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise FaqError(["the file is not UTF-8 text"]) from exc
        return load(text, source)
    from storage.tabular import read_bytes

    table = read_bytes(content, name)
    return from_rows([row.values for row in table.rows], source, [r.number for r in table.rows])


def _entry_of(row: FaqEntry) -> Entry | None:
    problems: list[str] = []
    data = {"key": row.key, "topic": row.topic, "q": row.questions, "a": row.answers}
    return entry_from(data, f"row {row.id}", problems, row.source)


def merged(base: Catalogue, rows: Iterable[FaqEntry]) -> Catalogue:
    """`base` with staff's rows: a row replaces the entry of its key (or is added at the
    end); an inactive row hides it."""
    entries = {e.key: e for e in base.entries}
    for row in rows:
        if not row.active:
            entries.pop(row.key, None)
            continue
        entry = _entry_of(row)
        if entry is not None:
            entries[row.key] = entry
    topics = dict(base.topics)
    return Catalogue(topics, tuple(entries.values()), dict(entries))


# --- staff's entries --------------------------------------------------------------------
@dataclass(frozen=True)
class Imported:
    """What an import did: `added` new keys, `replaced` keys it changed, `hidden`
    entries it hid."""

    added: int
    replaced: int
    hidden: int = 0


class FaqRepo:
    """Staff's entries of the catalogue (`FaqEntry`)."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def version(self) -> tuple[int, dt.datetime | None]:
        """How many rows, and the newest change: a matcher built for another version
        is out of date."""
        found = await self.session.execute(
            select(func.count(FaqEntry.id), func.max(FaqEntry.updated_at))
        )
        count, newest = found.one()
        return int(count or 0), newest

    async def rows(self) -> list[FaqEntry]:
        found = await self.session.scalars(select(FaqEntry).order_by(FaqEntry.id))
        return list(found)

    async def catalogue(self) -> Catalogue:
        """The shipped catalogue with staff's rows."""
        return merged(shipped(), await self.rows())

    async def matcher(self) -> Matcher:
        """The matcher of the catalogue as it is now (`storage.faq_match`): staff's
        rows are read and the matcher built only when they changed, here or on another
        instance (`version`); it is built in a worker thread (2,000 entries: seconds)."""
        import asyncio

        from storage.faq_match import Matcher, built, keep

        bind = self.session.bind
        where = str(getattr(bind, "url", "")) if bind is not None else ""
        count, newest = await self.version()
        version: tuple[object, ...] = ("shipped",) if count == 0 else (where, count, newest)
        found = built(version)
        if found is not None:
            return found
        catalogue = merged(shipped(), await self.rows()) if count else shipped()
        return keep(version, await asyncio.to_thread(Matcher, catalogue))

    async def save(
        self,
        *,
        key: str | None,
        topic: str,
        questions: Mapping[str, Iterable[str]],
        answers: Mapping[str, str],
        source: str,
        created_by: str,
    ) -> FaqEntry:
        """Add an entry, or replace the row of `key` (None: a new key, `desk-N`).
        `questions` maps languages to the ways it is asked (the first is its title),
        `answers` languages to the answer. Raises `FaqError` for an entry the catalogue
        cannot take (no question, no answer, too long, an unknown placeholder)."""
        problems: list[str] = []
        new_key = key or await self._free_key(source)
        data = {
            "key": new_key,
            "topic": topic,
            "q": {lang: list(qs) for lang, qs in questions.items()},
            "a": dict(answers),
        }
        entry = entry_from(data, "entry", problems, source)
        if entry is None:
            raise FaqError(problems)
        return await self._write(entry, created_by)

    async def _free_key(self, source: str) -> str:
        prefix = "desk" if source == "desk" else "staff"
        count, _newest = await self.version()
        n = count + 1
        while await self.session.scalar(select(FaqEntry.id).where(FaqEntry.key == f"{prefix}-{n}")):
            n += 1
        return f"{prefix}-{n}"

    async def _write(self, entry: Entry, created_by: str) -> FaqEntry:
        row = await self.session.scalar(select(FaqEntry).where(FaqEntry.key == entry.key))
        now = utcnow()
        if row is None:
            row = FaqEntry(key=entry.key, created_by=created_by, created_at=now)
            self.session.add(row)
        row.topic = entry.topic
        row.questions = {lang: list(qs) for lang, qs in entry.questions.items() if qs}
        row.answers = {lang: a for lang, a in entry.answers.items() if a}
        row.source = entry.source
        row.active = True
        row.updated_at = now
        await self.session.flush()
        return row

    async def import_catalogue(self, catalogue: Catalogue, actor: str) -> Imported:
        """Write every entry of an imported catalogue (all or nothing: the caller's
        transaction), and one audit entry of what it did."""
        from storage.models import AuditEntry

        known = set(await self.session.scalars(select(FaqEntry.key)))
        known |= set(shipped().by_key)
        added = replaced = 0
        for entry in catalogue.entries:
            if entry.key in known:
                replaced += 1
            else:
                added += 1
            await self._write(entry, actor)
        hidden = 0
        for key in catalogue.hidden:
            hidden += await self.hide(key, actor)
        self.session.add(
            AuditEntry(
                subject="faq",
                actor=actor,
                action="faq:import",
                before={},
                after={
                    "added": added,
                    "replaced": replaced,
                    "hidden": hidden,
                    "keys": [e.key for e in catalogue.entries][:200],
                },
            )
        )
        return Imported(added, replaced, hidden)

    async def hide(self, key: str, actor: str) -> bool:
        """Hide the entry of `key` (a shipped one too). False: no such entry."""
        entry = (await self.catalogue()).by_key.get(key)
        if entry is None:
            return False
        row = await self._write(entry, actor)
        row.active = False
        await self.session.flush()
        return True
