"""The measurements behind umapx's inverse-transform methods.

    python benchmarks/inverse_methods.py [--datasets mnist10k,fashion] [--dims 2,3,8]
        [--queries 1000] [--decoder] [--figure docs/inverse-compare.png]
        [--curve docs/inverse-tradeoff.png] [--replot benchmarks/results/inverse-methods-*.json]

Fits umapx once per dataset and embedding dimension (random_state=42), places held-out samples
with ``transform`` (``y = transform(x)``) and reconstructs them from ``y`` with every candidate,
scored with the measures of ``umapx.evaluation``: MSE, labels kept (10-NN classifier on the
training images), round trip ``|transform(x') - y|`` in embedding neighbour spacings (with the
model's ``transform_seed`` and, in "other seeds", the median over three other seeds),
novelty (distance to the nearest training image over the same for real held-out images).

Reference rows: the held-out images themselves (their round trip under other seeds is the
forward map's own reproducibility: no sample can be placed more reliably than that) and the
nearest training image (a copy).

Candidates (``k``: training samples blended per point):

* blend (umapx ``method="blend"``): weights ``phi(d_i) - phi(d_(k+1))`` with the model's curve;
  variants: raw weights ``phi(d_i)``, a Gaussian of the (k+1)-th distance, local-linear
  (weighted ridge on the embedding offsets, clipped);
* landing, all aiming at ``transform(x') = y``:

  - refine (umapx ``method="refine"``): damped Gauss-Newton steps on transform's starting point
    ``F(x) = sum mu_j e_j / sum mu_j`` over x's neighbours found with the model's index;
  - query corrected by transform: ``q <- q + y - transform(blend(q))``, three times (each
    sample's own landing error, measured with the real forward map);
  - drift field: the blend's landing error ``transform(blend(e_i)) - e_i`` at every training
    point, smoothed with the blend weights, subtracted from the query (``blend(y - drift(y))``);
  - LOO index: the blend over each training point's own ``transform`` (leave-one-out) instead
    of its embedding, so the pairs are consistent with the forward map;
  - fuzzy-graph candidates: Gauss-Newton as in refine, but with F over the blended samples
    and their ``graph_`` neighbours (gated continuously by the blend weights) instead of a
    search;
* detail (umapx ``detail=s``): residuals of the blended samples against their own neighbourhood
  means, projected away from the blended samples, scaled by ``s``; a prototype without the
  projection;
* MLP decoder (``--decoder``, minutes): a 2-hidden-layer ReLU network fitted on
  (embedding, data) pairs with Adam, numpy only.

``--figure`` draws the tutorial's 10 x 10 grid on Fashion-MNIST with the blend, refine, and
refine with detail=1; ``--curve`` the MSE / novelty / round-trip trade-off on the 2-d models.
Times are wall seconds per 1000 queries on this (shared) machine: provisional, and the numpy
prototypes' times are not comparable with the compiled methods'.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import warnings
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.datasets import as_float32, load  # noqa: E402

OTHER_SEEDS = (7, 8, 9)
DETAIL_LEVELS = (0.5, 1.0, 1.5)


# ------------------------------------------------------------------------------------------------
# Prototypes of the candidates that umapx does not ship (numpy)
# ------------------------------------------------------------------------------------------------


class Blender:
    """The k nearest embedded training points of each query and their blend weights."""

    def __init__(self, mapper, train, embedding=None):
        from umapx.inverse import EmbeddingIndex

        self.mapper, self.train = mapper, train
        self.embedding = (np.asarray(mapper.embedding_, np.float64) if embedding is None
                          else embedding)
        self.index = EmbeddingIndex(self.embedding, mapper.n_neighbors)
        self.low, self.high = train.min(axis=0), train.max(axis=0)

    def neighbours(self, points, k, kernel="umap"):
        from umapx.inverse import interpolation_weights

        dists, idx = self.index.query(np.asarray(points, np.float64), k + 1)
        if kernel == "umap":
            weights = interpolation_weights(dists, self.mapper.a_, self.mapper.b_)
        else:
            if kernel == "gaussian":
                weights = np.exp(-((dists[:, :-1] / (0.5 * dists[:, -1:] + 1e-12)) ** 2))
            else:  # raw curve
                weights = 1.0 / (1.0 + self.mapper.a_ * dists[:, :-1] ** (2 * self.mapper.b_))
            weights = (weights + 1e-300) / (weights + 1e-300).sum(axis=1, keepdims=True)
        return idx[:, :k], weights

    def blend(self, points, k, kernel="umap"):
        idx, weights = self.neighbours(points, k, kernel)
        return np.einsum("qk,qkd->qd", weights, self.train[idx])

    def local_linear(self, points, k):
        idx, weights = self.neighbours(points, k)
        out = np.empty((len(points), self.train.shape[1]))
        for q in range(len(points)):
            offsets = self.embedding[idx[q]] - points[q]
            design = np.hstack([np.ones((k, 1)), offsets])
            weighted = design.T * weights[q]
            gram = weighted @ design + 1e-2 * np.diag([0.0] + [1.0] * offsets.shape[1])
            out[q] = np.linalg.solve(gram, weighted @ self.train[idx[q]])[0]
        return np.clip(out, self.low, self.high)

    def detail_unprojected(self, points, k, amount):
        idx, weights = self.neighbours(points, k)
        own = self.train[self.mapper.knn_indices_[idx]].mean(axis=2)          # q, k, D
        residuals = self.train[idx] - own
        detail = np.einsum("qk,qkd->qd", weights, residuals)
        detail /= np.sqrt((weights**2).sum(axis=1, keepdims=True))
        base = np.einsum("qk,qkd->qd", weights, self.train[idx])
        return np.clip(base + amount * detail, self.low, self.high)


def leave_one_out_embedding(mapper):
    """``transform`` of every training sample as if it were new (itself not a neighbour)."""
    from umapx._jit import numba_threads
    from umapx._rng import row_keys
    from umapx.estimator import _weighted_mean_embedding
    from umapx.graph import transform_graph
    from umapx.layout import optimize_transform, prune_weak_edges

    state = mapper.fitted_state
    data = state.training_data
    k = state.n_neighbors
    rows = np.arange(len(data))
    with numba_threads(mapper.n_jobs):
        ind, dist = state.index.query(data, k + 1, epsilon=mapper._search_slack())
        keep = ind != rows[:, None]
        keep[keep.all(axis=1), -1] = False  # self not found: drop the farthest instead
        ind, dist = ind[keep].reshape(len(data), k), dist[keep].reshape(len(data), k)
        graph = transform_graph(ind, dist, k, mapper.local_connectivity, len(data))
        start = _weighted_mean_embedding(graph, mapper.embedding_)
        epochs = mapper._transform_epochs()
        graph = prune_weak_edges(graph, epochs, reference=1.0)
        return optimize_transform(
            start, mapper.embedding_, graph, n_epochs=epochs, a=state.a, b=state.b,
            repulsion_strength=mapper.repulsion_strength, learning_rate=mapper.learning_rate,
            negative_sample_rate=mapper.negative_sample_rate,
            row_keys=row_keys(mapper.transform_seed, ind)).astype(np.float64)


def drift_field_inverse(blender, points, k, drift):
    idx, weights = blender.neighbours(points, k)
    return blender.blend(points - np.einsum("qk,qkd->qd", weights, drift[idx]), k)


def graph_candidates_refine(blender, points, k, steps=3, damping=0.1, trust=0.1):
    """refine's Gauss-Newton steps, F over the blended samples and their fuzzy-graph neighbours
    (each gated by the blend weight that brought it in) instead of a neighbour search."""
    graph = blender.mapper.graph_.tocsr()
    idx, weights = blender.neighbours(points, k)
    out = np.einsum("qk,qkd->qd", weights, blender.train[idx])
    target = np.log2(blender.mapper.n_neighbors)
    for q in range(len(points)):
        gates = {}
        for c, w in zip(idx[q], weights[q]):
            if w <= 0:
                continue
            gates[c] = gates.get(c, 0.0) + w
            row = slice(graph.indptr[c], graph.indptr[c + 1])
            for j, g in zip(graph.indices[row], graph.data[row]):
                gates[j] = gates.get(j, 0.0) + w * g
        ids = np.fromiter(gates, np.int64)
        gate = np.fromiter(gates.values(), np.float64)
        rows, emb = blender.train[ids].astype(np.float64), blender.embedding[ids]
        x = out[q]
        for _ in range(steps):
            diff = x - rows
            d = np.sqrt((diff**2).sum(axis=1))
            low, high = 1e-12, max(d.max(), 1e-6) * 100
            for _ in range(60):  # sum gate * exp(-d / s) = log2(n_neighbors)
                sigma = np.sqrt(low * high)
                low, high = ((low, sigma) if (gate * np.exp(-d / sigma)).sum() > target
                             else (sigma, high))
            mu = gate * np.exp(-d / sigma)
            total = mu.sum()
            landing = mu @ emb / total
            unit = diff / np.maximum(d, 1e-12)[:, None]
            dsigma = sigma * (mu[:, None] * unit).sum(0) / (mu * d).sum()
            dmu = mu[:, None] * (-unit / sigma + d[:, None] * dsigma[None] / sigma**2)
            jacobian = (emb - landing).T @ dmu / total
            normal = jacobian @ jacobian.T
            normal += damping * np.trace(normal) / len(normal) * np.eye(len(normal))
            step = jacobian.T @ np.linalg.solve(normal, points[q] - landing)
            step *= min(1.0, trust * d.min() / max(np.linalg.norm(step), 1e-300))
            x = np.clip(x + step, blender.low, blender.high)
        out[q] = x
    return out


def fit_decoder(embedding, data, hidden=(128, 256), epochs=12, batch=256, rate=2e-3, seed=0):
    """An MLP decoder (ReLU, linear output, Adam on the MSE) in numpy; returns ``decode``."""
    rng = np.random.RandomState(seed)
    centre, scale = embedding.mean(0), embedding.std(0) + 1e-12
    inputs = ((embedding - centre) / scale).astype(np.float32)
    data = np.asarray(data, np.float32)
    sizes = [inputs.shape[1], *hidden, data.shape[1]]
    weights = [rng.normal(0, np.sqrt(2.0 / a), (a, b)).astype(np.float32)
               for a, b in zip(sizes[:-1], sizes[1:])]
    biases = [np.zeros(b, np.float32) for b in sizes[1:]]
    biases[-1] = data.mean(0)
    params = weights + biases
    first = [np.zeros_like(p) for p in params]
    second = [np.zeros_like(p) for p in params]
    t = 0
    for epoch in range(epochs):
        lr = rate * 0.5 * (1 + np.cos(np.pi * epoch / epochs))
        order = rng.permutation(len(data))
        inputs, data = inputs[order], data[order]
        for start in range(0, len(data), batch):
            rows = slice(start, start + batch)
            layers = [inputs[rows]]
            for i, (w, b) in enumerate(zip(weights, biases)):
                z = layers[-1] @ w + b
                layers.append(np.maximum(z, 0) if i < len(weights) - 1 else z)
            grad = 2 * (layers[-1] - data[rows]) / layers[-1].size
            grads_w, grads_b = [None] * len(weights), [None] * len(weights)
            for i in range(len(weights) - 1, -1, -1):
                grads_w[i], grads_b[i] = layers[i].T @ grad, grad.sum(0)
                if i:
                    grad = (grad @ weights[i].T) * (layers[i] > 0)
            t += 1
            for j, (p, g) in enumerate(zip(params, grads_w + grads_b)):
                first[j] = 0.9 * first[j] + 0.1 * g
                second[j] = 0.999 * second[j] + 0.001 * g * g
                p -= lr * (first[j] / (1 - 0.9**t)) / (np.sqrt(second[j] / (1 - 0.999**t)) + 1e-8)

    def decode(points):
        h = ((np.asarray(points) - centre) / scale).astype(np.float32)
        for i, (w, b) in enumerate(zip(weights, biases)):
            h = h @ w + b
            if i < len(weights) - 1:
                h = np.maximum(h, 0)
        return h

    return decode


# ------------------------------------------------------------------------------------------------
# Scoring
# ------------------------------------------------------------------------------------------------


class Judge:
    """The inverse measures of one model on held-out samples."""

    def __init__(self, mapper, train, train_labels, test, test_labels, points):
        from sklearn.neighbors import KNeighborsClassifier

        from umapx import evaluation

        self.evaluation = evaluation
        self.mapper, self.train, self.test, self.test_labels = mapper, train, test, test_labels
        self.points = points
        self.classifier = KNeighborsClassifier(n_neighbors=10).fit(train, train_labels)
        self.spacing = evaluation.embedding_spacing(mapper.embedding_)

    def placements(self, samples, seeds):
        seed = self.mapper.transform_seed
        try:
            out = []
            for s in seeds:
                self.mapper.set_params(transform_seed=s)
                out.append(np.asarray(self.mapper.transform(samples), np.float64))
            return out
        finally:
            self.mapper.set_params(transform_seed=seed)

    def __call__(self, samples):
        ev = self.evaluation
        samples = np.asarray(samples, np.float32)
        others = [np.linalg.norm(p - self.points, axis=1)
                  for p in self.placements(samples, OTHER_SEEDS)]
        return {
            "mse": ev.reconstruction_mse(self.test, samples),
            "labels": ev.label_preservation(samples, self.test_labels, self.classifier),
            "round_trip": ev.round_trip_error(self.mapper.transform, samples, self.points,
                                              self.spacing),
            "round_trip_other_seeds": float(np.median(np.median(others, axis=0))) / self.spacing,
            "novelty": ev.novelty_ratio(samples, self.test, self.train),
        }


def candidates(mapper, train, blender, k, dims, decoder):
    """(group, name, function of the points -> samples, compiled?) for every candidate."""
    inv = mapper.inverse_transform
    rows = [
        ("blend", f"blend, k={k} (umapx default)", lambda p: inv(p), True),
        ("blend", "blend, raw curve weights", lambda p: blender.blend(p, k, "raw"), False),
        ("blend", "blend, Gaussian weights", lambda p: blender.blend(p, k, "gaussian"), False),
        ("blend", "local-linear, clipped", lambda p: blender.local_linear(p, k), False),
        ("blend", f"blend, k={2 * k}", lambda p: inv(p, n_neighbors=2 * k), True),
        ("landing", f"refine, k={2 * k} (umapx method='refine')",
         lambda p: inv(p, method="refine"), True),
        ("landing", f"refine, k={k}", lambda p: inv(p, method="refine", n_neighbors=k), True),
    ]
    drift = {}

    def drift_field(points):
        if "field" not in drift:
            blends = blender.blend(blender.embedding, k).astype(np.float32)
            drift["field"] = np.asarray(mapper.transform(blends), np.float64) - blender.embedding
        return drift_field_inverse(blender, points, k, drift["field"])

    loo = {}

    def loo_index(points):
        if "blender" not in loo:
            loo["blender"] = Blender(mapper, train, leave_one_out_embedding(mapper))
        return loo["blender"].blend(points, k)

    def fixed_point(points, iterations=3):
        query = np.array(points, dtype=np.float64)
        for _ in range(iterations):
            landed = np.asarray(mapper.transform(blender.blend(query, k).astype(np.float32)))
            query += points - landed
        return blender.blend(query, k)

    rows += [
        ("landing", "query corrected by transform (3 iterations)", fixed_point, False),
        ("landing", "drift field (query shifted)", drift_field, False),
        ("landing", "LOO index (transform of training)", loo_index, False),
    ]
    if dims == 2:
        rows.append(("landing", "fuzzy-graph candidates + Gauss-Newton",
                     lambda p: graph_candidates_refine(blender, p, k), False))
    for level in DETAIL_LEVELS:
        rows.append(("detail", f"blend + detail={level:g}", lambda p, s=level: inv(p, detail=s),
                     True))
    for level in DETAIL_LEVELS:
        rows.append(("detail", f"refine + detail={level:g}",
                     lambda p, s=level: inv(p, method="refine", detail=s), True))
    rows += [("detail", f"blend + unprojected detail={s:g}",
              lambda p, s=s: blender.detail_unprojected(p, k, s), False) for s in (0.5, 1.0)]
    if decoder:
        rows.append(("decoder", "MLP decoder (numpy)", decoder, False))
    return rows


def curve_rows(mapper):
    """The trade-off sweep: blend and refine, k in (15, 30, 60), detail in (0, 0.5, 1, 1.5)."""
    inv = mapper.inverse_transform
    k = mapper.n_neighbors
    return [(method, size, level,
             lambda p, m=method, n=size, s=level: inv(p, method=m, n_neighbors=n, detail=s))
            for method in ("blend", "refine") for size in (k, 2 * k, 4 * k)
            for level in (0.0, 0.5, 1.0, 1.5)]


def evaluate(dataset, dims, queries, use_decoder, with_curve):
    import umapx

    train, train_labels, test, test_labels = as_float32(*load(dataset))
    test, test_labels = test[:queries], test_labels[:queries]
    mapper = umapx.UMAP(random_state=42, n_components=dims).fit(train)
    points = np.asarray(mapper.transform(test), np.float64)
    judge = Judge(mapper, train, train_labels, test, test_labels, points)
    blender = Blender(mapper, train)
    decoder = None
    if use_decoder:
        began = time.perf_counter()
        decode = fit_decoder(blender.embedding, train)
        print(f"  decoder fitted in {time.perf_counter() - began:.0f} s", file=sys.stderr)

        def decoder(p):
            return np.clip(decode(p), blender.low, blender.high)

    nearest = blender.index.query(points, 2)[1][:, 0]
    results = [{"group": "reference", "name": "held-out images themselves", **judge(test)},
               {"group": "reference", "name": "nearest training image (copy)",
                **judge(train[nearest])}]
    for group, name, function, compiled in candidates(mapper, train, blender,
                                                      mapper.n_neighbors, dims, decoder):
        function(points[:20])  # compile / build caches before timing
        began = time.perf_counter()
        samples = function(points)
        seconds = (time.perf_counter() - began) * 1000.0 / len(points)
        results.append({"group": group, "name": name, "s_per_1000": seconds,
                        "compiled": compiled, **judge(samples)})
        print(f"  {dataset} {dims}-d {name}: {_line(results[-1])}", file=sys.stderr)
    curve = []
    if with_curve:
        for method, size, level, function in curve_rows(mapper):
            curve.append({"method": method, "k": size, "detail": level,
                          **judge(function(points))})
    return results, curve


def _line(row):
    return (f"MSE {row['mse']:.4f} labels {row['labels']:.3f} round trip "
            f"{row['round_trip']:.2f} / {row['round_trip_other_seeds']:.2f} novelty "
            f"{row['novelty']:.2f}")


def print_table(dataset, dims, rows):
    print(f"\n{dataset}, {dims}-d\n")
    print("| candidate | MSE | labels kept | round trip | other seeds | novelty | s / 1000 |")
    print("|---|---|---|---|---|---|---|")
    for row in rows:
        time_cell = "-" if "s_per_1000" not in row else (
            f"{row['s_per_1000']:.3f}" + ("" if row["compiled"] else " (numpy)"))
        print(f"| {row['name']} | {row['mse']:.4f} | {row['labels']:.3f} | "
              f"{row['round_trip']:.2f} | {row['round_trip_other_seeds']:.2f} | "
              f"{row['novelty']:.2f} | {time_cell} |")


# ------------------------------------------------------------------------------------------------
# Figures
# ------------------------------------------------------------------------------------------------


def comparison_figure(path):
    """The tutorial's grid on Fashion-MNIST (all 70k images): blend, refine, refine + detail."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.gridspec import GridSpec

    import umapx
    from umapx import plot

    train, train_labels, test, test_labels = as_float32(*load("fashion"))
    data, labels = np.vstack([train, test]), np.concatenate([train_labels, test_labels])
    mapper = umapx.UMAP(random_state=42).fit(data)
    grid = plot.grid_points(plot.default_corners(mapper.embedding_), 10)
    panels = [("blend (default)", {}), ("method='refine'", {"method": "refine"}),
              ("method='refine', detail=1", {"method": "refine", "detail": 1.0})]
    figure = plt.figure(figsize=(20, 5.4))
    layout = GridSpec(10, 40, figure=figure, left=0.01, right=0.99, bottom=0.01, top=0.93,
                      wspace=0.08, hspace=0.08)
    scatter = figure.add_subplot(layout[:, :10])
    plot.points(mapper, labels=labels, ax=scatter)
    scatter.scatter(grid[:, 0], grid[:, 1], marker="x", c="k", s=12, linewidths=1, zorder=3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for panel, (title, options) in enumerate(panels):
            samples = mapper.inverse_transform(grid, **options)
            for index, sample in enumerate(samples):
                ax = figure.add_subplot(layout[index // 10, 10 * (panel + 1) + index % 10])
                ax.imshow(sample.reshape(28, 28), cmap="gray_r", vmin=0, vmax=1,
                          interpolation="nearest")
                ax.set(xticks=[], yticks=[])
                if index == 4:
                    ax.set_title(title, fontsize=11, loc="left")
    figure.savefig(path, dpi=110)
    print(f"figure written to {path}", file=sys.stderr)


def curve_figure(path, curves, references):
    """MSE against novelty and against round trip, per dataset (2-d models)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(2, len(curves), figsize=(6 * len(curves), 9), squeeze=False)
    markers = {"blend": "o", "refine": "s"}
    for column, (dataset, rows) in enumerate(curves.items()):
        today = references[dataset]
        for method in ("blend", "refine"):
            for size in sorted({r["k"] for r in rows}):
                line = [r for r in rows if r["method"] == method and r["k"] == size]
                for row_index, measure in enumerate(("novelty", "round_trip")):
                    ax = axes[row_index, column]
                    ax.plot([r["mse"] for r in line], [r[measure] for r in line],
                            marker=markers[method], label=f"{method}, k={size}",
                            linestyle="-" if method == "refine" else "--")
                    for r in line:
                        ax.annotate(f"{r['detail']:g}", (r["mse"], r[measure]), fontsize=7,
                                    xytext=(3, 3), textcoords="offset points")
        for row_index, (measure, title) in enumerate((("novelty", "novelty"),
                                                      ("round_trip", "round trip (spacings)"))):
            ax = axes[row_index, column]
            ax.axvline(today["mse"], color="grey", linewidth=0.8,
                       label="MSE of the default (blend, k=15)")
            if measure == "novelty":
                ax.axhspan(0.85, 1.15, color="green", alpha=0.08, label="target 0.85-1.15")
            else:
                ax.axhline(1.5, color="green", linewidth=0.8, label="target 1.5")
                ax.axhline(today["floor"], color="red", linewidth=0.8, linestyle=":",
                           label="held-out images, other transform seeds")
            ax.set(xlabel="reconstruction MSE", ylabel=title,
                   title=f"{dataset}, 2-d (point labels: detail)")
            handles, names = ax.get_legend_handles_labels()
            keep = [i for i, n in enumerate(names) if row_index == 0 or "k=" not in n]
            ax.legend([handles[i] for i in keep], [names[i] for i in keep], fontsize=8)
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    print(f"figure written to {path}", file=sys.stderr)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", default="mnist10k,fashion")
    parser.add_argument("--dims", default="2,3,8")
    parser.add_argument("--queries", type=int, default=1000)
    parser.add_argument("--decoder", action="store_true", help="also fit an MLP decoder (slow)")
    parser.add_argument("--figure", help="write the Fashion-MNIST grid comparison here")
    parser.add_argument("--curve", help="write the trade-off figure of the 2-d models here")
    parser.add_argument("--no-tables", action="store_true", help="figures only")
    parser.add_argument("--replot", metavar="JSON",
                        help="only redraw --curve from a results file of an earlier run")
    args = parser.parse_args(argv)
    warnings.filterwarnings("ignore", message=".*outside the support")
    if args.replot:
        saved = json.loads(Path(args.replot).read_text())
        curves = {key.rsplit("-", 1)[0]: value["curve"] for key, value in saved.items()
                  if value["curve"]}
        references = {}
        for dataset in curves:
            rows = saved[f"{dataset}-2"]["rows"]
            default = next(r for r in rows if "umapx default" in r["name"])
            references[dataset] = {"mse": default["mse"],
                                   "floor": rows[0]["round_trip_other_seeds"]}
        curve_figure(args.curve, curves, references)
        return

    everything, curves, references = {}, {}, {}
    if not args.no_tables or args.curve:
        for dataset in args.datasets.split(","):
            for dims in (int(d) for d in args.dims.split(",")):
                with_curve = bool(args.curve) and dims == 2
                rows, curve = evaluate(dataset, dims, args.queries, args.decoder and dims == 2,
                                       with_curve)
                everything[f"{dataset}-{dims}"] = {"rows": rows, "curve": curve}
                print_table(dataset, dims, rows)
                if with_curve:
                    curves[dataset] = curve
                    default = next(r for r in rows if "umapx default" in r["name"])
                    references[dataset] = {"mse": default["mse"],
                                           "floor": rows[0]["round_trip_other_seeds"]}
        out = ROOT / "benchmarks" / "results"
        out.mkdir(parents=True, exist_ok=True)
        target = out / f"inverse-methods-{time.strftime('%Y%m%d-%H%M%S')}.json"
        target.write_text(json.dumps(everything, indent=1))
        print(f"\nresults written to {target.relative_to(ROOT)}", file=sys.stderr)
    if args.curve:
        curve_figure(args.curve, curves, references)
    if args.figure:
        comparison_figure(args.figure)


if __name__ == "__main__":
    main()
