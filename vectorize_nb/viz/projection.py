"""Projections of vectors to 2-D or 3-D: PCA (numpy, milliseconds) and UMAP (umap-learn, seconds).

    xy = project(X)                                  # (n, 2) float32; "auto" picks PCA or UMAP
    fitted = Projection.fit(X, method="umap", metric="cosine")
    fitted.coords                                    # the fitted points
    fitted.place(Q)                                  # new points on the same picture

Cosine vectors are scaled to unit length first, so distances on the picture follow the index's
metric (dot-product vectors are projected as they are). `auto` takes UMAP from UMAP_FROM points up
(a 2-D PCA of thousands of embeddings is one blob), when the vectors have more dimensions than the
picture and umap-learn is installed; PCA otherwise. New points (a query, matches outside the fitted
sample) go through PCA exactly; on a UMAP picture they land at the distance-weighted mean of their
nearest fitted points, the average UMAP's own `transform` starts from.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..contract.models import METRICS
from ..extras import available, install_command, require
from .inputs import whole_number
from .progress import run_with_progress

__all__ = ["project", "Projection", "resolve_method", "check_method", "check_metric", "check_shape", "nearest",
           "METHODS", "UMAP_FROM", "SEED"]

METHODS = ("auto", "pca", "umap")
UMAP_FROM = 5_000
"""`auto` projects sets of this many points or more with UMAP."""
SEED = 42
EXACT_NEIGHBOURS_UP_TO = 20_000
"""Up to this size UMAP gets an exact neighbour graph from us (first fit 40 s -> 15 s at 10k x 384);
above it umap-learn builds an approximate one itself."""
PLACE_NEIGHBOURS = 10
_POWER_ITERATIONS = 4
_OVERSAMPLE = 10
_CHUNK = 2048
_ROUNDING = (8 * float(np.finfo(np.float32).eps)) ** 2
"""Variance below this share of the vectors' squared norms is float32 rounding: no direction of the picture."""

_umap_fits = 0  # UMAP fits started in this process: the first one compiles numba code


def check_shape(n_components: Any, n_neighbors: Any) -> None:
    """Refuse a picture that is not 2-D or 3-D, or a UMAP neighbourhood of fewer than 2 points."""
    if isinstance(n_components, bool) or n_components not in (2, 3):
        raise ValueError(f"n_components is 2 or 3, got {n_components!r:.60}")
    whole_number(n_neighbors, "n_neighbors", 2)


def check_method(method: Any) -> None:
    """Refuse an unknown projection method, naming it."""
    if method not in METHODS:
        raise ValueError(f"method is one of {', '.join(map(repr, METHODS))}, got {method!r:.60}")


def resolve_method(method: str, points: int, dimensions: int, n_components: int = 2) -> str:
    """The projection `method` stands for: "auto" becomes "pca" or "umap" (see the module docstring).

    Parameters
    ----------
    method : {"auto", "pca", "umap"}
        What was asked for.
    points, dimensions : int
        The size of the set to project.
    n_components : {2, 3}, default 2
        The picture's dimensions.

    Raises
    ------
    ValueError
        An unknown method.
    """
    check_method(method)
    if method != "auto":
        return method
    wanted = points >= UMAP_FROM and dimensions > n_components
    return "umap" if wanted and available("umap") else "pca"


def auto_note(method: str, resolved: str, points: int, dimensions: int, n_components: int = 2) -> str:
    """What a figure should say when `auto` fell back to PCA for want of umap-learn ("" otherwise)."""
    if method == "auto" and resolved == "pca" and points >= UMAP_FROM and dimensions > n_components:
        return f"UMAP would suit {points:,} points: {install_command('umap')}"
    return ""


def check_metric(metric: Any) -> None:
    """Refuse a metric other than the indexes' three, naming it."""
    if metric not in METRICS:
        raise ValueError(f"metric is one of {', '.join(map(repr, METRICS))}, got {metric!r:.60}")


def prepare(vectors: Any, metric: str) -> np.ndarray:
    """float32 rows (checked: 2-D, finite); scaled to unit length for cosine (zero rows stay zero)."""
    check_metric(metric)
    if getattr(getattr(vectors, "dtype", None), "kind", "") == "O":  # a frame's column of arrays or lists
        vectors = list(vectors)
    try:
        matrix = np.array(vectors, dtype=np.float32)  # a copy: a fitted projection keeps it read-only
    except (TypeError, ValueError):  # a text, or rows of several lengths
        raise ValueError(f"vectors must be a 2-D array of numbers (one row per vector), got {vectors!r:.80}") from None
    if matrix.ndim != 2:
        raise ValueError(f"vectors must be a 2-D array of numbers (one row per vector), got shape {matrix.shape}")
    finite = np.isfinite(matrix).all(axis=1)
    if not finite.all():
        row = int(np.argmin(finite))
        raise ValueError(f"vectors must hold finite numbers: row {row} holds "
                         f"{matrix[row][~np.isfinite(matrix[row])][0]} (a projection cannot place NaN or infinity)")
    if metric != "cosine":
        return matrix
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    return matrix / np.where(norms > 0, norms, 1).astype(np.float32)


@dataclass(frozen=True, eq=False)
class Projection:
    """A fitted projection: the fitted points' coordinates and what it takes to place new points."""

    method: str
    coords: np.ndarray
    """(n, n_components) float32, one row per fitted vector."""
    mean: np.ndarray
    axes: np.ndarray
    """(n_components, d): PCA's axes (for UMAP, the PCA that seeded its layout)."""
    explained: np.ndarray
    """The share of the variance along each PCA axis."""
    metric: str = "euclidean"
    reference: np.ndarray | None = None
    """UMAP only: the fitted vectors (prepared), to place new points among."""

    def __post_init__(self) -> None:
        for array in (self.coords, self.mean, self.axes, self.explained, self.reference):
            if array is not None:
                array.setflags(write=False)  # shared through the cache: nobody may change them

    @property
    def n_components(self) -> int:
        """2 or 3: the picture's dimensions."""
        return int(self.coords.shape[1])

    def __len__(self) -> int:
        return len(self.coords)

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        return self.coords if dtype is None else self.coords.astype(dtype)

    @classmethod
    def fit(cls, vectors: Any, method: str = "auto", *, n_components: int = 2, metric: str = "euclidean",
            n_neighbors: int = 15, random_state: int = SEED, progress: bool | None = None) -> Projection:
        """Fit a projection of `vectors`, keeping what it takes to place new points on it later.

        Parameters
        ----------
        vectors : array-like of shape (n, d)
            One row per vector.
        method, n_components, metric, n_neighbors, random_state, progress
            As for `project`.

        Returns
        -------
        Projection
            `coords` holds the fitted points; `place` puts new vectors on the same picture.

        Examples
        --------
        >>> fitted = Projection.fit(X, method="pca", metric="cosine")
        >>> fitted.place(Q).shape    # (len(Q), 2): queries on the picture of X
        (10, 2)
        """
        check_shape(n_components, n_neighbors)
        matrix = prepare(vectors, metric)
        chosen = resolve_method(method, len(matrix), matrix.shape[1], n_components)
        mean, axes, explained = _pca(matrix, n_components, random_state)
        pca = ((matrix - mean) @ axes.T).astype(np.float32)
        if chosen == "pca":
            return cls("pca", pca, mean, axes, explained, metric)
        coords = _umap(matrix, pca, n_components, n_neighbors, random_state, progress)
        return cls("umap", coords, mean, axes, explained, metric, matrix)

    def place(self, vectors: Any) -> np.ndarray:
        """Coordinates for new vectors on this picture: exact for PCA, neighbour-weighted for UMAP.

        Parameters
        ----------
        vectors : array-like of shape (m, d)
            Vectors of the fitted vectors' width.

        Returns
        -------
        ndarray of shape (m, n_components), float32
        """
        matrix = prepare(vectors, self.metric)
        if self.reference is None:
            placed: np.ndarray = ((matrix - self.mean) @ self.axes.T).astype(np.float32)
            return placed
        k = min(PLACE_NEIGHBOURS, len(self.reference))
        rows, distances = nearest(matrix, self.reference, k)
        weights = 1.0 / np.maximum(distances, 1e-9)
        weights[distances[:, 0] <= 1e-6] = np.eye(k, dtype=weights.dtype)[0]  # a fitted vector keeps its place
        placed = (weights[..., None] * self.coords[rows]).sum(axis=1) / weights.sum(axis=1, keepdims=True)
        return placed.astype(np.float32)


def project(vectors: Any, method: str = "auto", *, n_components: int = 2, metric: str = "euclidean",
            n_neighbors: int = 15, random_state: int = SEED, progress: bool | None = None) -> np.ndarray:
    """Coordinates for a 2-D or 3-D picture of `vectors`; deterministic for a given `random_state`.

    Parameters
    ----------
    vectors : array-like of shape (n, d)
        One row per vector (a frame's column of arrays works too).
    method : {"auto", "pca", "umap"}, default "auto"
        "pca": numpy, milliseconds. "umap": umap-learn (the `umap` extra), seeded; the first fit in a
        process spends 10-40 s compiling, shown as a ticking progress line. "auto": UMAP from 5,000
        points when umap-learn is installed, PCA below.
    n_components : {2, 3}, default 2
        The picture's dimensions.
    metric : {"euclidean", "cosine", "dot-product"}, default "euclidean"
        "cosine" scales vectors to unit length first, so the picture follows the index's geometry.
    n_neighbors : int, default 15
        UMAP's neighbourhood size: at least 2 (clamped to the set's size).
    random_state : int, default 42
        The seed of the PCA's random start and of UMAP.
    progress : bool, optional
        False hides UMAP's progress line.

    Returns
    -------
    ndarray of shape (n, n_components), float32

    Examples
    --------
    >>> xy = project(np.stack(df["embedding"]), method="pca", metric="cosine")
    """
    fitted = Projection.fit(vectors, method, n_components=n_components, metric=metric, n_neighbors=n_neighbors,
                            random_state=random_state, progress=progress)
    return fitted.coords.copy()  # the caller's to change; a Projection's own stay read-only


# --- PCA ----------------------------------------------------------------------------------------

def _pca(matrix: np.ndarray, k: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mean, the top-k axes and their shares of variance, by seeded randomized subspace iteration
    (exact when the matrix has at most k + 10 rows or columns; milliseconds at 20k x 1536). An axis
    along which the vectors vary by rounding only (_ROUNDING) is zero, its share 0."""
    n, d = matrix.shape
    mean = matrix.mean(axis=0, dtype=np.float64).astype(np.float32) if n else np.zeros(d, np.float32)
    centred = matrix - mean
    width = min(k + _OVERSAMPLE, n, d)
    axes = np.zeros((k, d), np.float32)
    explained = np.zeros(k, np.float32)
    total = float(np.einsum("ij,ij->", centred, centred, dtype=np.float64))
    noise = _ROUNDING * float(np.einsum("ij,ij->", matrix, matrix, dtype=np.float64))
    if width == 0 or total <= noise:
        return mean, axes, explained
    basis = centred.T @ np.random.default_rng(seed).standard_normal((n, width)).astype(np.float32)
    for _ in range(_POWER_ITERATIONS):
        basis, _ = np.linalg.qr(basis)
        basis = centred.T @ (centred @ basis)
    basis, _ = np.linalg.qr(basis.astype(np.float64))
    _, singular, rotation = np.linalg.svd(centred @ basis, full_matrices=False)
    top = min(k, width)
    found = (basis @ rotation.T[:, :top]).T
    found *= np.sign(found[np.arange(top), np.abs(found).argmax(axis=1)])[:, None]  # largest loading positive
    real = singular[:top] ** 2 > noise  # the others are rounding noise: no axis, coordinates 0
    axes[:top] = found * real[:, None]
    explained[:top] = np.where(real, singular[:top] ** 2 / total, 0.0)
    return mean, axes, explained


# --- UMAP ---------------------------------------------------------------------------------------

def _umap(matrix: np.ndarray, pca: np.ndarray, k: int, n_neighbors: int, seed: int,
          progress: bool | None) -> np.ndarray:
    n = len(matrix)
    if n <= k + 1:
        raise ValueError(f"UMAP needs more than {k + 1} points for a {k}-D picture, got {n}; use method='pca'")
    neighbours = min(n_neighbors, n - 1)
    init = _layout_seed(pca, seed)

    if not available("umap"):  # no progress line, and no fit counted, for a fit that cannot start
        require("umap", "method='umap'")  # raises, naming the extra; importing umap here would take seconds unseen

    def fit() -> np.ndarray:
        umap = require("umap", "method='umap'")
        graph = _neighbour_graph(matrix, neighbours) if n <= EXACT_NEIGHBOURS_UP_TO else (None, None, None)
        model = umap.UMAP(n_components=k, n_neighbors=neighbours, random_state=seed, n_jobs=1, init=init,
                          precomputed_knn=graph)
        with warnings.catch_warnings():
            # our exact graph has no NNDescent search index, so umap's own transform is unavailable: we
            # never use it (see Projection.place)
            warnings.filterwarnings("ignore", message=r"precomputed_knn\[2\]")
            return np.asarray(model.fit_transform(matrix), dtype=np.float32)

    global _umap_fits
    first = _umap_fits == 0
    _umap_fits += 1
    label = f"UMAP of {n:,} points"
    if first:
        label += " (the first fit in a process compiles numba code: 10-40 s)"
    return run_with_progress(fit, label, progress)


def _layout_seed(pca: np.ndarray, seed: int) -> np.ndarray:
    """UMAP's starting layout: the PCA coordinates scaled to +-10 with a little seeded noise, as
    umap-learn's own "pca" init does (and no spectral init, which warns on disconnected data)."""
    spread = float(np.abs(pca).max()) or 1.0
    noise = np.random.default_rng(seed).normal(scale=1e-4, size=pca.shape)
    return (pca * (10.0 / spread) + noise).astype(np.float32)


def _neighbour_graph(matrix: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray, None]:
    """Exact k nearest neighbours of every row (itself first), as umap-learn's precomputed_knn."""
    rows, distances = nearest(matrix, matrix, k)
    return rows.astype(np.int32), distances.astype(np.float32), None


def nearest(queries: np.ndarray, reference: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Rows of `reference` nearest to each query (euclidean), nearest first, and their distances;
    in chunks of queries so memory stays bounded.

    Parameters
    ----------
    queries : ndarray of shape (m, d)
    reference : ndarray of shape (n, d)
    k : int
        How many neighbours per query (at most n).

    Returns
    -------
    rows : ndarray of shape (m, k), int64
    distances : ndarray of shape (m, k), float32
    """
    squared = np.einsum("ij,ij->i", reference, reference)
    rows = np.empty((len(queries), k), np.int64)
    distances = np.empty((len(queries), k), np.float32)
    for start in range(0, len(queries), _CHUNK):
        block = queries[start:start + _CHUNK]
        d2 = squared[None, :] - 2.0 * (block @ reference.T)  # + |q|^2, the same along a row
        part = np.argpartition(d2, k - 1, axis=1)[:, :k] if k < d2.shape[1] else np.argsort(d2, axis=1)
        # the expansion above loses the small distances to cancellation: measure the k chosen directly
        exact = np.linalg.norm(reference[part] - block[:, None, :], axis=2)
        order = np.argsort(exact, axis=1, kind="stable")
        rows[start:start + _CHUNK] = np.take_along_axis(part, order, axis=1)
        distances[start:start + _CHUNK] = np.take_along_axis(exact, order, axis=1)
    return rows, distances
