"""Review's duplicate check (issue 24, Art 12) on a generated corpus, in this process.

    .venv/bin/python bench/duplicates.py [SIZE] [PLANTED]

SIZE generated projects (default 10,000), PLANTED of them reworded re-declarations of another
(default 300; ``services/review/tests/corpus.py``). Every planted one and as many without a
duplicate are looked up with the service's settings (``DUPLICATE_ACK_SCORE`` from review's
config.yaml): precision and recall of the matches flagged above it. The lookup's p50 / p99 (the
index's ``similar``, what ``submit_construction_plan`` runs once the index has caught up) beside
its baseline measured in the same run: the exhaustive scan that scores every project exactly (on
every ``EXHAUSTIVE_EVERY``-th lookup: it takes ~1 s each at 10,000), whose strong matches the
indexed lookup must also find (agreement)."""

import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from nxshared.settings import load_settings  # noqa: E402
from review import domain  # noqa: E402
from review.service import review_rules  # noqa: E402
from services.review.tests.corpus import generate, quality  # noqa: E402

EXHAUSTIVE_EVERY = 10


def duplicates(size=10_000, planted=300):
    rules = review_rules(load_settings(ROOT / "services" / "review", environ={}))
    corpus = generate(size, planted)
    index = domain.SimilarityIndex()
    started = time.perf_counter()
    for p in corpus.projects:
        index.put(domain.KnownProject(p.project_id, p.name, p.summary, p.unit, False, domain.CorpusStatus.DECLARED))
    built_s = time.perf_counter() - started
    threshold = float(rules.duplicate_ack_score)
    timed = {"indexed": [], "exhaustive": []}
    agree = []

    def lookup(project):
        bag = domain.terms(project.name, project.summary)
        args = (bag, project.project_id, rules.duplicate_list_max, float(rules.duplicate_list_score))
        t0 = time.perf_counter()
        found = index.similar(*args)
        timed["indexed"].append((time.perf_counter() - t0) * 1000)
        if len(timed["indexed"]) % EXHAUSTIVE_EVERY == 1:
            t1 = time.perf_counter()
            exact = index.similar_exhaustive(*args)
            timed["exhaustive"].append((time.perf_counter() - t1) * 1000)
            strong = {pid for pid, score in exact if score > threshold}
            agree.append(strong <= {pid for pid, score in found if score > threshold})
        return found

    measured = quality(corpus, lookup, threshold, negatives=planted)
    p = {name: _percentiles(values) for name, values in timed.items()}
    return {
        "projects": size,
        "planted": planted,
        "queries": measured.queries,
        "threshold": threshold,
        "precision": measured.precision,
        "recall": measured.recall,
        "flagged": measured.flagged,
        "true_positives": measured.true_positives,
        "index_build_s": built_s,
        "lookup_p50_ms": p["indexed"]["p50"],
        "lookup_p99_ms": p["indexed"]["p99"],
        "exhaustive_p50_ms": p["exhaustive"]["p50"],
        "exhaustive_p99_ms": p["exhaustive"]["p99"],
        "agreement": sum(agree) / len(agree),
    }


def _percentiles(values):
    cuts = statistics.quantiles(values, n=100)
    return {"p50": statistics.median(values), "p99": cuts[98]}


def row(d):
    return (
        f"| duplicate check (Art 12): {d['projects']:,} generated projects, {d['planted']} planted near-duplicates, "
        f"{d['queries']} lookups; flagged above {d['threshold']:.2f} | precision {d['precision']:.2f}, recall "
        f"{d['recall']:.2f}; lookup p50 / p99 {d['lookup_p50_ms']:.1f} / {d['lookup_p99_ms']:.1f} ms | "
        f"{d['lookup_p50_ms'] / d['exhaustive_p50_ms']:.2f}× the exhaustive scan's p50 "
        f"({d['exhaustive_p50_ms']:.0f} ms), same strong matches in {d['agreement']:.0%} | (issue 24) |"
    )


if __name__ == "__main__":
    result = duplicates(*(int(a) for a in sys.argv[1:3]))
    print(row(result))
    print(result)
