"""Where transformed points lose quality: umapx's transform taken apart stage by stage.

    python benchmarks/transform_stages.py [--datasets mnist10k,fashion] [--seeds 0,1,2]
                                          [--pixel-scales 1,255] [--umap-learn] [--anchor]
                                          [--variants "transform();lr=0.5;ref=0.5 lr=0.5"]
                                          [--jobs N] [--json FILE] [--summary-only]

For each dataset, pixel scale and seed, one seeded umapx fit, then the test set placed by
variants of the transform pipeline on that same fitted model (so that only the transform
differs). ``--fits`` names the fits (``default``, and variants, separated by ","; a variant is
paired by seed with the default fit when the results hold both): ``both`` moves both ends of
each sampled edge, as the layout does from 200,000 rows; ``attr=W`` weighs each head-only
attraction sample W (``umapx.layout.HEAD_ATTRACTION``); ``block-rows=N`` runs layout epochs in
blocks of N rows or more (``umapx.layout.BLOCK_ROWS``); ``umap-learn-layout`` replaces the
fitted embedding by umap-learn's layout of the same graph from the same start;
``umapx-layout-of-umap-learn`` by umapx's layout of umap-learn's own pruned graph from
umap-learn's own start (its seeded fit of the same data, shared with ``--anchor``). A variant
is a named one ("transform()", "start only", "umap-learn's schedule", "exact k-NN", "slack
0.06", "exact k-NN, start only") or settings ``key=value`` separated by spaces, the others as
``transform`` has them:

* ``lr``: the learning rate (the fit's is 1; ``transform`` takes half);
* ``ref``: the sampling reference (an edge of that membership or more is sampled every epoch;
  ``transform``: the model's, ``FittedState.transform_sampling_reference``; "largest": the
  call's largest membership, as in umap-learn);
* ``epochs``: epochs of the optimisation (``transform``: 100; 0 keeps the start);
* ``neg``: negative samples per attraction (the model's, 5);
* ``attr``: the weight of an attraction sample (``transform``: 1; the head-only fit: 2);
* ``knn``: the neighbours of the new points: ``approx`` (the model's search, default),
  ``wide`` (slack 0.06) or ``exact``.

Settings are separated by ";" in ``--variants`` (by "," when there is no ";": the older form).
``--umap-learn`` also places the test set with umap-learn's own transform on umapx's embedding
(umap-learn fitted on the same data for its neighbour index, its ``embedding_`` then replaced
by umapx's). ``--anchor`` fits umap-learn with the same seed and places the test set with its
own transform ("umap-learn's fit"): the paired reference. ``--jobs N`` runs N (dataset, scale,
seed) cases at once, each in a worker process of ``NUMBA_NUM_THREADS`` threads (set it, e.g. 2,
with N times it the cores). Prints, per dataset and scale, the mean (standard error) over seeds
of transform accuracy and trustworthiness@15 of the placed points (5,000 sampled test rows) of
each variant, its paired difference from "transform()" and from umap-learn's fit, and the
variant's placement CPU seconds (median; provisional, nothing here runs on a quiet machine).
Neighbour recall is against exact search. With more than one pixel scale, also each scale less
the smallest, paired by seed (fit trust, and transform()'s accuracy and placed trust); the same
for each fit variant less the default fit, and less umap-learn's fit where the default fits
ran with ``--anchor``.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
import warnings
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

NAMED = {
    "transform()": None,
    "start only": "epochs=0",
    "umap-learn's schedule": "lr=0.25 ref=largest",
    "exact k-NN": "knn=exact",
    "slack 0.06": "knn=wide",
    "exact k-NN, start only": "knn=exact epochs=0",
    # The older names of settings.
    "lr 1": "lr=1", "lr 0.5": "lr=0.5", "lr 0.25": "lr=0.25",
    "reference 0.5, lr 0.5": "ref=0.5 lr=0.5",
}
KEYS = ("lr", "ref", "epochs", "neg", "attr", "knn")
BASELINE, ANCHOR, UMAP_LEARN_TRANSFORM = "transform()", "umap-learn's fit", "umap-learn transform"


def parse_settings(name):
    """The settings of a variant's name (None: ``model.transform`` itself)."""
    spec = NAMED.get(name, name)
    if spec is None:
        return None
    settings = {}
    for item in spec.split():
        key, sep, value = item.partition("=")
        if not sep or key not in KEYS:
            raise SystemExit(f"unknown variant {name!r}: give one of {sorted(NAMED)} or "
                             f"key=value settings with keys {', '.join(KEYS)}")
        settings[key] = value
    return settings


def place(model, test, indices, dists, learning_rate=None, n_epochs=None, reference=None,
          negative_sample_rate=None, attraction=1.0):
    """The test set placed from the given neighbours, as ``UMAP.transform`` does; edges
    sampled relative to ``reference`` (None: the model's; "largest": the call's largest
    membership, as in umap-learn), each attraction sample of weight ``attraction``."""
    from umapx._rng import row_keys
    from umapx.estimator import _weighted_mean_embedding
    from umapx.graph import transform_graph
    from umapx.layout import optimize_transform, prune_weak_edges

    state = model.fitted_state
    graph = transform_graph(indices, dists, state.n_neighbors, model.local_connectivity,
                            state.n_samples)
    start = _weighted_mean_embedding(graph, state.embedding)
    n_epochs = model._transform_epochs() if n_epochs is None else n_epochs
    if n_epochs == 0:
        return start
    if reference is None:
        reference = state.transform_sampling_reference
    elif reference == "largest":
        reference = float(graph.data.max())
    return optimize_transform(
        start, state.embedding, prune_weak_edges(graph, n_epochs, reference=reference),
        n_epochs=n_epochs, a=state.a, b=state.b, repulsion_strength=model.repulsion_strength,
        learning_rate=model._transform_learning_rate() if learning_rate is None
        else learning_rate,
        negative_sample_rate=model.negative_sample_rate if negative_sample_rate is None
        else negative_sample_rate,
        row_keys=row_keys(model.transform_seed, indices), reference=reference,
        attraction=attraction)


def _default_epochs(state):
    """The layout epochs of a default fit (``n_epochs=None``) of the model's rows: umapx's and
    umap-learn's rule."""
    return 500 if state.n_samples <= 10_000 else 200


def with_umap_learn_layout(model, train, seed, check=False):
    """``model`` with its embedding replaced by umap-learn's layout (``optimize_layout_euclidean``,
    both ends moving, one thread, seeded by ``seed``) of the model's own pruned graph from its
    own start (the spectral start rebuilt as the fit drew it). ``check``: first assert that
    umapx's layout from that start reproduces the model's embedding."""
    from sklearn.utils import check_random_state

    from benchmarks.layout_variants import umap_learn_layout
    from umapx._rng import seed_from
    from umapx.init import initial_layout
    from umapx.layout import normalise_layout, optimize_layout, prune_weak_edges

    state = model.fitted_state
    random_state = check_random_state(seed)
    seed_from(random_state)  # the fit's k-NN seed, then its layout seed
    layout_seed = seed_from(random_state)
    start = normalise_layout(initial_layout("spectral", state.graph, state.n_components,
                                            random_state, data=train))
    n_epochs = _default_epochs(state)
    graph = prune_weak_edges(state.graph, n_epochs)
    if check:
        own = optimize_layout(start, graph, n_epochs=n_epochs, a=state.a, b=state.b,
                              repulsion_strength=1.0, learning_rate=1.0,
                              negative_sample_rate=5, seed=np.uint64(layout_seed))
        assert np.array_equal(own, state.embedding), "the start was not rebuilt as fitted"
    embedding = umap_learn_layout(start, graph, seed, n_epochs=n_epochs, a=state.a, b=state.b)
    return model._adopt(state.replace(embedding=np.ascontiguousarray(embedding, np.float32)))


_UMAP_LEARN_FITS = {}


def umap_learn_fit(key, train, seed):
    """umap-learn's seeded fit of ``train`` and what its layout started from: ``(model, pruned
    graph, start)`` (the graph and start captured as its ``optimize_layout_euclidean`` is
    called). Kept per ``key`` in this process, so that ``--anchor`` and the
    ``umapx-layout-of-umap-learn`` fit of one case share one umap-learn fit."""
    if key not in _UMAP_LEARN_FITS:
        import scipy.sparse
        import umap
        import umap.umap_ as reference

        captured = {}
        layout = reference.optimize_layout_euclidean

        def capture(head_embedding, tail_embedding, head, tail, n_epochs, n_vertices,
                    epochs_per_sample, *args, **kwargs):
            # The pruned graph's weights are max / epochs_per_sample; its symmetric fuzzy
            # graph (graph_, before pruning) gives them exactly.
            captured.update(start=head_embedding.copy(), head=head.copy(), tail=tail.copy())
            return layout(head_embedding, tail_embedding, head, tail, n_epochs, n_vertices,
                          epochs_per_sample, *args, **kwargs)

        reference.optimize_layout_euclidean = capture
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                model = umap.UMAP(random_state=seed).fit(train)
        finally:
            reference.optimize_layout_euclidean = layout
        fuzzy = model.graph_.tocsr()
        weights = np.asarray(fuzzy[captured["head"], captured["tail"]]).ravel()
        graph = scipy.sparse.csr_matrix((weights, (captured["head"], captured["tail"])),
                                        shape=fuzzy.shape, dtype=np.float32)
        _UMAP_LEARN_FITS.clear()
        _UMAP_LEARN_FITS[key] = (model, graph, captured["start"])
    return _UMAP_LEARN_FITS[key]


def with_layout_of_umap_learn_inputs(model, key, train, seed):
    """``model`` with its embedding replaced by umapx's layout of umap-learn's own pruned graph
    from umap-learn's own start (its seeded fit of the same data): what umapx's layout makes
    of umap-learn's inputs. The transform still searches umapx's index and graph."""
    from umapx._rng import seed_from
    from umapx.layout import optimize_layout

    state = model.fitted_state
    _, graph, start = umap_learn_fit(key, train, seed)
    random_state = np.random.RandomState(seed)
    seed_from(random_state)  # as the fit draws: its k-NN seed, then its layout seed
    n_epochs = _default_epochs(state)
    embedding = optimize_layout(start, graph, n_epochs=n_epochs, a=state.a, b=state.b,
                                repulsion_strength=1.0, learning_rate=1.0,
                                negative_sample_rate=5, seed=np.uint64(seed_from(random_state)))
    return model._adopt(state.replace(embedding=np.ascontiguousarray(embedding, np.float32)))


def fit_switches(fit):
    """The :mod:`umapx.layout` constants a fit variant sets for its fit: ``default`` and the
    umap-learn layouts none, ``both`` ``BOTH_ENDS_ROWS=0`` (both ends move whatever the
    rows), ``block-rows=N`` ``BLOCK_ROWS=N`` (more or fewer blocks an epoch), ``attr=W``
    ``HEAD_ATTRACTION=W`` (the weight of a head-only attraction; ``attr=2`` is the layout
    before session 11); several joined by "+" (``both+block-rows=1024``) set them all."""
    if fit in ("default", "umap-learn-layout", "umap-learn-layout-checked",
               "umapx-layout-of-umap-learn"):
        return {}
    switches = {}
    for part in fit.split("+"):
        key, _, value = part.partition("=")
        if part == "both":
            switches["BOTH_ENDS_ROWS"] = 0
        elif key == "block-rows" and value.isdigit() and int(value) > 0:
            switches["BLOCK_ROWS"] = int(value)
        elif key == "attr" and _positive(value):
            switches["HEAD_ATTRACTION"] = float(value)
        else:
            raise ValueError(f"unknown fit {fit!r}")
    return switches


def _positive(text):
    try:
        return float(text) > 0
    except ValueError:
        return False


def recall(found, exact):
    hits = sum(len(np.intersect1d(a, b)) for a, b in zip(found, exact))
    return hits / exact.size


def one_run(dataset, scale, seed, variants, with_umap_learn=False, anchor=False, fit="default",
            with_recall=True):
    """One case: its recall (against exact search; skipped with ``with_recall=False``) and,
    per variant, [transform accuracy, placed trust@15, CPU s].

    ``fit``: ``"default"``, or a variant of the fit (:func:`fit_switches`; the umap-learn
    layouts: :func:`with_umap_learn_layout`)."""
    from sklearn.neighbors import NearestNeighbors

    import umapx
    import umapx.layout
    from benchmarks.datasets import as_float32, load
    from umapx import evaluation

    switches = fit_switches(fit)
    train, train_labels, test, test_labels = load(dataset)
    train, test = as_float32(train * scale, test * scale)
    # A worker process runs several cases: the switches must not outlive this fit.
    saved = {name: getattr(umapx.layout, name) for name in switches}
    for name, value in switches.items():
        setattr(umapx.layout, name, value)
    try:
        model = umapx.UMAP(random_state=seed).fit(train)
    finally:
        for name, value in saved.items():
            setattr(umapx.layout, name, value)
    if fit.startswith("umap-learn-layout"):
        model = with_umap_learn_layout(model, train, seed, check=fit.endswith("checked"))
    elif fit == "umapx-layout-of-umap-learn":
        model = with_layout_of_umap_learn_inputs(model, (dataset, scale, seed), train, seed)
    state = model.fitted_state
    k = state.n_neighbors
    neighbours = {"approx": state.index.query(test, k, epsilon=model._search_slack()),
                  "wide": state.index.query(test, k, epsilon=0.06)}
    row = {"dataset": dataset, "pixel_scale": scale, "seed": seed, "fit": fit,
           "recall": None, "recall_wide": None}
    if with_recall or any((parse_settings(name) or {}).get("knn") == "exact"
                          for name in variants):
        exact_d, exact_i = NearestNeighbors(n_neighbors=k, algorithm="brute").fit(
            train).kneighbors(test)
        neighbours["exact"] = (exact_i.astype(np.int32), exact_d.astype(np.float32))
        row["recall"] = recall(neighbours["approx"][0], exact_i)
        row["recall_wide"] = recall(neighbours["wide"][0], exact_i)
    row.update({
        "fit_trust": [evaluation.trustworthiness(train, state.embedding), None],
        "variants": {}})
    placed = {}
    for name in variants:
        settings = parse_settings(name)
        started = time.process_time()
        if settings is None:
            placed[name] = model.transform(test)
        else:
            indices, dists = neighbours[settings.get("knn", "approx")]
            reference = settings.get("ref")
            placed[name] = place(
                model, test, indices, dists,
                learning_rate=float(settings["lr"]) if "lr" in settings else None,
                n_epochs=int(settings["epochs"]) if "epochs" in settings else None,
                reference=reference if reference in (None, "largest") else float(reference),
                negative_sample_rate=int(settings["neg"]) if "neg" in settings else None,
                attraction=float(settings.get("attr", 1.0)))
        row["variants"][name] = [None, None, time.process_time() - started]
    embedding = state.embedding
    if with_umap_learn or anchor:
        import umap

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            if with_umap_learn:
                other = umap.UMAP(n_epochs=10).fit(train)
                other.embedding_ = embedding.copy()
                other.n_epochs = None
                placed[UMAP_LEARN_TRANSFORM] = other.transform(test)
                row["variants"][UMAP_LEARN_TRANSFORM] = [None, None, None]
            if anchor:
                own = umap_learn_fit((dataset, scale, seed), train, seed)[0]
                placed[ANCHOR] = own.transform(test)
                row["fit_trust"][1] = evaluation.trustworthiness(train, own.embedding_)
                row["variants"][ANCHOR] = [
                    evaluation.transform_accuracy(own.embedding_, train_labels, placed[ANCHOR],
                                                  test_labels),
                    evaluation.trustworthiness(test, placed[ANCHOR]), None]
    for name, points in placed.items():
        if name == ANCHOR:
            continue
        row["variants"][name][:2] = [
            evaluation.transform_accuracy(embedding, train_labels, points, test_labels),
            evaluation.trustworthiness(test, points)]
    return row


def _case(arguments):
    try:
        return one_run(*arguments)
    except Exception as error:  # one failed case is reported, the others go on
        dataset, scale, seed = arguments[:3]
        return {"dataset": dataset, "pixel_scale": scale, "seed": seed,
                "error": f"{type(error).__name__}: {error}"}


def mean_se(values):
    values = [v for v in values if v is not None]
    if not values:
        return None, None
    mean = sum(values) / len(values)
    if len(values) < 2:
        return mean, None
    var = sum((v - mean) ** 2 for v in values) / (len(values) - 1)
    return mean, math.sqrt(var / len(values))


def _fmt(mean, se, sign=False):
    if mean is None:
        return "-"
    text = f"{mean:+.4f}" if sign else f"{mean:.4f}"
    if se is not None:
        flag = "*" if sign and abs(mean) > 2 * se else ""
        text += f" ({se:.4f}){flag}"
    return text


def summary(rows):
    """The tables: per dataset and scale, each variant's mean (s.e.) and paired differences."""
    lines = []
    groups = {}
    for row in rows:
        if "error" in row:
            lines.append(f"failed: {row}")
            continue
        groups.setdefault((row["dataset"], row["pixel_scale"], row.get("fit", "default")),
                          []).append(row)
    for (dataset, scale, fit), runs in sorted(groups.items()):
        seeds = sorted(r["seed"] for r in runs)
        trust = [r["fit_trust"][0] for r in runs]
        lines.append(f"\n{dataset}, pixels x{scale:g}, {fit} fit, {len(runs)} seeds {seeds}: "
                     f"fit trust@15 {_fmt(*mean_se(trust))} (min {min(trust):.4f}), recall "
                     f"{_fmt(*mean_se([r['recall'] for r in runs]))} (slack 0.06: "
                     f"{_fmt(*mean_se([r['recall_wide'] for r in runs]))})")
        fit_trust = [mean_se([r["fit_trust"][i] for r in runs]) for i in (0, 1)]
        if fit_trust[1][0] is not None:
            lines.append(f"  fit trust@15: umapx {_fmt(*fit_trust[0])}, umap-learn "
                         f"{_fmt(*fit_trust[1])}, paired difference " + _fmt(*mean_se(
                             [r["fit_trust"][0] - r["fit_trust"][1] for r in runs]), sign=True))
        lines.append(f"  {'variant':28s} {'transform acc':>18s} {'placed trust@15':>18s} "
                     f"{'acc - transform()':>20s} {'trust - transform()':>20s} "
                     f"{'acc - umap-learn':>20s} {'trust - umap-learn':>20s} {'CPU s':>6s}")
        names = list(runs[0]["variants"])
        for name in names:
            cells = []
            for measure in (0, 1):
                cells.append(_fmt(*mean_se([r["variants"][name][measure] for r in runs])))
            for other in (BASELINE, ANCHOR):
                for measure in (0, 1):
                    if other not in runs[0]["variants"] or name == other:
                        cells.append("-")
                        continue
                    cells.append(_fmt(*mean_se([
                        r["variants"][name][measure] - r["variants"][other][measure]
                        for r in runs]), sign=True))
            cpu = [r["variants"][name][2] for r in runs if r["variants"][name][2] is not None]
            cells.append(f"{np.median(cpu):.2f}" if cpu else "-")
            lines.append(f"  {name:28s} {cells[0]:>18s} {cells[1]:>18s} {cells[2]:>20s} "
                         f"{cells[3]:>20s} {cells[4]:>20s} {cells[5]:>20s} {cells[6]:>6s}")
    lines.extend(scale_pairs(groups))
    lines.extend(fit_pairs(groups))
    return "\n".join(lines)


_PAIRED_MEASURES = {
    "fit trust@15": lambda row: row["fit_trust"][0],
    "transform acc": lambda row: row["variants"][BASELINE][0],
    "placed trust@15": lambda row: row["variants"][BASELINE][1],
}


def scale_pairs(groups):
    """Lines of paired differences between pixel scales: for each dataset and fit with more
    than one scale, each other scale less the first (the smallest), over the seeds run at both,
    of fit trust@15 and of transform()'s accuracy and placed trust@15.

    In exact arithmetic the pipeline does not see the scale (every distance, sigma and rho
    scales with it); powers of two are exact in floating point too (bit-identical embeddings),
    so a difference here is what rounding does to the layout, and it should average out."""
    lines = []
    pairs = {}
    for (dataset, scale, fit), runs in groups.items():
        pairs.setdefault((dataset, fit), {})[scale] = {r["seed"]: r for r in runs}
    for (dataset, fit), by_scale in sorted(pairs.items()):
        if len(by_scale) < 2:
            continue
        first, *others = sorted(by_scale)
        for scale in others:
            seeds = sorted(set(by_scale[first]) & set(by_scale[scale]))
            if not seeds:
                continue
            lines.append(f"\n{dataset}, {fit} fit, pixels x{scale:g} less x{first:g} (paired "
                         f"by seed): " + _paired_cells(by_scale[scale], by_scale[first], seeds))
    return lines


_ANCHOR_MEASURES = {
    "fit trust@15": lambda row: row["fit_trust"][1],
    "transform acc": lambda row: row["variants"][ANCHOR][0],
    "placed trust@15": lambda row: row["variants"][ANCHOR][1],
}


def _paired_cells(runs, reference, seeds, reference_measures=None):
    """``measure difference (s.e.) [lower of n]`` of ``runs`` less ``reference`` (rows by
    seed) over ``seeds``; the reference's values taken by ``reference_measures`` (default:
    the same measures as the runs')."""
    reference_measures = reference_measures or _PAIRED_MEASURES
    cells = []
    for measure, value in _PAIRED_MEASURES.items():
        differences = [value(runs[s]) - reference_measures[measure](reference[s]) for s in seeds]
        lower = sum(d < 0 for d in differences)
        cells.append(f"{measure} {_fmt(*mean_se(differences), sign=True)} "
                     f"[{lower} of {len(seeds)} lower]")
    return ", ".join(cells)


def fit_pairs(groups):
    """Lines of paired differences between fits: for each dataset and scale, each fit variant
    less the default fit, over the seeds run with both (same data, same seed: only the fit
    differs), of fit trust@15 and of transform()'s accuracy and placed trust@15; and, where
    the default fits ran with ``--anchor``, each fit less umap-learn's fit of the same seed."""
    lines = []
    for (dataset, scale, fit), runs in sorted(groups.items()):
        reference = groups.get((dataset, scale, "default"))
        if fit == "default" or reference is None:
            continue
        by_seed = {r["seed"]: r for r in runs}
        reference = {r["seed"]: r for r in reference}
        seeds = sorted(set(by_seed) & set(reference))
        if seeds:
            lines.append(f"\n{dataset}, pixels x{scale:g}, {fit} fit less the default fit "
                         f"(paired by seed): " + _paired_cells(by_seed, reference, seeds))
        anchored = [s for s in seeds if ANCHOR in reference[s]["variants"]]
        if anchored:
            lines.append(f"{dataset}, pixels x{scale:g}, {fit} fit less umap-learn's fit "
                         f"(paired by seed): " + _paired_cells(by_seed, reference, anchored,
                                                               _ANCHOR_MEASURES))
    return lines


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", default="mnist10k,fashion")
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--pixel-scales", default="1,255")
    parser.add_argument("--umap-learn", action="store_true")
    parser.add_argument("--anchor", action="store_true",
                        help="also fit umap-learn with each seed (the paired reference)")
    parser.add_argument("--variants", default=None,
                        help="variants separated by ';' (default: the named ones)")
    parser.add_argument("--fits", default="default",
                        help="'default', 'both' (both ends of each edge move), "
                             "'block-rows=N' (layout blocks of N rows or more), "
                             "'umap-learn-layout' (see with_umap_learn_layout), with ','")
    parser.add_argument("--no-recall", action="store_true",
                        help="skip the exact search of the test set (the recall)")
    parser.add_argument("--jobs", type=int, default=1)
    parser.add_argument("--json", default=None, help="write each finished case to this file")
    parser.add_argument("--deadline", type=float, default=None,
                        help="seconds after which no new case starts")
    parser.add_argument("--summary-only", action="store_true")
    args = parser.parse_args(argv)
    if args.summary_only:
        print(summary(json.loads(Path(args.json).read_text())))
        return
    separator = ";" if args.variants and ";" in args.variants else ","
    variants = [BASELINE] + [v for v in (args.variants.split(separator) if args.variants
                                         else NAMED) if v and v != BASELINE]
    for name in variants:
        parse_settings(name)
    # Seed-major order: cases cut short by the deadline leave every dataset and scale alike.
    cases = [(dataset, float(scale), int(seed), variants, args.umap_learn, args.anchor, fit,
              not args.no_recall)
             for seed in args.seeds.split(",") for dataset in args.datasets.split(",")
             for scale in args.pixel_scales.split(",") for fit in args.fits.split(",")]
    rows, started = [], time.monotonic()

    def keep(row):
        rows.append(row)
        print(f"  {row}", file=sys.stderr, flush=True)
        if args.json:
            Path(args.json).write_text(json.dumps(rows, indent=1))

    if args.jobs == 1:
        for case in cases:
            if args.deadline is not None and time.monotonic() - started > args.deadline:
                break
            keep(_case(case))
    else:
        import concurrent.futures
        import multiprocessing

        context = multiprocessing.get_context("spawn")
        with concurrent.futures.ProcessPoolExecutor(args.jobs, mp_context=context) as pool:
            pending = {pool.submit(_case, case) for case in cases[:args.jobs]}
            queue = cases[args.jobs:]
            while pending:
                done, pending = concurrent.futures.wait(
                    pending, return_when=concurrent.futures.FIRST_COMPLETED)
                for future in done:
                    keep(future.result())
                    if queue and (args.deadline is None
                                  or time.monotonic() - started < args.deadline):
                        pending.add(pool.submit(_case, queue.pop(0)))
    print(summary(rows), flush=True)


if __name__ == "__main__":
    main()
