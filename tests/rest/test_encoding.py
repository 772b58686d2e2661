import numpy as np

from vectorize_nb.contract import validation, wire
from vectorize_nb.contract.models import Vectors
from vectorize_nb.rest import connect_rest


def test_a_body_encoded_slice_by_slice_is_the_ndjson_of_the_whole_batch():
    backend, _ = connect_rest("http://127.0.0.1:9/client/v4")  # nothing is sent: prepare only encodes
    rng = np.random.default_rng(7)
    n, width = 50, 768  # 21 rows per slice at this width: three slices, the last one short
    raw = Vectors([f"v{i}" for i in range(n)], rng.standard_normal((n, width), dtype=np.float32),
                  [{"i": i} if i % 3 else None for i in range(n)], [None if i % 2 else "ns" for i in range(n)])
    batch = validation.check_vectors(raw, "upsert", width, backend.limits)
    try:
        prepared = backend.prepare_write("docs", "upsert", batch)
    finally:
        backend.close()
    assert prepared.path == "/docs/upsert" and (prepared.name, prepared.kind) == ("docs", "upsert")
    assert b"".join(prepared.body) == wire.encode_ndjson(batch)
    decoded = wire.decode_ndjson(b"".join(prepared.body), width)
    assert decoded.ids == batch.ids and np.array_equal(decoded.values, batch.values)
