"""The guided forms of the catalogue: one question a screen, the answers kept in her
form as she gives them (`ctx.remember`), so nothing is lost on a restart or a wrong
answer. Used by `handlers.catalogue_course` and `handlers.catalogue_fair`.

A form is a list of `Step`s (a state each). It runs in one of two modes, kept in her
form under `cat_run`:

- **new**: each step in turn (`first` steps; a step may apply only `when`), then the
  summary (`summary` state), where any answer can be changed (and the steps not asked
  on the way, like the code) and the whole is saved (`on_create`). ◀ Back goes to the
  previous step, ✖ Cancel drops the answers.
- **edit** (`Form.start_edit`): the answers start as the course or fair is now (`was`
  keeps them too); only the steps in `ask` are asked, each with "Keep: …", then
  `on_edit` decides (save at once, or a confirmation first). ◀ Back goes to the
  previous step, or leaves for the course's or fair's screen.

    step ─typed or tapped─▶ read/check ─▶ kept ─▶ next step | summary (new) | on_edit

A typed answer goes through the step's `read` (parse and check), a tapped one (a
`pick`: an index into the step's picks, drawn again when pressed) through its `check`;
either raises `Invalid` with what to type, and the question is asked again.
"""

from __future__ import annotations

import copy
import inspect
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from handlers.context import Ctx
from handlers.lists import short
from handlers.replies import Button
from handlers.router import Invalid, Replies, Router
from handlers.vetting import staff_only

RUN = "cat_run"
Run = dict[str, Any]
Picks = Callable[[Ctx, Run], Awaitable[list[tuple[str, Any]]]]


@dataclass(frozen=True)
class Step:
    """One question, asked in `state`, whose answer is kept under `key` (JSON: dates
    as `2026-12-09`). `name`: the answer's name (summary, edit menu) and `ask`: the
    question, both catalog messages (`N_`); `show(ctx, value)`: an answer in words;
    `read(ctx, run, text)`: a typed answer (None: buttons only); `picks(ctx, run)`:
    (label, value) buttons; `check(ctx, run, value)`: a tapped answer checked;
    `then(run)`: answers that depend on this one brought in line; `first`: asked on
    the way (else only from the summary); `when(ctx)`: asked at all."""

    state: str
    key: str
    name: str
    ask: str
    show: Callable[[Ctx, Any], str | Awaitable[str]]
    read: Callable[[Ctx, Run, str], Awaitable[Any]] | None = None
    picks: Picks | None = None
    check: Callable[[Ctx, Run, Any], Awaitable[None]] | None = None
    then: Callable[[Run], None] | None = None
    first: bool = True
    when: Callable[[Ctx], bool] | None = None


def current_run(ctx: Ctx, form: str) -> Run:
    """Her run of `form` (raises `Invalid`, taking her to the list, when there is none:
    an old screen, a form she cancelled)."""
    run = ctx.form.get(RUN)
    if not isinstance(run, dict) or run.get("form") != form:
        from handlers.catalogue import CATALOGUE

        ctx.user.state = CATALOGUE
        raise Invalid(ctx._("That form is closed. Here are the courses and job fairs:"))
    # a copy: her form is written only when it is given a new value (`keep_run`), and a
    # change made inside the value she has would compare equal to it, and be lost
    return copy.deepcopy(run)


async def shown_answer(ctx: Ctx, step: Step, value: Any) -> str:
    """An answer in words (`Step.show`, which may have to look something up)."""
    shown = step.show(ctx, value)
    return await shown if inspect.isawaitable(shown) else shown


def keep_run(ctx: Ctx, run: Run) -> None:
    ctx.remember(**{RUN: run})


def drop_run(ctx: Ctx) -> None:
    ctx.user.form = {k: v for k, v in ctx.form.items() if k != RUN}


class Form:
    """A guided form's steps and summary, registered on `router` (every prompt and
    action `staff_only`). `save_label`: the summary's save button (a catalog
    message); `heading(ctx, run)`: the first line of each question;
    `leave(ctx, run)`: where ✖ Cancel and ◀ Back out of it go; `on_create(ctx, run)`
    saves a new one; `on_edit(ctx, run)` ends an edit."""

    def __init__(
        self,
        router: Router,
        name: str,
        steps: list[Step],
        *,
        summary: str,
        save_label: str,
        heading: Callable[[Ctx, Run], Awaitable[str]],
        leave: Callable[[Ctx, Run], Awaitable[Replies]],
        on_create: Callable[[Ctx, Run], Awaitable[Replies]],
        on_edit: Callable[[Ctx, Run], Awaitable[Replies]],
    ) -> None:
        self.name, self.steps, self.summary = name, steps, summary
        self.by_key = {s.key: s for s in steps}
        self.save_label, self.heading, self.leave = save_label, heading, leave
        self.on_create, self.on_edit = on_create, on_edit
        for step in steps:
            self._register(router, step)
        router.prompt(summary)(staff_only(self._summary))
        router.button(summary, "save")(staff_only(self._save))
        router.button(summary, "change")(staff_only(self._change))
        router.button(summary, "cancel")(staff_only(self._cancel))

    # --- starting ---------------------------------------------------------------------
    async def start_new(self, ctx: Ctx, answers: dict[str, Any] | None = None) -> Replies:
        """Start a new one (`answers`: what is known already, a base's staff's base)."""
        keep_run(ctx, {"form": self.name, "mode": "new", "answers": answers or {}})
        return await self._next(ctx, self.run_of(ctx))

    async def start_edit(
        self, ctx: Ctx, ident: int, answers: dict[str, Any], ask: list[str], action: str
    ) -> Replies:
        """Ask the steps `ask` about course or fair `ident`, whose answers now are
        `answers`; `action` names the change (audit, `on_edit`)."""
        run = {
            "form": self.name,
            "mode": "edit",
            "id": ident,
            "ask": ask,
            "action": action,
            "answers": dict(answers),
            "was": dict(answers),
        }
        keep_run(ctx, run)
        return await ctx.goto(self.by_key[ask[0]].state)

    async def given(self, ctx: Ctx, run: Run) -> str:
        """What an edit's steps were answered with, in words (`Start date: 9 Dec 2026 ·
        …`): said back when it could not be saved, so that nothing she gave is lost."""
        steps = [self.by_key[k] for k in run.get("ask", []) if k in self.by_key]
        answers = run.get("answers", {})
        parts = [
            ": ".join((ctx._(s.name), await shown_answer(ctx, s, answers.get(s.key))))
            for s in steps
        ]
        return " · ".join(parts)

    # --- moving -----------------------------------------------------------------------
    def run_of(self, ctx: Ctx) -> Run:
        """Her run of this form (`Invalid` when there is none)."""
        return current_run(ctx, self.name)

    def _asked(self, ctx: Ctx, run: Run) -> list[Step]:
        if run["mode"] == "edit":
            return [self.by_key[k] for k in run["ask"] if k in self.by_key]
        return [s for s in self.steps if s.first and (s.when is None or s.when(ctx))]

    async def _next(self, ctx: Ctx, run: Run, after: Step | None = None) -> Replies:
        asked = self._asked(ctx, run)
        if run["mode"] == "edit":
            later = asked[asked.index(after) + 1 :] if after in asked else asked
            return await (ctx.goto(later[0].state) if later else self.on_edit(ctx, run))
        for step in asked:
            if step.key not in run["answers"]:
                return await ctx.goto(step.state)
        return await ctx.goto(self.summary)

    async def _answered(self, ctx: Ctx, step: Step, value: Any) -> Replies:
        run = self.run_of(ctx)
        run["answers"][step.key] = value
        if step.then is not None:
            step.then(run)
        keep_run(ctx, run)
        return await self._next(ctx, run, after=step)

    # --- one step ---------------------------------------------------------------------
    def _register(self, router: Router, step: Step) -> None:
        async def prompt(ctx: Ctx) -> Replies:
            return await self._ask(ctx, step)

        async def typed(ctx: Ctx, text: str) -> Replies:
            run = self.run_of(ctx)
            if step.read is None:
                raise Invalid(ctx._("Please tap one of the buttons (or type its number)."))
            return await self._answered(ctx, step, await step.read(ctx, run, text))

        async def picked(ctx: Ctx, arg: str) -> Replies:
            run = self.run_of(ctx)
            picks = await self._picks(ctx, run, step)
            if not arg.isdecimal() or int(arg) >= len(picks):
                raise Invalid(ctx._("I don't recognise that button."))
            value = picks[int(arg)][1]
            if step.check is not None:
                await step.check(ctx, run, value)
            return await self._answered(ctx, step, value)

        async def back(ctx: Ctx, _arg: str) -> Replies:
            run = self.run_of(ctx)
            asked = self._asked(ctx, run)
            if run["mode"] == "new" and run.get("change"):
                return await ctx.goto(self.summary)
            if step in asked and asked.index(step) > 0:
                return await ctx.goto(asked[asked.index(step) - 1].state)
            return await self._cancel(ctx, "")

        router.prompt(step.state)(staff_only(prompt))
        router.text(step.state)(staff_only(typed))
        router.button(step.state, "pick")(staff_only(picked))
        router.button(step.state, "prev")(staff_only(back))
        router.button(step.state, "cancel")(staff_only(self._cancel))

    async def _picks(self, ctx: Ctx, run: Run, step: Step) -> list[tuple[str, Any]]:
        """The step's buttons: its own picks, then "Keep: …" when it has an answer."""
        picks = list(await step.picks(ctx, run)) if step.picks is not None else []
        answers = run["answers"]
        if step.key in answers:
            shown = short(await shown_answer(ctx, step, answers[step.key]), 40)
            picks.append((ctx._("Keep: {answer}", answer=shown), answers[step.key]))
        return picks

    async def _ask(self, ctx: Ctx, step: Step) -> Replies:
        _ = ctx._
        run = self.run_of(ctx)
        lines = [await self.heading(ctx, run)]
        asked = self._asked(ctx, run)
        if run["mode"] == "new" and step in asked:
            n, total = asked.index(step) + 1, len(asked)
            lines[0] += " " + _("(step {n} of {total})", n=n, total=total)
        lines.append(ctx._(step.ask))
        rows: list[list[Button]] = []
        for n, (label, _value) in enumerate(await self._picks(ctx, run, step)):
            rows.append([ctx.button(label, "pick", n)])
        if run["mode"] == "new" and not run.get("change"):
            rows.append([ctx.button(_("◀ Back"), "prev"), ctx.button(_("✖ Cancel"), "cancel")])
        else:
            rows.append([ctx.button(_("◀ Back"), "prev")])
        return [ctx.reply("\n".join(lines), *rows)]

    # --- the summary ------------------------------------------------------------------
    async def _summary(self, ctx: Ctx) -> Replies:
        _ = ctx._
        run = self.run_of(ctx)
        if run["mode"] != "new":
            return await self._cancel(ctx, "")
        run.pop("change", None)
        keep_run(ctx, run)
        answers = run["answers"]
        steps = [s for s in self.steps if s.when is None or s.when(ctx)]
        lines = [await self.heading(ctx, run), _("Please check, then save:")]
        lines += [
            "· " + ": ".join((ctx._(s.name), await shown_answer(ctx, s, answers.get(s.key))))
            for s in steps
        ]
        changes = [ctx.button("✏ " + ctx._(s.name), "change", s.key) for s in steps]
        rows = [[ctx.button(ctx._(self.save_label), "save")]]
        rows += [changes[i : i + 2] for i in range(0, len(changes), 2)]
        rows.append([ctx.button(_("✖ Cancel"), "cancel")])
        return [ctx.reply("\n".join(lines), *rows)]

    async def _change(self, ctx: Ctx, arg: str) -> Replies:
        run = self.run_of(ctx)
        step = self.by_key.get(arg)
        if step is None or (step.when is not None and not step.when(ctx)):
            raise Invalid(ctx._("I don't recognise that button."))
        run["change"] = True
        keep_run(ctx, run)
        return await ctx.goto(step.state)

    async def _save(self, ctx: Ctx, _arg: str) -> Replies:
        run = self.run_of(ctx)
        for step in self._asked(ctx, run):
            if step.key not in run["answers"]:  # not expected: each was asked in turn
                return await ctx.goto(step.state)
        return await self.on_create(ctx, run)

    async def _cancel(self, ctx: Ctx, _arg: str) -> Replies:
        run = self.run_of(ctx)
        drop_run(ctx)
        replies = []
        if run["mode"] == "new":
            replies.append(ctx.reply(ctx._("Stopped. Nothing was saved.")))
        return replies + await self.leave(ctx, run)
