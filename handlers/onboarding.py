"""Onboarding: a greeting, then straight to what she came for.

(first contact or /start)
    ▼
GREETING ──continue, or a language (she reads on in it)──▶ the job seeker's menu
    (a household switches with "🔄 Change what I'm here for"; staff get their menu)

/start course_3 on first contact (a poster's link) ──▶ the course's card: the link
    implies a job seeker

a question for personal data (a sign-up, a fair registration: states declared
`personal`) ──▶ PRIVACY ──agree──▶ that question
                        └─decline──▶ everything about her erased (send /start again)

Courses, fairs and menus are public: they are open before she agrees to the privacy
notice, which is asked at the first personal question (PIPL: consent before personal
data is collected; nothing personal is asked or kept before it).
"""

from __future__ import annotations

from handlers.context import Ctx
from handlers.events import PAYLOAD_RE
from handlers.router import Invalid, Replies, Router
from locales import LANGUAGES, language_name, translator
from storage.models import utcnow
from storage.workers import read_code

router = Router(__name__)

PRIVACY_VERSION = 1

GREETING = router.state("GREETING")
PRIVACY = router.state("PRIVACY")
CHOOSE_ROLE = router.state("CHOOSE_ROLE")

SEEKER = "seeker"
HOUSEHOLD = "household"


def onboarded(ctx: Ctx) -> bool:
    """Past the greeting: she has a home menu (a role, or staff)."""
    return ctx.user.role is not None or ctx.is_admin


def consented(ctx: Ctx) -> bool:
    """She has agreed to the privacy notice."""
    return ctx.user.consented_at is not None


def deep_link_payload(ctx: Ctx, payload: str) -> str | None:
    """The payload if it is one of Haoxin's deep links (`course_3`, `fair_12`: a known
    prefix and a number), else None. Only such a payload is kept before she agrees to
    the privacy notice: anything else typed after /start could be personal."""
    if not PAYLOAD_RE.match(payload):
        return None
    prefix, _sep, ident = payload.rpartition("_")
    if prefix not in ctx.flows.deep_links:
        return None
    if ident.isdecimal() and len(ident) <= 9:
        return payload
    if prefix == "verify" and read_code(ident):  # a credential's code: nothing of hers
        return payload
    return None


async def begin(ctx: Ctx, payload: str) -> Replies:
    """/start, or anything on first contact: keep a deep link, then greet or go home."""
    if kept := deep_link_payload(ctx, payload):
        ctx.user.start_payload = kept
    if onboarded(ctx):
        return await open_home(ctx)
    if kept:  # a poster's link to a course or a fair: she is looking for training or
        # work; a credential's QR code: she is a household checking a worker
        ctx.user.role = HOUSEHOLD if kept.startswith("verify_") else SEEKER
        hello = ctx._(
            "Hello! I am Haoxin (好心), the assistant of the Good Heart home-services "
            "programme. Here is what you opened:"
        )
        return [ctx.reply(hello), *await open_home(ctx)]
    return await ctx.goto(GREETING)


def language_buttons(ctx: Ctx) -> list:
    return [ctx.button(language_name(code), "lang", code) for code in LANGUAGES]


@router.prompt(GREETING)
async def greet(ctx: Ctx) -> Replies:
    _ = ctx._
    text = _(
        "Hello! I am Haoxin (好心), the assistant of the Good Heart home-services "
        "programme.\n\nI can help you find free training and job fairs, find work as a "
        "maternity nurse, nanny or carer, or find a trusted helper for your home.\n\n"
        "Tap “Continue”, or the language you would like to read in."
    )
    return [ctx.reply(text, [ctx.button(_("Continue ▶"), "continue")], language_buttons(ctx))]


@router.button(GREETING, "continue")
async def carry_on(ctx: Ctx, _arg: str) -> Replies:
    return await _enter(ctx)


@router.button(GREETING, "lang")
async def carry_on_in(ctx: Ctx, code: str) -> Replies:
    """A language tapped on the greeting: she reads on in it (no second greeting)."""
    if code not in LANGUAGES:
        raise Invalid(ctx._("I don't recognise that button."))
    ctx.user.lang = code
    ctx._ = translator(code)
    return await _enter(ctx)


async def _enter(ctx: Ctx) -> Replies:
    """Her home menu: a job seeker's unless she is staff (most people who come are
    looking for training or work; a household switches from the menu)."""
    if ctx.user.role is None and not ctx.is_admin:
        ctx.user.role = SEEKER
    return await open_home(ctx)


def privacy_notice(ctx: Ctx) -> str:
    _ = ctx._
    return _(
        "🔒 Your privacy, in plain words\n\n"
        "• What we keep: your chat account on this app, your language, and what you "
        "type into our forms (such as your name, phone number and county).\n"
        "• Why: to sign you up for courses and job fairs, and to match workers with "
        "households.\n"
        "• Who sees it: programme staff. A household sees a worker's profile only after "
        "the worker agrees; phone numbers are shared only when both sides agree.\n"
        "• ID details, health checks and children's details are asked for separately, "
        "only when needed, with their own consent.\n"
        "• Delete everything at any time: send /delete_me."
    )


@router.prompt(PRIVACY)
async def ask_consent(ctx: Ctx) -> Replies:
    _ = ctx._
    return [
        ctx.reply(
            privacy_notice(ctx) + "\n\n" + _("Do you agree?"),
            [ctx.button(_("✅ I agree"), "agree"), ctx.button(_("✖ No, thank you"), "decline")],
        )
    ]


@router.button(PRIVACY, "agree")
async def agree(ctx: Ctx, _arg: str) -> Replies:
    """Consent recorded (time and version, the first time only); on to the question
    that needed it."""
    if ctx.user.consented_at is None:
        ctx.user.consented_at = utcnow()
        ctx.user.consent_version = PRIVACY_VERSION
    form = dict(ctx.form)
    after = form.pop("after_consent", None)
    ctx.user.form = form
    if after in ctx.flows.states and after != PRIVACY:
        return await ctx.goto(after)
    if ctx.user.role is None and not ctx.is_admin:
        return await ctx.goto(CHOOSE_ROLE)
    return await open_home(ctx)


@router.button(PRIVACY, "decline")
async def decline(ctx: Ctx, _arg: str) -> Replies:
    """Nothing is kept: the row that held her place in the conversation (her chat
    account, language, a deep link) is erased, as /delete_me would."""
    from handlers.danger import urgent
    from handlers.my_signups import erase_person

    asking = ctx.form.get("ask") if isinstance(ctx.form.get("ask"), dict) else {}
    said = str(asking.get("text") or ctx.user.asked or "")
    in_danger = bool(asking.get("urgent")) or (bool(said) and urgent(said))
    await erase_person(ctx.repos, ctx.user, ctx.options)
    ctx.deleted = True
    words = [
        ctx._(
            "That's fine: I have kept nothing about you. Without your agreement I "
            "can't sign you up for anything. If you change your mind, send /start."
        )
    ]
    if in_danger:  # she wrote that she is in danger: the line to call, again
        words.append(
            "🚨 "
            + ctx._(
                "If you or anyone is in danger right now, call the police: {police} (in Hong "
                "Kong and Macau: 999).",
                police=ctx.options.emergency_phone or "110",
            )
        )
    return [ctx.reply("\n\n".join(words))]


@router.prompt(CHOOSE_ROLE)
async def ask_role(ctx: Ctx) -> Replies:
    _ = ctx._
    return [
        ctx.reply(
            _("What would you like to do?"),
            [ctx.button(_("👩 I want training or work"), "role", SEEKER)],
            [ctx.button(_("🏠 I need a helper at home"), "role", HOUSEHOLD)],
        )
    ]


@router.button(CHOOSE_ROLE, "role")
async def choose_role(ctx: Ctx, role: str) -> Replies:
    if role not in (SEEKER, HOUSEHOLD):
        raise Invalid(ctx._("I don't recognise that button."))
    ctx.user.role = role
    return await open_home(ctx)


async def open_home(ctx: Ctx) -> Replies:
    """The person's main menu, or the course or fair a kept deep link points to."""
    from handlers.menus import home_state

    payload, ctx.user.start_payload = ctx.user.start_payload, None
    if payload:
        prefix, _sep, ident = payload.rpartition("_")
        opener = ctx.flows.deep_links.get(prefix)
        if opener is not None and ident:
            try:
                return await opener(ctx, ident)
            except Invalid as gone:  # a poster for a course that is no more: go home
                return [ctx.reply(gone.message), *await ctx.goto(home_state(ctx))]
    return await ctx.goto(home_state(ctx))
