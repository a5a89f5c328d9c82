"""Questions: instant answers from the catalogue, or a person (issue 13).

    text no step expects ─ answer_typed ─┬─ a confident match .... its answer, "✖ That's
                                         │                         not it", "👤 Ask a person"
                                         ├─ courses or fairs ...... those (a search), the
                                         │   it names                likely questions below
                                         ├─ a weaker match ........ the top three questions
                                         └─ nothing ............... "👤 Ask a person"
    a question on a step that takes text (`maybe_question`): answered only when it reads
    as a question and matches confidently, with "✍ Use it as my answer" beside it

    ❓ Questions and help (QUESTIONS, every main menu; `/ask`) ─ type a question, or a
        topic (QUESTIONS_TOPIC) ─ its questions ─ an answer; "👤 Ask a person"
        (`handlers.ask.start_ticket`), "📨 My questions to the office" (`handlers.ask`)

None of these moves her: an answer is shown on the screen she is on, and "◀ Back to
where I was" asks that screen's question again, with everything she entered kept
(her form is not touched; the question she typed is kept on her row, `User.asked`, so
that "👤 Ask a person" carries it). Matching is `storage.faq_match`; the catalogue is
`storage/faq.yaml` with staff's entries (`storage.faq`).

A flood from one person is limited: at most `FLOOD_MOST` questions in `FLOOD_WINDOW`,
counted on her row (so across instances); beyond, she is told to wait or ask a person.
"""

from __future__ import annotations

import datetime as dt
import re

from handlers import typed
from handlers.context import Ctx
from handlers.danger import urgent
from handlers.replies import Button, Reply
from handlers.router import Invalid, Replies, Router, State
from storage.faq import Entry
from storage.faq_match import MAX_TEXT, Match
from storage.models import utcnow
from storage.workers import holds_id_number

router = Router(__name__)

QUESTIONS = router.state("QUESTIONS")
QUESTIONS_TOPIC = router.state("QUESTIONS_TOPIC")

#: the longest question kept for "👤 Ask a person" (characters: a ticket's most)
MAX_ASKED = 1000
#: her last typed texts kept for a ticket's context, and how much of each
RECENT = 5
RECENT_CHARS = 200
#: at most this many questions matched in this window, per person
FLOOD_MOST = 30
FLOOD_WINDOW = dt.timedelta(minutes=10)
#: the questions a weak match offers
OFFERED = 3
#: the topics listed (the shipped file's 12 and staff's "More questions", with room)
MAX_TOPICS = 16

# what makes a text read as a question: a question mark, a question word or particle
_QUESTION = re.compile(
    r"[?？]|(?:吗|嗎|呢|咩|未|冇|啊|呀|么|麼)\s*$"
    r"|多少|几多|幾多|几钱|幾錢|怎么|怎麼|怎样|怎樣|点样|點樣|点解|點解|为什么|為什麼|为何|"
    r"什么|什麼|乜嘢|哪里|哪裡|哪儿|边度|邊度|可不可以|可唔可以|能不能|要不要|使唔使|"
    r"有没有|有沒有|有冇|是不是|系唔系|係唔係|係咪|几时|幾時|何时|何時|如何|怎办|点算|點算"
    r"|^\s*(?:how|what|where|when|why|who|which|can|could|do|does|did|is|are|will|should|"
    r"may|am)\b",
    re.IGNORECASE,
)


# "转人工", "human please": she wants a person, not an answer
_PERSON = re.compile(
    r"转人工|轉人工|人工客服|人工服务|人工服務|找人工|真人|客服|找个人问|找個人問|找人问|"
    r"工作人员|工作人員|搵人|傾下|同人講|跟人说|跟人說|"
    r"\b(?:human|real person|a person|someone real|an agent|customer service|talk to someone|"
    r"speak to someone)\b",
    re.IGNORECASE,
)
# thanks, "OK", greetings: said to her, not asked
_COURTESY = re.compile(
    r"^(?:谢谢|謝謝|多谢|多謝|多谢晒|多謝晒|唔该|唔該|唔该晒|唔該晒|感谢|感謝|好的|好|好嘅|好啊|"
    r"明白|明白了|知道|知道了|收到|嗯|嗯嗯|哦|噢|ok|okay|okk|thanks|thank you|thx|ty|"
    r"你好|您好|hi|hello|hey|在吗|在嗎|喺度嗎|喺唔喺度|bye|再见|再見|拜拜)"
    r"[\s!！。.~～,，]*(?:你|您|晒|啦|喔|哦|呀|啊|a lot|so much|very much)?[\s!！。.~～]*$",
    re.IGNORECASE,
)


def wants_a_person(text: str) -> bool:
    """Whether `text` asks for a person ("转人工", "human please")."""
    return bool(_PERSON.search(text))


def courtesy(text: str) -> bool:
    """Whether `text` is thanks, an OK or a greeting: nothing to look up."""
    return bool(_COURTESY.match(text.strip()))


def looks_like_question(text: str) -> bool:
    """Whether `text` reads as a question (a question mark, a question word or particle
    in Chinese or Cantonese, or an English question's first word)."""
    return bool(_QUESTION.search(text))


# --- what she typed, kept for a ticket ---------------------------------------------------
def remember_typed(ctx: Ctx, state: State, text: str) -> None:
    """Keep `text` among her last `RECENT` texts (a ticket's context): only after she
    agreed to the privacy notice, never on a step that asks for personal data or a
    staff step, never an ID number."""
    if (
        ctx.user.consented_at is None
        or state.personal
        or state.staff
        or state.admin
        or holds_id_number(text)
    ):
        return
    ctx.user.recent = [*(ctx.user.recent or [])[-(RECENT - 1) :], text[:RECENT_CHARS]]


def _keep_asked(ctx: Ctx, text: str) -> None:
    """Keep her question for "👤 Ask a person" (`User.asked`): only after she agreed to
    the privacy notice (before, nothing she types is kept)."""
    if ctx.user.consented_at is not None:
        ctx.user.asked = text[:MAX_ASKED]


def _flooded(ctx: Ctx) -> bool:
    """Count one question on her row; True when she is over `FLOOD_MOST`."""
    now = utcnow()
    since = ctx.user.asked_since
    if since is None or now - since > FLOOD_WINDOW or now < since:
        ctx.user.asked_since, ctx.user.asked_count = now, 0
    ctx.user.asked_count = (ctx.user.asked_count or 0) + 1
    return ctx.user.asked_count > FLOOD_MOST


# --- matching ----------------------------------------------------------------------------
async def match(ctx: Ctx, text: str) -> Match:
    """The catalogue's entries `text` may ask, best first, hers (a job seeker's or a
    household's) before the other side's."""
    from handlers.onboarding import HOUSEHOLD, SEEKER

    matcher = await ctx.repos.faq.matcher()
    role = ctx.user.role if ctx.user.role in (SEEKER, HOUSEHOLD) and not ctx.is_admin else ""
    return matcher.match(text, role=role or "")


async def entry(ctx: Ctx, key: str) -> Entry:
    """The entry of `key`. Raises `Invalid` when there is none (gone since)."""
    found = (await ctx.repos.faq.matcher()).catalogue.by_key.get(key)
    if found is None:
        raise Invalid(ctx._("That question is no longer in the list. Please type it again."))
    return found


def fill(ctx: Ctx) -> dict[str, str]:
    """What an answer's placeholders say, from configuration."""
    from handlers import office

    _ = ctx._
    options = ctx.options
    hours = getattr(office, "hours_words", None)
    return {
        "office_phone": options.office_phone or _("ask us here (tap “👤 Ask a person”)"),
        "office_hours": hours(_, options) if hours else options.office_hours,
        "emergency": options.emergency_phone or "110",
    }


# --- screens -----------------------------------------------------------------------------
def _back(ctx: Ctx) -> Button:
    """ "◀ Back to where I was": her screen's question again (`stay`: never a screen's
    own ◀ Back, which may lead elsewhere)."""
    _ = ctx._
    if ctx.user.state in (QUESTIONS, QUESTIONS_TOPIC):
        return ctx.button(_("◀ Back"), "back")
    return ctx.button(_("◀ Back to where I was"), "stay")


@router.action("stay")
async def stay(ctx: Ctx, _arg: str) -> Replies:
    """Her screen's question again, as it was."""
    return await ctx.ask()


def safety_reply(ctx: Ctx, text: str) -> Reply:
    """Text that mentions danger (`handlers.danger.urgent`): the emergency line first,
    and a person at once (the ticket it opens is urgent: every admin is told)."""
    _ = ctx._
    lines = [
        "🚨 "
        + _(
            "If you or anyone is in danger right now, call the police: {police} (in Hong "
            "Kong and Macau: 999).",
            police=ctx.options.emergency_phone or "110",
        ),
        _(
            "Tap “🚨 Tell the programme office now” and every member of staff is told at "
            "once; they will answer you here."
        ),
    ]
    if ctx.options.office_phone:
        lines.append(
            _("You can also call the programme office: {phone}.", phone=ctx.options.office_phone)
        )
    tell = ctx.button(_("🚨 Tell the programme office now"), "ask_person", "urgent")
    return ctx.reply("\n".join(lines), [tell], [_back(ctx)])


def _ask_button(ctx: Ctx, *, fresh: bool = False) -> Button:
    """ "👤 Ask a person": with the question she just typed, or (`fresh`) a new one."""
    return ctx.button(ctx._("👤 Ask a person"), "ask_person", "new" if fresh else "")


def _title(ctx: Ctx, e: Entry) -> str:
    return "❓ " + e.title(ctx.user.lang)


def answer_reply(ctx: Ctx, e: Entry, *, guessed: bool, use_typed: str = "") -> Reply:
    """An answer: its question, the answer, and "✖ That's not it" (when `guessed` from
    what she typed), "👤 Ask a person", "◀ Back…". `use_typed`: she typed it on a step
    that takes text: a button to take it as her answer there instead."""
    _ = ctx._
    text = f"{_title(ctx, e)}\n\n{e.answer(ctx.user.lang, fill(ctx))}"
    rows: list[list[Button]] = []
    if use_typed:
        use = _("✍ Use “{text}” as my answer", text=_shown(use_typed))
        rows.append([ctx.button(use, "faq_use")])
    if guessed:
        rows.append([ctx.button(_("✖ That's not it"), "faq_not", e.key)])
    rows.append([_ask_button(ctx)])
    rows.append([_back(ctx)])
    return ctx.reply(text, *rows)


def choices_reply(ctx: Ctx, head: str, entries: list[Entry]) -> Reply:
    """Questions to choose from, then "👤 Ask a person" and "◀ Back…"."""
    rows = [[ctx.button(_title(ctx, e), "faq", e.key)] for e in entries]
    return ctx.reply(head, *rows, [_ask_button(ctx)], [_back(ctx)])


def no_answer_reply(ctx: Ctx, text: str) -> Reply:
    _ = ctx._
    head = _(
        "I don't have a ready answer for “{words}”. A person at the programme office can "
        "help: tap “👤 Ask a person”. Or type it in other words.",
        words=_quoted(text),
    )
    return ctx.reply(head, [_ask_button(ctx)], [_back(ctx)])


def _shown(text: str) -> str:
    """What she typed, short enough for a button's label."""
    return text if len(text) <= 20 else text[:19] + "…"


def _quoted(text: str) -> str:
    return text if len(text) <= 60 else text[:59] + "…"


async def answer_typed(ctx: Ctx, text: str) -> Replies:
    """Text on a screen that takes none: an answer, a search, questions to choose from,
    or a person (see the module's docstring). Her state and form stay as they are."""
    from handlers.onboarding import CHOOSE_ROLE, PRIVACY, onboarded

    _ = ctx._
    if urgent(text) and typed.words(text).tokens:  # before anything: a person, at once
        # kept even before she agreed: to protect her (PIPL art. 13(4)), for the ticket
        ctx.user.asked = text[:MAX_ASKED]
        return [safety_reply(ctx, text)]
    if wants_a_person(text) and onboarded(ctx):
        return await _to_a_person(ctx)
    if courtesy(text):
        head = _("You're welcome. Tap a button, or type your question whenever you like.")
        return [ctx.reply(head, [_ask_button(ctx, fresh=True)], [_back(ctx)])]
    getting_started = typed.NO_SEARCH | {PRIVACY, CHOOSE_ROLE}
    if not onboarded(ctx) or ctx.user.state in getting_started:
        # getting started: a plain question is answered (nothing is kept); anything
        # else is as before (a search, or "tap a button")
        if 1 < len(text) <= MAX_TEXT and looks_like_question(text):
            m = await match(ctx, text)
            if m.confident:
                return [answer_reply(ctx, m.ranked[0][0], guessed=False)]
        return await typed.search(ctx, text)
    if not typed.words(text).tokens:
        return await typed.search(ctx, text)  # emoji, punctuation: "tap a button"
    if len(text) > MAX_TEXT:
        _keep_asked(ctx, text)
        head = _(
            "That is long for a question (at most {most} characters). Please ask it in a "
            "few words, or tap “👤 Ask a person” to send it all to the programme office.",
            most=MAX_TEXT,
        )
        return [ctx.reply(head, [_ask_button(ctx)], [_back(ctx)])]
    if _flooded(ctx):
        _keep_asked(ctx, text)
        head = _(
            "You have asked many questions in a few minutes. Please wait a little before "
            "asking again, or tap “👤 Ask a person”."
        )
        return [ctx.reply(head, [_ask_button(ctx)], [_back(ctx)])]
    m = await match(ctx, text)
    found = await _search(ctx, text)
    _keep_asked(ctx, text)
    if m.confident and (looks_like_question(text) or not found):
        return [answer_reply(ctx, m.ranked[0][0], guessed=True)]
    likely = [[ctx.button(_title(ctx, e), "faq", e.key)] for e in m.top(OFFERED)]
    if found and looks_like_question(text) and likely:  # a question first, then courses
        head = _("Is your question one of these? Tap it to see the answer:")
        rows = [*likely, *([b] for b in found)]
        return [ctx.reply(head, *rows, [_ask_button(ctx)], [_back(ctx)])]
    if found:
        head = _("Courses and job fairs for “{words}”. Tap one to see it:", words=text)
        if m.confident:  # a question it answers well: first, then what search found
            rows = [*likely[:1], *([b] for b in found), *likely[1:]]
        else:
            rows = [*([b] for b in found), *likely]
        return [ctx.reply(head, *rows, [_ask_button(ctx)], [_back(ctx)])]
    if m.weak:
        head = _("Is your question one of these? Tap it to see the answer:")
        return [choices_reply(ctx, head, m.top(OFFERED))]
    return [no_answer_reply(ctx, text)]


async def _search(ctx: Ctx, text: str) -> list[Button]:
    """Courses and fairs `text` names (`handlers.typed`'s searchers), when it is short
    enough to be a search."""
    if len(text) > typed.MAX_WORDS:
        return []
    query = typed.what_she_asks(text)
    if not typed.words(query).tokens:
        return []
    return [b for find in typed.SEARCHERS for b in await find(ctx, query)]


#: steps whose text may well be a question and is always her answer there (the
#: question for a person, a problem report): `free_text`
FREE_TEXT: set[str] = {QUESTIONS, QUESTIONS_TOPIC}


def free_text(*states: str) -> None:
    """Declare steps where typed text is always the step's answer, even a question."""
    FREE_TEXT.update(states)


async def maybe_question(ctx: Ctx, state: State, text: str) -> Replies | None:
    """On a step that takes text: an answer when `text` reads as a question and
    matches one confidently, with a button to take it as her answer instead; None
    (it is her answer) otherwise, and always on staff steps and `FREE_TEXT` ones.
    A name, a phone number or a township does not read as a question."""
    if state.staff or state.admin or state.name in FREE_TEXT or holds_id_number(text):
        return None
    if urgent(text) and len(text) <= MAX_TEXT:  # danger, typed on any step: a person
        _keep_asked(ctx, text)
        reply = safety_reply(ctx, text)
        use = ctx._("✍ Use “{text}” as my answer", text=_shown(text))
        reply.buttons.insert(1, [ctx.button(use, "faq_use")])
        return [reply]
    if len(text) > MAX_TEXT or not looks_like_question(text):
        return None
    m = await match(ctx, text)
    if not m.confident:
        return None
    if _flooded(ctx):
        return None
    _keep_asked(ctx, text)
    return [answer_reply(ctx, m.ranked[0][0], guessed=True, use_typed=text)]


# --- the answer screens' buttons (on whatever screen showed them) -----------------------
@typed.found("faq")
async def show_entry(ctx: Ctx, key: str) -> Replies:
    """A question she chose: its answer."""
    return [answer_reply(ctx, await entry(ctx, key), guessed=False)]


@typed.found("faq_not")
async def not_it(ctx: Ctx, key: str) -> Replies:
    """ "That's not it": the next likely questions for what she typed, or a person."""
    _ = ctx._
    asked = ctx.user.asked or ""
    likely = (await match(ctx, asked)).top(OFFERED + 1) if asked else []
    others = [e for e in likely if e.key != key]
    if others:
        head = _("Sorry. Is it one of these? Or ask a person:")
        return [choices_reply(ctx, head, others[:OFFERED])]
    head = _("Sorry. A person at the programme office can answer it: tap “👤 Ask a person”.")
    return [ctx.reply(head, [_ask_button(ctx)], [_back(ctx)])]


@typed.found("ask_person")
async def ask_person(ctx: Ctx, arg: str) -> Replies:
    """ "👤 Ask a person": a ticket with what she just typed (`arg` "new": a question
    she is yet to type), coming back here after."""
    from handlers.ask import start_ticket

    asked = "" if arg == "new" else ctx.user.asked or ""
    ctx.user.asked = ""  # passed on, once
    back = ctx.user.state
    if back == QUESTIONS_TOPIC:
        back = QUESTIONS
    return await start_ticket(ctx, question=asked, back=back, urgent=arg == "urgent")


async def _to_a_person(ctx: Ctx) -> Replies:
    """She asked for a person ("转人工"): straight to writing her question."""
    from handlers.ask import start_ticket

    back = QUESTIONS if ctx.user.state == QUESTIONS_TOPIC else ctx.user.state
    return await start_ticket(ctx, question="", back=back)


@typed.found("faq_use")
async def use_typed(ctx: Ctx, _arg: str) -> Replies:
    """What she typed on a step that takes text was her answer there after all."""
    state = ctx.flows.states[ctx.user.state]
    asked = ctx.user.asked or ""
    if state.on_text is None or not asked:
        raise Invalid(ctx._("Please type your answer again."))
    return await state.on_text(ctx, asked)


# --- ❓ Questions and help ---------------------------------------------------------------
@router.prompt(QUESTIONS)
async def questions_home(ctx: Ctx) -> Replies:
    _ = ctx._
    catalogue = (await ctx.repos.faq.matcher()).catalogue
    text = "\n".join(
        [
            "❓ " + _("Questions and help"),
            "",
            _(
                "Type your question in your own words (for example “培训要钱吗” or “有冇宿舍”), "
                "or choose a topic:"
            ),
        ]
    )
    topics = [t for t in catalogue.topics if catalogue.of_topic(t)]
    label = catalogue.topic_label
    rows = [[ctx.button(label(t, ctx.user.lang), "topic", t)] for t in topics[:MAX_TOPICS]]
    rows.append([_ask_button(ctx, fresh=True)])
    rows.append([ctx.button(_("📨 My questions to the office"), "my_questions")])
    rows.append([ctx.button(_("◀ Main menu"), "home")])
    return [ctx.reply(text, *rows)]


@router.text(QUESTIONS)
async def question_typed(ctx: Ctx, text: str) -> Replies:
    return await answer_typed(ctx, text)


@router.button(QUESTIONS, "topic")
async def open_topic(ctx: Ctx, topic: str) -> Replies:
    catalogue = (await ctx.repos.faq.matcher()).catalogue
    if not catalogue.of_topic(topic):
        raise Invalid(ctx._("I don't recognise that button."))
    ctx.remember(questions_topic=topic)
    return await ctx.goto(QUESTIONS_TOPIC)


@router.prompt(QUESTIONS_TOPIC)
async def topic_questions(ctx: Ctx) -> Replies:
    _ = ctx._
    catalogue = (await ctx.repos.faq.matcher()).catalogue
    topic = str(ctx.form.get("questions_topic") or "")
    entries = catalogue.of_topic(topic)
    if not entries:
        return await ctx.goto(QUESTIONS)
    head = catalogue.topic_label(topic, ctx.user.lang) + "\n" + _("Tap a question:")
    rows = [[ctx.button(_title(ctx, e), "faq", e.key)] for e in entries[:30]]
    rows.append([_ask_button(ctx, fresh=True)])
    rows.append([ctx.button(_("◀ All topics"), "topics")])
    return [ctx.reply(head, *rows)]


@router.text(QUESTIONS_TOPIC)
async def topic_typed(ctx: Ctx, text: str) -> Replies:
    return await answer_typed(ctx, text)


router.goes("topics", QUESTIONS, QUESTIONS_TOPIC)


@router.button(QUESTIONS, "my_questions")
async def my_questions(ctx: Ctx, _arg: str) -> Replies:
    from handlers.ask import MY_TICKETS

    return await ctx.goto(MY_TICKETS)


@router.command("ask")
async def ask_command(ctx: Ctx, arg: str) -> Replies:
    """`/ask` opens ❓ Questions and help; `/ask <question>` answers it where she is."""
    from handlers.conversation import clean_text
    from handlers.onboarding import onboarded

    text = clean_text(arg)
    if text:
        return await answer_typed(ctx, text)
    if not onboarded(ctx):
        hint = ctx._("Type your question after /ask, for example: /ask 培训要钱吗")
        return [ctx.reply(hint), *await ctx.ask()]
    return await ctx.goto(QUESTIONS)
