"""Pictures of an index: projections and plotly figures. Figures are returned, never shown.

    from vectorize_nb import viz
    viz.plot_neighbourhood(idx, "doc-42", color="genre", filter={"year": {"$gte": 2000}})
    viz.plot_index(idx, color="genre")                # the whole index; a seeded sample past 20,000
    viz.plot_scores({"all": idx.query_many(Q), "drama": idx.query_many(Q, filter={"genre": "drama"})})
    viz.plot_comparison(viz.compare(idx_a, idx_b, ids))   # overlap@k and rank agreement per query
    xy = viz.project(X, method="pca")                 # (n, 2) coordinates

Drawing needs plotly (`pip install 'vectorize-nb[viz]'`), UMAP umap-learn (`'vectorize-nb[umap]'`),
PNG export kaleido and a Chromium (`'vectorize-nb[export]'`). Importing this package imports none of
them: each is imported by the function that needs it.
"""

from .cache import cache_info, clear_cache
from .compare import compare, plot_comparison
from .export import to_png
from .figures import TRACE_NAMES, plot_index, plot_neighbourhood
from .inputs import ColumnNotFound
from .projection import Projection, project
from .scores import plot_scores

__all__ = ["project", "Projection", "plot_neighbourhood", "plot_index", "plot_scores", "compare", "plot_comparison",
           "to_png", "cache_info", "clear_cache", "TRACE_NAMES", "ColumnNotFound"]
