"""Quality measures of embeddings and of generated samples.

Forward (how well an embedding keeps the data's structure):

* :func:`trustworthiness` -- are embedding neighbours also data neighbours (1 is perfect);
* :func:`knn_accuracy` -- accuracy of a k-NN classifier on a train/test split of the embedded
  points;
* :func:`transform_accuracy` -- accuracy on held-out points placed by ``transform``, with the
  classifier fitted on the training embedding.

Inverse (how good ``inverse_transform``'s samples are), on held-out points never used in fit:
see :func:`inverse_quality`.

All measures take plain arrays, so they apply to any embedding library's output.
"""

from __future__ import annotations

import numpy as np
from sklearn.manifold import trustworthiness as _sk_trustworthiness
from sklearn.model_selection import train_test_split
from sklearn.neighbors import KNeighborsClassifier


def _sample(n, size, random_state):
    if size is None or size >= n:
        return np.arange(n)
    return np.sort(np.random.RandomState(random_state).choice(n, size, replace=False))


def trustworthiness(X, embedding, n_neighbors=15, sample_size=5000, random_state=0):
    """Trustworthiness of ``embedding`` for ``X`` (sklearn's definition) on a random sample.

    Parameters
    ----------
    X : ndarray (n, d)
    embedding : ndarray (n, dim)
    n_neighbors : int
    sample_size : int or None
        Points drawn (without replacement) to compute it on; None uses all (O(n^2) memory).
    random_state : int

    Returns
    -------
    float in [0, 1]
    """
    rows = _sample(len(X), sample_size, random_state)
    return float(_sk_trustworthiness(np.asarray(X, np.float32)[rows],
                                     np.asarray(embedding, np.float32)[rows],
                                     n_neighbors=n_neighbors))


def knn_accuracy(embedding, labels, n_neighbors=10, test_size=0.2, random_state=0):
    """Accuracy of a ``n_neighbors``-NN classifier on a stratified split of the embedding."""
    train_x, test_x, train_y, test_y = train_test_split(
        embedding, labels, test_size=test_size, random_state=random_state, stratify=labels
    )
    classifier = KNeighborsClassifier(n_neighbors=n_neighbors).fit(train_x, train_y)
    return float(classifier.score(test_x, test_y))


def transform_accuracy(train_embedding, train_labels, test_embedding, test_labels,
                       n_neighbors=10):
    """Accuracy on held-out points placed by ``transform`` (classifier fit on training)."""
    classifier = KNeighborsClassifier(n_neighbors=n_neighbors).fit(train_embedding, train_labels)
    return float(classifier.score(test_embedding, test_labels))
