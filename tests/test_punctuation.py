"""Chinese text uses full-width punctuation: in every translation and on the screens
that put data and labels together (cards, lists)."""

from __future__ import annotations

import re

import pytest
from babel.messages.pofile import read_po

from locales import catalog_path
from tests.catalogue import course, load
from tests.test_taps import Counted

# ASCII , : ; ? ! ( ) touching a Chinese character
HALF_WIDTH = re.compile(r"[\u3400-\u9fff][,:;?!()]|[,:;?!()][\u3400-\u9fff]")


@pytest.mark.parametrize("lang", ["zh", "yue"])
def test_translations_use_full_width_punctuation(lang):
    with catalog_path(lang).open("rb") as f:
        catalog = read_po(f)
    bad = []
    for message in catalog:
        texts = message.string if isinstance(message.string, tuple) else (message.string,)
        bad += [t for t in texts if t and HALF_WIDTH.search(t)]
    assert not bad, bad[:5]


@pytest.mark.parametrize("hint", ["zh", "yue"])
async def test_a_course_card_and_list_use_full_width_punctuation(app, hint):
    await load(app, [course("ys1", "好心月嫂初级班", "月嫂/母婴护理", fee_yuan=1800)])
    me = Counted(app.dispatcher, f"tg:15{len(hint)}", hint)
    await me.say("/start")
    await me.tap("▶" if hint == "zh" else "廣東話")
    await me.first()  # a kind of work
    screens = [me.text, *me.labels]
    await me.first()  # the course's card
    screens += [me.text, *me.labels]
    bad = [s for s in screens if HALF_WIDTH.search(s)]
    assert not bad, bad
