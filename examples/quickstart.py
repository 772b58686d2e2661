"""Quickstart: an index on the embedded engine, some vectors, a query. No account, no network.

Run it with `python examples/quickstart.py`; set VECTORIZE_NB_TARGET=cloudflare (and the
CLOUDFLARE_* variables) to run the very same code against Cloudflare Vectorize.
"""

import numpy as np

import vectorize_nb as vz

rng = np.random.default_rng(7)
genres = ["drama", "comedy", "noir"]
ids = [f"film-{i:03d}" for i in range(300)]
embeddings = rng.standard_normal((300, 32)).astype(np.float32)
metadata = [{"genre": genres[i % 3], "year": 1950 + i % 70} for i in range(300)]

with vz.connect() as client:                       # ./.vectorize, or whatever VECTORIZE_NB_TARGET says
    if "quickstart" in client.list_indexes()["name"].tolist():
        client.delete_index("quickstart")
    index = client.create_index("quickstart", dimensions=32, metric="cosine")
    index.create_metadata_index("genre", "string")  # before writing, so every vector is filterable
    result = index.upsert(ids, embeddings, metadata=metadata)
    index.wait(result)
    print(result)
    print(index.info())
    hits = index.query(embeddings[0], top_k=5, filter={"genre": "drama"}, return_metadata="all")
    print(hits.to_string(index=False))
