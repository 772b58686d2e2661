import pickle

import pytest

from vectorize_nb import errors


def all_coded():
    """Classes that define a code; a subclass inheriting its parent's code comes back as the parent."""
    seen = []

    def walk(cls):
        if "code" in vars(cls) and cls.code:
            seen.append(cls)
        for sub in cls.__subclasses__():
            walk(sub)

    walk(errors.VectorizeError)
    return seen


def test_every_code_maps_to_exactly_one_class():
    codes = [cls.code for cls in all_coded()]
    assert len(codes) == len(set(codes))
    for cls in all_coded():
        assert errors.error_class(cls.code) is cls


@pytest.mark.parametrize("cls", all_coded(), ids=lambda c: c.__name__)
def test_envelope_round_trip_keeps_class_code_message_and_status(cls):
    original = cls("something precise went wrong")
    envelope = original.to_envelope()
    assert envelope == {"result": None, "success": False, "messages": [],
                        "errors": [{"code": cls.code, "message": "something precise went wrong"}]}
    rebuilt = errors.from_envelope(original.status, envelope, operation="upsert on index 'x'")
    assert type(rebuilt) is cls
    assert (rebuilt.code, rebuilt.message, rebuilt.status) == (cls.code, original.message, original.status)
    assert rebuilt.operation == "upsert on index 'x'"


def test_cloudflare_documented_codes_and_statuses():
    assert errors.IndexNotFound.code == 3000 and errors.IndexNotFound.status == 404
    assert errors.DuplicateIndexName.code == 3002 and errors.DuplicateIndexName.status == 400
    assert errors.IndexDeleted.code == 3005 and errors.IndexDeleted.status == 410
    assert [errors.MetadataIndexNotFound.code, errors.QueryDimensionMismatch.code, errors.TooManyIds.code,
            errors.IdTooLong.code, errors.VectorDimensionMismatch.code, errors.MetadataTooLarge.code,
            errors.UnparsableVectors.code, errors.TopKTooLarge.code, errors.MalformedRequest.code,
            errors.RateLimited.code] == [40005, 40006, 40007, 40008, 40012, 40016, 40023, 40025, 40026, 40041]
    assert errors.RouteNotFound.code == 7003 and errors.RouteNotFound.status == 404


def test_no_deterministic_error_travels_as_409_or_5xx():
    for cls in all_coded():
        if cls not in (errors.RateLimited, errors.InternalError, errors.StorageBusy):  # none is deterministic
            assert cls.status < 500 and cls.status != 409, cls


def test_the_clients_own_errors_carry_no_http_status():
    for cls in (errors.TransportError, errors.WaitTimeout, errors.ConfigurationError):
        assert cls("no answer").status == 0, cls


def test_unknown_code_keeps_its_code_and_picks_a_class_by_status():
    err = errors.from_envelope(400, {"errors": [{"code": 49999, "message": "new rule"}]})
    assert type(err) is errors.InvalidRequest
    assert err.code == 49999 and str(err).startswith("[49999] new rule")
    assert type(errors.from_envelope(503, {"errors": []})) is errors.ServerError
    assert type(errors.from_envelope(429, "not json")) is errors.RateLimited
    assert type(errors.from_envelope(403, {})) is errors.AuthenticationError


def test_str_names_code_message_operation_and_hint():
    err = errors.TooManyIds("too many ids in payload; max id count is 20, got 25").with_operation("get_by_ids")
    text = str(err)
    assert text.startswith("[40007] too many ids in payload; max id count is 20, got 25 (during get_by_ids)")
    assert "split long lists" in text


def test_operation_is_set_once_by_the_innermost_layer():
    err = errors.IndexNotFound("x").with_operation("query on index 'a'").with_operation("outer")
    assert err.operation == "query on index 'a'"


def test_errors_are_catchable_as_python_builtins():
    assert issubclass(errors.InvalidFilter, ValueError)
    assert issubclass(errors.IndexDeleted, errors.IndexNotFound)
    assert issubclass(errors.IndexNotFound, LookupError)


def test_errors_pickle_with_their_fields():
    err = errors.from_envelope(400, {"errors": [{"code": 40012, "message": "m"}]}, operation="op")
    copy = pickle.loads(pickle.dumps(err))
    assert (type(copy), copy.code, copy.message, copy.operation, copy.status) == (
        errors.VectorDimensionMismatch, 40012, "m", "op", 400)


def test_a_subclass_that_shares_its_parents_code_comes_back_as_the_parent():
    rebuilt = errors.from_envelope(400, errors.TextTooLong('row 3 has 600 tokens').to_envelope())
    assert type(rebuilt) is errors.BadEmbeddingInput and rebuilt.code == 5006
