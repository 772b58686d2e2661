"""A REST client's handle on an index the engine behind the server deleted and made again with other dimensions."""

from __future__ import annotations

from ..helpers import refusals_name_the_remade_index


def test_a_served_handle_refuses_the_new_width_saying_the_index_was_made_again(rig):
    kept = rig.client().get_index("docs")
    rig.engine.delete_index("docs")
    rig.engine.create_index("docs", dimensions=3, metric="euclidean")
    refusals_name_the_remade_index(kept, 3)
    assert rig.engine.index_info("docs").vector_count == 0
