"""Supervised fits over many seeds in one process, one library: the seed spread of the target
order (``evaluation.target_order``) and of the transform's quality, and umapx variants of the
supervised layout and of the transform measured on the same seeds.

    python benchmarks/regression_seeds.py LIBRARY OUT.json SEEDS [DATASET] [MODE] [OPTIONS]

``LIBRARY``: ``umapx`` or ``umap-learn``; ``SEEDS``: comma-separated; ``DATASET``: ``digits``
(default), ``mnist10k``, ``fashion``; ``MODE``: ``regression`` (default; ``target_metric="l1"``,
the target each image's mean intensity, as ``run.py variants``), ``ordinal``,
``categorical`` (the digit labels), ``plain`` (no target). ``OPTIONS``: a JSON object of
UMAP parameters; umapx variants (internals patched for the experiment) as keys with a
leading underscore: ``_fit_lr`` (learning rate of supervised layouts only), ``_epochs`` (the
fit's epochs), ``_tlr`` (the transform's rate relative to the fit's), ``_tlr_alt`` /
``_tref_alt`` (also place the test set at this transform rate / sampling reference, see
``FittedState.transform_sampling_reference``, on the same fitted model: ``*_alt`` measures).
One JSON line per seed on stdout; the list in ``OUT.json``.
``python benchmarks/regression_seeds.py summary REFERENCE.json OTHER.json...`` compares runs:
median (min-max) of each measure, and the difference of the means with its standard error
(paired by seed, for variants on the same seeds; unpaired, for two libraries). Quality only
(CPU seconds are recorded, not comparable on a shared machine). ``run.py variants --modes
regression --seeds ...`` gives the same fitted rows one fresh process per fit.
"""

from __future__ import annotations

import json
import sys
import time
import warnings
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def patch_umapx(patch):
    """Apply the experiment's variants (keys with a leading underscore) to umapx's internals."""
    import umapx.estimator as estimator

    if "_tlr" in patch:
        estimator._TRANSFORM_LEARNING_RATE = patch["_tlr"]
    if "_fit_lr" in patch:
        original = estimator.optimize_layout

        def supervised_rate(*args, **kwargs):
            if kwargs.get("anchored_attraction"):
                kwargs["learning_rate"] = patch["_fit_lr"]
            return original(*args, **kwargs)

        estimator.optimize_layout = supervised_rate
    if "_epochs" in patch:
        estimator.UMAP._fit_epochs = lambda self, n_samples, settings: patch["_epochs"]


def inputs(mode, train, train_labels):
    from benchmarks.worker import _variant_inputs

    if mode == "plain":
        return train, None, {}
    if mode == "categorical":
        return train, train_labels, {}
    return _variant_inputs(mode, train, train_labels)


def one_seed(module, mode, seed, options, patch, data):
    import umapx.estimator as estimator
    from umapx import evaluation

    train, train_labels, test, test_labels = data
    fit_data, y, params = inputs(mode, train, train_labels)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        began = time.process_time()
        model = module.UMAP(**params, **options, random_state=seed).fit(fit_data, y)
        placed = model.transform(test)
        cpu_s = time.process_time() - began
    embedding = np.asarray(model.embedding_)
    row = {"seed": seed, "cpu_s": cpu_s,
           "trust": evaluation.trustworthiness(fit_data, embedding),
           "knn_acc": evaluation.knn_accuracy(embedding, train_labels),
           "transform_acc": evaluation.transform_accuracy(embedding, train_labels, placed,
                                                          test_labels)}
    if mode == "regression":
        row["order"] = evaluation.target_order(embedding, y)
        row["order_new"] = evaluation.target_order(placed, test.mean(axis=1))
    if "_tlr_alt" in patch or "_tref_alt" in patch:
        saved_rate, state = estimator._TRANSFORM_LEARNING_RATE, model.fitted_state
        estimator._TRANSFORM_LEARNING_RATE = patch.get("_tlr_alt", saved_rate)
        model._adopt(state.replace(transform_sampling_reference=patch.get(
            "_tref_alt", state.transform_sampling_reference)))
        alternative = model.transform(test)
        estimator._TRANSFORM_LEARNING_RATE = saved_rate
        model._adopt(state)
        row["transform_acc_alt"] = evaluation.transform_accuracy(embedding, train_labels,
                                                                 alternative, test_labels)
        row["trust_new"] = evaluation.trustworthiness(test, placed)
        row["trust_new_alt"] = evaluation.trustworthiness(test, alternative)
        if mode == "regression":
            row["order_new_alt"] = evaluation.target_order(alternative, test.mean(axis=1))
    return row


def summary(reference, others):
    """Print each run's measures against the reference run's (see the module docstring)."""
    ref = {row["seed"]: row for row in json.loads(Path(reference).read_text())}
    for path in others:
        rows = {row["seed"]: row for row in json.loads(Path(path).read_text())}
        seeds = sorted(set(rows) & set(ref))
        print(f"{path} against {reference}, {len(seeds)} seeds")
        for key in rows[seeds[0]]:
            if key in ("seed", "cpu_s") or key not in ref[seeds[0]]:
                continue
            ours = np.array([rows[s][key] for s in seeds])
            theirs = np.array([ref[s][key] for s in seeds])
            paired = (ours - theirs).std(ddof=1) / np.sqrt(len(seeds))
            unpaired = np.sqrt((ours.var(ddof=1) + theirs.var(ddof=1)) / len(seeds))
            print(f"  {key:18s} {np.median(ours):.4f} ({ours.min():.4f}-{ours.max():.4f}) "
                  f"against {np.median(theirs):.4f} ({theirs.min():.4f}-{theirs.max():.4f}); "
                  f"means {ours.mean() - theirs.mean():+.4f}, s.e. paired {paired:.4f}, "
                  f"unpaired {unpaired:.4f}")


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["summary"] and len(argv) > 2:
        return summary(argv[1], argv[2:])
    if len(argv) < 3:
        raise SystemExit(__doc__)
    library, out, seeds = argv[0], argv[1], [int(s) for s in argv[2].split(",")]
    dataset = argv[3] if len(argv) > 3 else "digits"
    mode = argv[4] if len(argv) > 4 else "regression"
    options = json.loads(argv[5]) if len(argv) > 5 else {}
    patch = {key: options.pop(key) for key in list(options) if key.startswith("_")}
    if library == "umapx":
        import umapx as module

        patch_umapx(patch)
    elif patch:
        raise SystemExit("variants (keys with a leading underscore) are umapx's only")
    else:
        import umap as module
    from benchmarks.datasets import as_float32, load

    data = as_float32(*load(dataset))
    rows = []
    for seed in seeds:
        rows.append(one_seed(module, mode, seed, options, patch, data))
        print(json.dumps(rows[-1]), flush=True)
    Path(out).write_text(json.dumps(rows))


if __name__ == "__main__":
    main()
