"""Quickstart: a DataFrame of embeddings into an index, a filtered query, the answer as a DataFrame.

    python examples/quickstart.py

Runs against the embedded engine (./.vectorize) with no account and no network. The very same code
runs against Cloudflare Vectorize with VECTORIZE_NB_TARGET=cloudflare and the CLOUDFLARE_ACCOUNT_ID
and CLOUDFLARE_API_TOKEN variables set.
"""

import numpy as np
import pandas as pd

import vectorize_nb as vz
from vectorize_nb import F

rng = np.random.default_rng(7)
films = pd.DataFrame({
    "film_id": [f"film-{i:03d}" for i in range(300)],
    "genre": [["drama", "comedy", "noir"][i % 3] for i in range(300)],
    "year": [1950 + i % 70 for i in range(300)],
    "embedding": list(rng.standard_normal((300, 32)).astype(np.float32)),  # a model's output in real life
})

with vz.connect() as client:
    index = client.create_index("quickstart", dimensions=32, metric="cosine", exist_ok=True)  # a rerun reopens it
    index.create_metadata_index("genre", "string")  # before writing: only indexed properties filter
    result = films.vectorize.upsert(index, id="film_id", vector="embedding", metadata=["genre", "year"],
                                    wait=True)
    print(result)
    print(index.info())
    hits = films.head(2).vectorize.query(index, vector="embedding", top_k=3, filter=F("genre") == "drama",
                                         return_metadata="all")
    print(hits.to_string(index=False))
