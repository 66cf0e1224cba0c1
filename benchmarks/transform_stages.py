"""Where transformed points lose quality: umapx's transform taken apart stage by stage.

    python benchmarks/transform_stages.py [--datasets mnist10k,fashion] [--seeds 0,1,2]
                                          [--pixel-scales 1,255] [--umap-learn]
                                          [--variants "transform(),lr 0.5,lr 0.25"]

For each dataset, pixel scale and seed, one seeded umapx fit, then the test set placed by
variants of the transform pipeline on that same fitted model (so that only the transform
differs): the neighbour search (approximate at the model's slack, at a wider slack, exact), the
start (membership-weighted mean of the neighbours' embeddings, no optimisation), the
optimisation's learning rate and sampling reference ("umap-learn's schedule": a quarter of the
rate, edges relative to the call's largest membership). ``--umap-learn`` also places the test
set with umap-learn's own transform on umapx's embedding (umap-learn fitted on the same data
for its neighbour index, its ``embedding_`` then replaced by umapx's). Prints medians over the
seeds; neighbour recall is against exact search. Quality only: nothing here is timed.
"""

from __future__ import annotations

import argparse
import sys
import warnings
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def place(model, test, indices, dists, learning_rate=None, n_epochs=None, reference=1.0):
    """The test set placed from the given neighbours, as ``UMAP.transform`` does; edges
    sampled relative to ``reference`` ("largest": the call's largest membership, as in
    umap-learn)."""
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
    if reference == "largest":
        reference = float(graph.data.max())
    return optimize_transform(
        start, state.embedding, prune_weak_edges(graph, n_epochs, reference=reference),
        reference=reference,
        n_epochs=n_epochs, a=state.a, b=state.b, repulsion_strength=model.repulsion_strength,
        learning_rate=model._transform_learning_rate() if learning_rate is None
        else learning_rate,
        negative_sample_rate=model.negative_sample_rate,
        row_keys=row_keys(model.transform_seed, indices))


def recall(found, exact):
    hits = sum(len(np.intersect1d(a, b)) for a, b in zip(found, exact))
    return hits / exact.size


def one_run(dataset, scale, seed, with_umap_learn, chosen=None):
    from sklearn.neighbors import NearestNeighbors

    import umapx
    from benchmarks.datasets import as_float32, load
    from umapx import evaluation

    train, train_labels, test, test_labels = load(dataset)
    train, test = as_float32(train * scale, test * scale)
    model = umapx.UMAP(random_state=seed).fit(train)
    state = model.fitted_state
    k = state.n_neighbors
    exact_d, exact_i = NearestNeighbors(n_neighbors=k, algorithm="brute").fit(train).kneighbors(
        test)
    exact_i, exact_d = exact_i.astype(np.int32), exact_d.astype(np.float32)
    approx_i, approx_d = state.index.query(test, k, epsilon=model._search_slack())
    wide_i, wide_d = state.index.query(test, k, epsilon=0.06)
    row = {"recall": recall(approx_i, exact_i), "recall_wide": recall(wide_i, exact_i)}
    variants = {
        "transform()": lambda: model.transform(test),
        "start only": lambda: place(model, test, approx_i, approx_d, n_epochs=0),
        "lr 1": lambda: place(model, test, approx_i, approx_d, learning_rate=1.0),
        "lr 0.5": lambda: place(model, test, approx_i, approx_d, learning_rate=0.5),
        "lr 0.25": lambda: place(model, test, approx_i, approx_d, learning_rate=0.25),
        "reference 0.5, lr 0.5": lambda: place(model, test, approx_i, approx_d,
                                               learning_rate=0.5, reference=0.5),
        "umap-learn's schedule": lambda: place(model, test, approx_i, approx_d,
                                               learning_rate=0.25, reference="largest"),
        "exact k-NN": lambda: place(model, test, exact_i, exact_d),
        "slack 0.06": lambda: place(model, test, wide_i, wide_d),
        "exact k-NN, start only": lambda: place(model, test, exact_i, exact_d, n_epochs=0),
    }
    unknown = set(chosen or ()) - set(variants)
    if unknown:
        raise SystemExit(f"unknown variants {sorted(unknown)}; choose from {sorted(variants)}")
    variants = {name: place_test() for name, place_test in variants.items()
                if chosen is None or name in chosen}
    if with_umap_learn:
        import umap

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            anchor = umap.UMAP(n_epochs=10).fit(train)
            anchor.embedding_ = state.embedding.copy()
            anchor.n_epochs = None
            variants["umap-learn transform"] = anchor.transform(test)
    embedding = state.embedding
    for name, placed in variants.items():
        row[name] = (evaluation.transform_accuracy(embedding, train_labels, placed, test_labels),
                     evaluation.trustworthiness(test, placed))
    return row


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", default="mnist10k,fashion")
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--pixel-scales", default="1,255")
    parser.add_argument("--umap-learn", action="store_true")
    parser.add_argument("--variants", default=None,
                        help="comma-separated names of the variants to run (default: all)")
    args = parser.parse_args(argv)
    chosen = None if args.variants is None else args.variants.split(",")
    for dataset in args.datasets.split(","):
        for scale in (float(s) for s in args.pixel_scales.split(",")):
            runs = []
            for seed in (int(s) for s in args.seeds.split(",")):
                runs.append(one_run(dataset, scale, seed, args.umap_learn, chosen))
                print(f"  {dataset} x{scale:g} seed {seed}: {runs[-1]}", file=sys.stderr,
                      flush=True)
            print(f"\n{dataset}, pixels x{scale:g}, medians over {len(runs)} seeds: recall "
                  f"{np.median([r['recall'] for r in runs]):.4f} (slack 0.06: "
                  f"{np.median([r['recall_wide'] for r in runs]):.4f})")
            for name in runs[0]:
                if name.startswith("recall"):
                    continue
                acc = np.median([r[name][0] for r in runs])
                trust = np.median([r[name][1] for r in runs])
                print(f"  {name:24s} transform acc {acc:.4f}  transform trust@15 {trust:.4f}",
                      flush=True)


if __name__ == "__main__":
    main()
