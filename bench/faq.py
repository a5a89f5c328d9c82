"""How well typed questions find their answer in the catalogue (issue 13).

    .venv/bin/python bench/faq.py [--file bench/faq_labelled.yaml] [--misses]

Over the labelled set (`bench/faq_labelled.yaml`: paraphrased, misspelled, pinyin,
Cantonese and English questions, each with the catalogue key it asks, or none) it
prints, for the dev half (the thresholds of `storage.faq_match` were set on it), the
held-out half and both:

- top-1 accuracy: the best match is the labelled entry (aim: 90%);
- top-3 recall: the labelled entry is among the three offered (aim: 98%);
- answered at once: a confident match that is right;
- confident-wrong: a confident match that is wrong, or any confident match for a
  question no entry answers (aim: under 3% of all questions);
- per kind of question, and the matching time per question (p50, p95, ms).

`--misses` lists every question whose top-1 is wrong.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections import defaultdict
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from storage.faq import shipped
from storage.faq_match import Matcher

LABELLED = Path(__file__).with_name("faq_labelled.yaml")


def _pct(n: int, of: int) -> str:
    return f"{100 * n / of:5.1f}% ({n}/{of})" if of else "   — (0/0)"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--file", type=Path, default=LABELLED)
    parser.add_argument("--misses", action="store_true")
    args = parser.parse_args()
    labelled = yaml.safe_load(args.file.read_text(encoding="utf-8"))
    catalogue = shipped()
    started = time.perf_counter()
    matcher = Matcher(catalogue)
    built = time.perf_counter() - started
    unknown = {row["key"] for row in labelled if row.get("key")} - set(catalogue.by_key)
    if unknown:
        print(f"labels name keys the catalogue lacks: {sorted(unknown)}")
        return 2
    stats: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    times: list[float] = []
    misses = []
    for row in labelled:
        text, key = str(row["text"]), row.get("key")
        split, kind = row.get("split", "dev"), row.get("kind", "?")
        t0 = time.perf_counter()
        m = matcher.match(text)
        times.append((time.perf_counter() - t0) * 1000)
        keys = [e.key for e, _s in m.ranked]
        top1 = keys[0] if keys else None
        top3 = [e.key for e in m.top(3)]
        for group in (split, "all", f"kind:{kind}"):
            s = stats[group]
            s["questions"] += 1
            if key:
                s["labelled"] += 1
                s["top1"] += top1 == key
                s["top3"] += key in top3
                s["at_once"] += m.confident and top1 == key
            else:
                s["none"] += 1
                s["none_quiet"] += not m.confident
            s["confident_wrong"] += m.confident and top1 != key
        if top1 != key:
            misses.append((split, kind, text, key, keys[:3], m.confident, m.ranked[:2]))
    print(
        f"catalogue: {len(catalogue.entries)} entries, "
        f"{sum(len(list(e.all_questions())) for e in catalogue.entries)} questions; "
        f"labelled: {len(labelled)} ({args.file.name}); index built in {built * 1000:.0f} ms"
    )
    print(f"{'':14}{'top-1':>18}{'top-3':>18}{'at once':>18}{'confident-wrong':>20}")
    for group in ("dev", "held", "all"):
        s = stats[group]
        print(
            f"{group:14}{_pct(s['top1'], s['labelled']):>18}{_pct(s['top3'], s['labelled']):>18}"
            f"{_pct(s['at_once'], s['labelled']):>18}"
            f"{_pct(s['confident_wrong'], s['questions']):>20}"
        )
    print("by kind (all):")
    for group in sorted(g for g in stats if g.startswith("kind:")):
        s = stats[group]
        if s["labelled"]:
            line = (
                f"  {group[5:]:12}top-1 {_pct(s['top1'], s['labelled'])}  "
                f"top-3 {_pct(s['top3'], s['labelled'])}"
            )
        else:
            line = f"  {group[5:]:12}left unanswered {_pct(s['none_quiet'], s['none'])}"
        print(line + f"  confident-wrong {_pct(s['confident_wrong'], s['questions'])}")
    q = statistics.quantiles(times, n=20)
    print(f"matching time per question: p50 {statistics.median(times):.2f} ms, p95 {q[18]:.2f} ms")
    print("aims: top-1 90%, top-3 98%, confident-wrong under 3%")
    if args.misses:
        for split, kind, text, key, keys, confident, ranked in misses:
            scores = ", ".join(f"{e.key} {s:.2f}" for e, s in ranked)
            mark = "CONFIDENT" if confident else ""
            print(f"  [{split}/{kind}] {text!r}: wanted {key}, got {keys} {scores} {mark}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
