"""Parts 1–3 of the worker profile: who she is and the work she does and has done.

    WP_NAME ▶ WP_KINDS ▶ WP_SKILLS ▶ WP_YEARS ▶ WP_JOBS (▶ WP_JOB_KIND ▶ WP_JOB_WHERE
        ▶ WP_JOB_YEARS)*

Her name as on her ID card; the kinds of work she does, then add-on skills (toggles,
`handlers.worker_toggles`); her years in home services, then up to three past jobs,
each asked kind, place, years. The walk itself is `handlers.worker_form`.
"""

from __future__ import annotations

from typing import Any

from handlers.context import Ctx
from handlers.router import Invalid, Replies
from handlers.typed_values import number_in, terms_in
from handlers.validate import checked_name
from handlers.worker_form import (
    WP_JOB_KIND,
    WP_JOB_WHERE,
    WP_JOB_YEARS,
    WP_JOBS,
    WP_KINDS,
    WP_NAME,
    WP_PLACES,
    WP_SKILLS,
    WP_YEARS,
    drop_from_form,
    finish,
    heading,
    her_form,
    her_profile,
    nav,
    no_contact,
    router,
    save,
    set_in_form,
    short_text,
)
from handlers.worker_toggles import TOGGLES, done_button, need_one, picked, places_in, toggle_rows
from storage.vocab import CITIES, COUNTIES, KINDS_OF_WORK

MAX_JOBS = 3
MAX_YEARS = 50


# --- 1. name ----------------------------------------------------------------------------
@router.prompt(WP_NAME)
async def ask_name(ctx: Ctx) -> Replies:
    _ = ctx._
    profile = await her_profile(ctx)
    rows = []
    if profile.name:
        text = _(
            "Your name as on your ID card: is it {name}? Tap yes, or type it.", name=profile.name
        )
        rows.append([ctx.button(_("✅ Yes, that is my name"), "name_ok")])
    else:
        text = _("Your name as on your ID card? Please type it.")
    return [ctx.reply(heading(ctx, WP_NAME, text), *rows, *nav(ctx))]


@router.button(WP_NAME, "name_ok")
async def name_ok(ctx: Ctx, _arg: str) -> Replies:
    profile = await her_profile(ctx)
    if not profile.name:
        raise Invalid(ctx._("Please type your name."))
    return await finish(ctx, "name")


@router.text(WP_NAME)
async def got_name(ctx: Ctx, text: str) -> Replies:
    name = checked_name(ctx._, text)
    profile = await her_profile(ctx)
    return await finish(ctx, "name", await save(ctx, profile, name=name))


# --- 2. kinds of work and add-on skills -------------------------------------------------
@router.prompt(WP_KINDS)
async def ask_kinds(ctx: Ctx) -> Replies:
    text = ctx._("What work do you do? Tap every kind you do, then “✔ Done”.")
    rows = toggle_rows(ctx, WP_KINDS)
    return [ctx.reply(heading(ctx, WP_KINDS, text), *rows, done_button(ctx, WP_KINDS), *nav(ctx))]


@router.button(WP_KINDS, "done")
async def kinds_done(ctx: Ctx, _arg: str) -> Replies:
    chosen = need_one(ctx, WP_KINDS)
    profile = await her_profile(ctx)
    order = [t.id for t in TOGGLES[WP_KINDS] if t.id in chosen]
    await save(ctx, profile, kinds=order)
    set_in_form(ctx, pick=list(profile.skills or []))
    return await ctx.goto(WP_SKILLS)


@router.prompt(WP_SKILLS)
async def ask_skills(ctx: Ctx) -> Replies:
    _ = ctx._
    text = _("Do you also have one of these skills? Tap them, then “✔ Done”, or “None”.")
    return [
        ctx.reply(
            text,
            *toggle_rows(ctx, WP_SKILLS),
            [ctx.button(_("✖ None"), "none"), *done_button(ctx)],
            [ctx.button(_("◀ Back"), "back_kinds")],
        )
    ]


@router.button(WP_SKILLS, "done")
async def skills_done(ctx: Ctx, _arg: str) -> Replies:
    profile = await her_profile(ctx)
    chosen = picked(ctx, WP_SKILLS)
    await save(ctx, profile, skills=[t.id for t in TOGGLES[WP_SKILLS] if t.id in chosen])
    drop_from_form(ctx, "pick")
    return await finish(ctx, "kinds")


@router.button(WP_SKILLS, "none")
async def no_skills(ctx: Ctx, _arg: str) -> Replies:
    profile = await her_profile(ctx)
    await save(ctx, profile, skills=[])
    drop_from_form(ctx, "pick")
    return await finish(ctx, "kinds")


@router.button(WP_SKILLS, "back_kinds")
async def back_kinds(ctx: Ctx, _arg: str) -> Replies:
    profile = await her_profile(ctx)
    set_in_form(ctx, pick=list(profile.kinds or []))
    return await ctx.goto(WP_KINDS)


# --- 3. experience and past jobs --------------------------------------------------------
def _years(ctx: Ctx, text: str) -> int:
    years = number_in(text)
    if years is None:
        raise Invalid(ctx._("Please type a number of years, like 3 (0 if you are new to it)."))
    if not 0 <= years <= MAX_YEARS:
        raise Invalid(ctx._("Please type a number of years from 0 to {most}.", most=MAX_YEARS))
    return years


@router.prompt(WP_YEARS)
async def ask_years(ctx: Ctx) -> Replies:
    _ = ctx._
    profile = await her_profile(ctx)
    text = _("How many years have you worked in home services? Type a number, like 3.")
    rows = [[ctx.button(_("🌱 I am new to it (0)"), "new")]]
    if profile.years is not None:
        rows.append([ctx.button(_("Keep: {answer}", answer=profile.years), "keep")])
    return [ctx.reply(heading(ctx, WP_YEARS, text), *rows, *nav(ctx))]


async def _got_years(ctx: Ctx, years: int) -> Replies:
    profile = await her_profile(ctx)
    await save(ctx, profile, years=years)
    return await ctx.goto(WP_JOBS)


@router.text(WP_YEARS)
async def got_years(ctx: Ctx, text: str) -> Replies:
    return await _got_years(ctx, _years(ctx, text))


@router.button(WP_YEARS, "new")
async def new_to_it(ctx: Ctx, _arg: str) -> Replies:
    return await _got_years(ctx, 0)


@router.button(WP_YEARS, "keep")
async def keep_years(ctx: Ctx, _arg: str) -> Replies:
    return await ctx.goto(WP_JOBS)


def job_line(ctx: Ctx, job: dict[str, Any]) -> str:
    """A past job as she reads it: `Nanny / housekeeper in Guangzhou, 2 years`."""
    _ = ctx._
    what = _.term(KINDS_OF_WORK, job.get("what")) or "—"
    place = job.get("where") or ""
    where = _.term(COUNTIES, place) if COUNTIES.get(place) else _.term(CITIES, place)
    years = int(job.get("years") or 0)
    return _.ngettext(
        "{what} in {where}, {n} year",
        "{what} in {where}, {n} years",
        years,
        what=what,
        where=where or _.text(place),
    )


@router.prompt(WP_JOBS)
async def ask_jobs(ctx: Ctx) -> Replies:
    _ = ctx._
    profile = await her_profile(ctx)
    jobs = list(profile.jobs or [])
    lines = [_("Past jobs (at most {most}; you may skip this):", most=MAX_JOBS)]
    lines += [f"{i}. {job_line(ctx, job)}" for i, job in enumerate(jobs, 1)]
    rows = []
    if len(jobs) < MAX_JOBS:
        rows.append([ctx.button(_("➕ Add a past job"), "add_job")])
    rows += [
        [ctx.button(_("🗑 Remove job {n}", n=i), "drop_job", i - 1)] for i in range(1, len(jobs) + 1)
    ]
    rows.append([ctx.button(_("✔ No more"), "done")])
    rows.append([ctx.button(_("◀ Back"), "back_years")])
    return [ctx.reply("\n".join(lines), *rows)]


@router.button(WP_JOBS, "add_job")
async def add_job(ctx: Ctx, _arg: str) -> Replies:
    profile = await her_profile(ctx)
    if len(profile.jobs or []) >= MAX_JOBS:
        raise Invalid(ctx._("You have {most} past jobs already.", most=MAX_JOBS))
    set_in_form(ctx, job={})
    return await ctx.goto(WP_JOB_KIND)


@router.button(WP_JOBS, "drop_job")
async def drop_job(ctx: Ctx, arg: str) -> Replies:
    profile = await her_profile(ctx)
    jobs = list(profile.jobs or [])
    if not arg.isdecimal() or int(arg) >= len(jobs):
        raise Invalid(ctx._("I don't recognise that button."))
    del jobs[int(arg)]
    await save(ctx, profile, jobs=jobs)
    return await ctx.ask()


@router.button(WP_JOBS, "done")
async def jobs_done(ctx: Ctx, _arg: str) -> Replies:
    drop_from_form(ctx, "job")
    return await finish(ctx, "experience")


router.goes("back_years", WP_YEARS, WP_JOBS)
router.goes("back_jobs", WP_JOBS, WP_JOB_KIND, WP_JOB_WHERE, WP_JOB_YEARS)


@router.prompt(WP_JOB_KIND)
async def ask_job_kind(ctx: Ctx) -> Replies:
    _ = ctx._
    buttons = [ctx.button(_(t.label), "job_kind", t.id) for t in TOGGLES[WP_KINDS]]
    rows = [buttons[i : i + 2] for i in range(0, len(buttons), 2)]
    back = [ctx.button(_("◀ Back"), "back_jobs")]
    return [ctx.reply(_("A past job: what work was it?"), *rows, back)]


async def _job_kind(ctx: Ctx, kind: str) -> Replies:
    set_in_form(ctx, job={"what": kind})
    return await ctx.goto(WP_JOB_WHERE)


@router.button(WP_JOB_KIND, "job_kind")
async def job_kind(ctx: Ctx, arg: str) -> Replies:
    if arg not in {t.id for t in TOGGLES[WP_KINDS]}:
        raise Invalid(ctx._("I don't recognise that button."))
    return await _job_kind(ctx, arg)


@router.text(WP_JOB_KIND)
async def job_kind_typed(ctx: Ctx, text: str) -> Replies:
    found = terms_in(KINDS_OF_WORK, TOGGLES[WP_KINDS], text)
    if len(found) != 1:
        raise Invalid(ctx._("Please tap the kind of work it was."))
    return await _job_kind(ctx, found[0].id)


@router.prompt(WP_JOB_WHERE)
async def ask_job_where(ctx: Ctx) -> Replies:
    _ = ctx._
    buttons = [ctx.button(_(t.label), "job_where", t.id) for t in TOGGLES[WP_PLACES]]
    rows = [buttons[i : i + 3] for i in range(0, len(buttons), 3)]
    back = [ctx.button(_("◀ Back"), "back_jobs")]
    text = _("Where was it? Tap the place, or type it.")
    return [ctx.reply(text, *rows, back)]


async def _job_where(ctx: Ctx, where: str) -> Replies:
    job = dict(her_form(ctx).get("job") or {})
    if not job.get("what"):
        return await ctx.goto(WP_JOB_KIND)
    set_in_form(ctx, job={**job, "where": where})
    return await ctx.goto(WP_JOB_YEARS)


@router.button(WP_JOB_WHERE, "job_where")
async def job_where(ctx: Ctx, arg: str) -> Replies:
    if arg not in {t.id for t in TOGGLES[WP_PLACES]}:
        raise Invalid(ctx._("I don't recognise that button."))
    return await _job_where(ctx, arg)


@router.text(WP_JOB_WHERE)
async def job_where_typed(ctx: Ctx, text: str) -> Replies:
    found = places_in(text)
    if len(found) == 1:
        return await _job_where(ctx, found[0].id)
    where = short_text(ctx, text, 2, 20)
    no_contact(ctx, where)
    return await _job_where(ctx, where)


@router.prompt(WP_JOB_YEARS)
async def ask_job_years(ctx: Ctx) -> Replies:
    _ = ctx._
    back = [ctx.button(_("◀ Back"), "back_jobs")]
    text = _("How many years did you do that work? Type a number (0 if less than a year).")
    return [ctx.reply(text, back)]


@router.text(WP_JOB_YEARS)
async def got_job_years(ctx: Ctx, text: str) -> Replies:
    years = _years(ctx, text)
    job = dict(her_form(ctx).get("job") or {})
    if not job.get("what") or not job.get("where"):
        return await ctx.goto(WP_JOB_KIND)
    profile = await her_profile(ctx)
    jobs = [*(profile.jobs or []), {**job, "years": years}][:MAX_JOBS]
    await save(ctx, profile, jobs=jobs)
    drop_from_form(ctx, "job")
    return await ctx.goto(WP_JOBS)
