"""One exception tree for both backends, keyed by Cloudflare's error codes.

    VectorizeError                       every error this package raises
    ├── NotFoundError (LookupError)
    │   ├── IndexNotFound                 3000  (HTTP 404)
    │   │   └── IndexDeleted              3005  (HTTP 410)
    │   ├── MetadataIndexNotFound         40005
    │   ├── VectorNotFound                40113 [project]  query by an unknown vectorId
    │   └── RouteNotFound                 7003  (HTTP 404)
    ├── DuplicateIndexName                3002
    ├── InvalidRequest (ValueError)       everything the caller can fix in the request
    │   ├── QueryDimensionMismatch        40006
    │   ├── TooManyIds                    40007
    │   ├── IdTooLong                     40008
    │   ├── VectorDimensionMismatch       40012
    │   ├── MetadataTooLarge              40016
    │   ├── UnparsableVectors             40023
    │   ├── TopKTooLarge                  40025
    │   ├── MalformedRequest              40026
    │   ├── [project codes 40101..40114]  InvalidIndexName, InvalidIndexConfig, InvalidVector,
    │   │   NamespaceTooLong, InvalidMetadata, TooManyVectors, PayloadTooLarge,
    │   │   TooManyMetadataIndexes, InvalidMetadataIndex, InvalidFilter, InvalidCursor,
    │   │   InvalidQuery, InvalidListCount (PayloadTooLarge is also Workers AI's 3006, HTTP 413)
    │   ├── BadEmbeddingInput             5006  Workers AI's "Bad input": EmptyText, TextNotString,
    │   │                                       TextTooLong, UnsupportedPooling (named by row)
    │   ├── UnknownModel                  5007  Workers AI's "No such model" (or 3042, "The model name is invalid")
    │   └── ModelNotAvailable             40115 [project] a known model that cannot run here (no local
    │                                           form, or weights missing and no network)
    ├── AuthenticationError               10000 (HTTP 401); MissingCredentials 9106
    ├── RateLimited                       40041 (HTTP 429)
    │   ├── CapacityExceeded              3040  Workers AI is out of capacity for now (HTTP 429)
    │   └── QuotaExceeded                 4006  the account's daily Workers AI allowance is spent (or 3036)
    ├── ServerError                       a 5xx without a known code
    │   ├── RequestTimeout                3007  Workers AI's "Request timeout" (or 3008, aborted; HTTP 408)
    │   ├── InternalError                 10001 [project] an unexpected failure in the server
    │   └── StorageBusy                   10002 [project] a served folder another writer kept locked (503)
    ├── TransportError                    the request never got an answer (client side only)
    ├── WaitTimeout                       Index.wait gave up (client side only)
    ├── ClientClosed                      a call on a client (or engine) after its close() (client side only)
    └── ConfigurationError (ValueError)   connect() could not work out the target
        └── FolderUnusable                the embedded engine's folder cannot be used as it is: written
                                          by a newer vectorize-nb, damaged or incomplete, a file, or (for
                                          one index) holding a logged write the engine cannot apply

The local engine raises these; its HTTP server turns one into Cloudflare's envelope with
`to_envelope()`; `RestBackend` turns an envelope back into the same class with `from_envelope()`.
The wire carries the code and the message; `str(err)` adds the operation and a hint.
"""

from __future__ import annotations

from typing import Any, ClassVar

from .base_error import VectorizeError, during
from .notices import VectorizeWarning, heard_warnings, warn_once, warned

__all__ = [
    "VectorizeError", "NotFoundError", "IndexNotFound", "IndexDeleted", "MetadataIndexNotFound",
    "VectorNotFound", "RouteNotFound", "DuplicateIndexName", "InvalidRequest",
    "QueryDimensionMismatch", "TooManyIds", "IdTooLong", "VectorDimensionMismatch",
    "MetadataTooLarge", "UnparsableVectors", "TopKTooLarge", "MalformedRequest",
    "InvalidIndexName", "InvalidIndexConfig", "InvalidVector", "NamespaceTooLong",
    "InvalidMetadata", "TooManyVectors", "PayloadTooLarge", "TooManyMetadataIndexes",
    "InvalidMetadataIndex", "InvalidFilter", "InvalidCursor", "InvalidQuery", "InvalidListCount",
    "AuthenticationError", "MissingCredentials", "RateLimited", "ServerError", "InternalError", "StorageRefused",
    "StorageBusy", "RequestTimeout", "TransportError",
    "WaitTimeout", "ConfigurationError", "FolderUnusable", "BadEmbeddingInput", "EmptyText", "TextNotString",
    "TextTooLong",
    "UnsupportedPooling", "UnknownModel", "ModelNotAvailable", "CapacityExceeded", "QuotaExceeded", "error_class",
    "from_envelope", "during", "PROJECT_CODES", "VectorizeWarning", "warn_once", "warned", "heard_warnings",
    "ClientClosed",
]



class NotFoundError(VectorizeError, LookupError):
    """Something named in the request does not exist."""


class IndexNotFound(NotFoundError):
    """No index of that name on this target (`get_index`, `delete_index`, or a call on an `Index` of that name)."""
    code = 3000
    status = 404
    hint = "Check the name with list_indexes(), or create the index first"


class IndexDeleted(IndexNotFound):
    """The index was deleted (by this or another client, or another process) and not created again."""
    code = 3005
    status = 410
    hint = "The index was deleted; create it again before using this name"


class MetadataIndexNotFound(NotFoundError):
    """`delete_metadata_index` named a property that has no metadata index."""
    code = 40005
    hint = "list_metadata_indexes() shows the properties that have one"


class VectorNotFound(NotFoundError):
    """`query_by_id` named an id that is not stored in the index."""
    code = 40113
    hint = "query_by_id needs the id of a vector stored in this index"


class RouteNotFound(NotFoundError):
    """A URL that names no Vectorize v2 operation (a REST client pointed at the wrong base URL)."""
    code = 7003
    status = 404
    hint = "The URL does not name a Vectorize v2 operation"


class DuplicateIndexName(VectorizeError):
    """`create_index` named an index that exists already (without `exist_ok`, or with another configuration)."""
    code = 3002
    hint = (
        "Pick another name, delete the existing index first, or, if it is the one you want, open it with "
        "get_index(name) or create_index(..., exist_ok=True)"
    )

    @staticmethod
    def reopen_hint(remedy: str) -> str:
        """The hint for a create with `exist_ok` whose index exists with another configuration: `remedy`."""
        return f"exist_ok=True reopens only an index of the same configuration: {remedy}"

    def configured_otherwise(self, differences: list[tuple[str, Any, Any]], remedy: str) -> DuplicateIndexName:
        """This refusal of a create with `exist_ok`, naming each (field, existing, asked) that differs."""
        said = ", ".join(f"{field} {have!r} (asked for {want!r})" for field, have, want in differences)
        self.message += f"; it exists with another configuration: {said}"
        self.hint = self.reopen_hint(remedy)
        return self


class InvalidRequest(VectorizeError, ValueError):
    """The request breaks a rule or a limit; fix it and send it again."""


class QueryDimensionMismatch(InvalidRequest):
    """A query vector (or a text's embedding) has another number of dimensions than the index; `width`: its
    own, where it is one vector of numbers (not a refusal of its shape)."""
    code = 40006
    hint = "The query vector must have the index's dimensions"
    width: int | None = None


class TooManyIds(InvalidRequest):
    """One request named more ids than the limit allows (the `Index` methods split long lists)."""
    code = 40007
    hint = "Index.get_by_ids and Index.delete_by_ids split long lists for you"


class IdTooLong(InvalidRequest):
    """An id is longer than the limit (bytes of UTF-8); the message names the id."""
    code = 40008
    hint = "Shorten the id: the limit counts bytes of UTF-8, not characters"


class VectorDimensionMismatch(InvalidRequest):
    """A vector to write has another number of dimensions than the index; the message names its id; `width`: the
    vector's, where this library counted it."""
    code = 40012
    hint = "Every vector must have exactly the index's dimensions"
    width: int | None = None


class MetadataTooLarge(InvalidRequest):
    """A vector's metadata, as compact JSON, is over the size limit; the message names its id."""
    code = 40016
    hint = "Store less metadata per vector: the limit counts bytes of compact JSON"


class UnparsableVectors(InvalidRequest):
    """Vectors to write could not be read: a line that is not NDJSON, or values that are not numbers."""
    code = 40023
    hint = "Send one JSON object per line (NDJSON), not a JSON array or a JSON string"


class TopKTooLarge(InvalidRequest):
    """`top_k` is over the limit (lower when values or full metadata are returned)."""
    code = 40025
    hint = "Ask for fewer matches"


class MalformedRequest(InvalidRequest):
    """An argument of the wrong type or shape, or a request body that is not JSON of the right shape."""
    code = 40026
    hint = "The request body must be JSON of the documented shape"


class InvalidIndexName(InvalidRequest):
    """`create_index` was given a name Vectorize does not allow (characters or length)."""
    code = 40101


class InvalidIndexConfig(InvalidRequest):
    """`create_index` was given no configuration, dimensions out of range, an unknown metric or an unknown preset."""
    code = 40102
    hint = "Give dimensions and a metric (cosine, euclidean, dot-product), or a preset"


class InvalidVector(InvalidRequest):
    """A vector to write has an empty id or values that are not finite, or a namespace that is not a string."""
    code = 40103
    hint = "Ids are non-empty strings; values are finite numbers"


class NamespaceTooLong(InvalidRequest):
    """A namespace is longer than the limit (bytes of UTF-8); the message names the vector."""
    code = 40104
    hint = "Shorten the namespace: the limit counts bytes of UTF-8, not characters"


class InvalidMetadata(InvalidRequest):
    """A vector's metadata is not a JSON object of allowed keys and values; the message names its id."""
    code = 40105
    hint = ("Metadata is a JSON object; keys are non-empty and contain no '.' or '\"' and do not "
            "start with '$'; numbers are finite")


class TooManyVectors(InvalidRequest):
    """One request carried more vectors than the limit (`upsert` and `insert` split large writes)."""
    code = 40106
    hint = "Index.upsert and df.vectorize.upsert split large writes for you"


class PayloadTooLarge(InvalidRequest):
    """A request body is over the size a server accepts."""
    code = 40107
    aliases = (3006,)
    """Workers AI's code for a body over its 10 MB."""
    hint = "Send smaller batches"


class TooManyMetadataIndexes(InvalidRequest):
    """`create_metadata_index` on an index that already has the most metadata indexes allowed."""
    code = 40108
    hint = "Delete a metadata index you no longer filter on first"


class InvalidMetadataIndex(InvalidRequest):
    """`create_metadata_index` was given a bad property name or an `index_type` not string, number or boolean."""
    code = 40109


class InvalidFilter(InvalidRequest):
    """A filter breaks the grammar or a limit, or filters on a property with no metadata index."""
    code = 40110
    GRAMMAR: ClassVar[str] = ("Filters are {key: value} or {key: {$op: value}} with $eq $ne $in $nin $lt $lte $gt "
                              "$gte, keys joined by AND")

    @classmethod
    def of_grammar(cls, message: str) -> InvalidFilter:
        """A filter of the wrong shape (keys, operators, operands), with the grammar as its hint: not one that
        is well formed and names a property with no metadata index, or a value of another type than it."""
        error = cls(message)
        error.hint = cls.GRAMMAR
        return error


class InvalidCursor(InvalidRequest):
    """`list_vectors` was given a cursor it did not hand out, or one whose walk cannot go on."""
    code = 40111
    hint = "Start a new walk with list_vectors() and no cursor"


class InvalidQuery(InvalidRequest):
    """A query with neither or both of a vector and an id, a `top_k` below 1, or values that are not finite."""
    code = 40112
    hint = "Give exactly one of vector or vectorId, and a whole-number topK of at least 1"


class InvalidListCount(InvalidRequest):
    """`list_vectors` was asked for a page size outside the limit."""
    code = 40114
    hint = "Ask for a page size within the limit the message gives"


class BadEmbeddingInput(InvalidRequest):
    """The texts or options of an embedding request break a rule; nothing was embedded. `row` is the
    position of the text to blame in the list that was embedded, when one is; the message says "row N"."""

    code = 5006
    row: int | None = None

    def for_row(self, row: int, label: str | None = None) -> BadEmbeddingInput:
        """The same error about the text at position `row` of a longer list (the caller's), named by
        `label` (e.g. "row 'doc-7'") or by that position."""
        if self.row is None:
            return self
        moved = type(self)(self.message.replace(f"row {self.row}", label or f"row {row}", 1),
                           operation=self.operation)
        moved.row = row
        return moved


class EmptyText(BadEmbeddingInput):
    """A text to embed is empty; the message names its row."""
    hint = "Workers AI refuses empty texts; drop or fill those rows first"


class TextNotString(BadEmbeddingInput, TypeError):
    """A text to embed is not a str (a missing value, a number); the message names its row."""
    hint = "Every text must be a str; drop missing values (e.g. df.dropna(subset=[column])) or convert them"


class TextTooLong(BadEmbeddingInput):
    """A text to embed is over the model's token limit; the message names its row, then counts and names the other
    rows over it (`also`, in `row`'s numbering; `said`: the words after the first row's name)."""
    also: tuple[int, ...] = ()
    said = ""
    hint = ("Workers AI documents a 400 for texts over the model's token limit, and the local runtime refuses "
            "them too rather than cut them; split long texts into passages (which also retrieves better)")


class UnsupportedPooling(BadEmbeddingInput):
    """`pooling` names a pooling the model does not offer."""
    hint = "Leave pooling=None for the model's default"


class UnknownModel(InvalidRequest):
    """An embedding model name the package does not know (Workers AI's 5007)."""
    code = 5007
    aliases = (3042,)
    """Workers AI's "The model name is invalid" (HTTP 404)."""
    hint = "vz.embedding_models() lists the models the package knows"


class ModelNotAvailable(InvalidRequest):
    """The model is known but cannot run here: it has no local form, or its weights are not in the cache
    and cannot be fetched. Deterministic (a retry would fail the same way), so it travels as a 400."""

    code = 40115


class AuthenticationError(VectorizeError):
    """The target refused the token, or its absence; the REST client's hint says what that target takes."""
    code = 10000
    status = 401
    hint = "Check the API token and that it has the Vectorize permissions"


class MissingCredentials(AuthenticationError):
    """Cloudflare refused a request that carried no API token."""
    code = 9106
    status = 400
    hint = "Send Authorization: Bearer <token>"


class RateLimited(VectorizeError):
    """The target asked the client to slow down (HTTP 429) and the client's retries ran out."""
    code = 40041
    status = 429
    hint = "Slow down; the client retries these with backoff"
    retryable = True


class CapacityExceeded(RateLimited):
    """Workers AI had no capacity for an embedding request, and the client's retries ran out."""
    code = 3040
    hint = "Workers AI is busy; the client retries these with backoff"


class QuotaExceeded(RateLimited):
    """The account's daily Workers AI allowance is spent; embedding fails until it renews."""
    code = 4006
    aliases = (3036,)
    """Other codes for the same case: 3036 is the one Workers AI's error page gives; the live service answers 4006."""
    hint = "The account's Workers AI allowance for the day is spent; retrying today will not help"
    retryable = False


class ServerError(VectorizeError):
    """The target answered with a 5xx and no code the package knows, after the client's retries."""
    status = 500
    hint = "The service failed; the request may be retried"
    retryable = True


class RequestTimeout(ServerError):
    """Workers AI gave up on a request in time (HTTP 408: 3007 timed out, 3008 aborted), and the client's retries
    ran out."""
    code = 3007
    aliases = (3008,)
    status = 408
    hint = "Workers AI did not finish the request in time; the client retries these, so try again later"


class InternalError(ServerError):
    """A served engine failed in a way it has no code for (a defect): an HTTP 500 with code 10001."""
    code = 10001
    hint = "The server that answered failed unexpectedly (if it is vectorize-nb serve, its log has the traceback)"


class StorageRefused(InternalError):
    """A served engine that cannot use its folder (read-only, its disk full, damaged, or the engine closed under
    its server): a 507 no retry mends."""
    status = 507
    hint = "The server's storage took nothing of this request; retrying will not help until that changes"
    retryable = False


class StorageBusy(ServerError):
    """A served engine's write that waited out its patience for the lock another writer held on its folder;
    nothing written. A 503, retried."""
    code = 10002
    status = 503
    hint = "Another notebook, process or server is writing the server's folder; try again once it is done"


class TransportError(VectorizeError):
    """A REST request got no answer (connection refused, a timeout, a dropped connection) after retries."""
    status = 0
    hint = "No answer from the server; check the URL and the network"
    retryable = True


class WaitTimeout(VectorizeError):
    """`Index.wait` ran out of time before the target had applied the writes it waits for."""
    status = 0
    hint = "The write is not known to be applied yet; wait longer, or check info() or get_by_ids()"


class ClientClosed(VectorizeError):
    """A call on a client, or on the engine under it, after it was closed (from any thread)."""

    status = 0
    hint = "Open a new client with vz.connect()"

    def __init__(self, message: str = "this client was closed (by its close(), or at the end of its with block)",
                 **kwargs: Any) -> None:
        super().__init__(message, **kwargs)


class ConfigurationError(VectorizeError, ValueError):
    """connect() was not told enough to reach a target."""

    status = 0


class FolderUnusable(ConfigurationError):
    """The embedded engine's folder cannot be used as it is: written by a newer vectorize-nb (a later folder
    format) or by its first development version (another layout), damaged or incomplete (a database that is
    not one, a vector file missing or cut short), a file where a folder should be, or an index's logged write
    that the engine cannot apply. The message names the folder (or the index and its file or mutation) and
    what to do."""

    hint = "Nothing was written there"


PROJECT_CODES: tuple[type[VectorizeError], ...] = (
    InvalidIndexName, InvalidIndexConfig, InvalidVector, NamespaceTooLong, InvalidMetadata,
    TooManyVectors, PayloadTooLarge, TooManyMetadataIndexes, InvalidMetadataIndex, InvalidFilter,
    InvalidCursor, InvalidQuery, VectorNotFound, InvalidListCount, ModelNotAvailable,
)
"""Codes the project chose where Cloudflare's are not on the public record."""


def _coded(cls: type[VectorizeError]) -> list[type[VectorizeError]]:
    found = [cls] if "code" in vars(cls) and cls.code else []  # a subclass that inherits a code shares its class
    for sub in cls.__subclasses__():
        found.extend(_coded(sub))
    return found


_BY_CODE: dict[int, type[VectorizeError]] = {cls.code: cls for cls in _coded(VectorizeError)}
_BY_CODE.update({alias: cls for cls in list(_BY_CODE.values()) for alias in vars(cls).get("aliases", ())})


def error_class(code: int) -> type[VectorizeError] | None:
    """The exception class for a Cloudflare error code, or None when the code is unknown."""
    return _BY_CODE.get(code)


def from_envelope(status: int, body: Any, *, operation: str | None = None) -> VectorizeError:
    """Rebuild the exception a failed response stands for (the inverse of `to_envelope`)."""
    errors = body.get("errors") if isinstance(body, dict) else None
    first = errors[0] if isinstance(errors, list) and errors and isinstance(errors[0], dict) else {}
    raw = first.get("code")
    message = str(first.get("message") or f"HTTP {status} with no error message")
    code = raw if isinstance(raw, int) and not isinstance(raw, bool) else None
    cls = StorageRefused if status == StorageRefused.status else \
        (error_class(code) if code is not None else None) or _class_for_status(status)
    if code is None and status < 400:  # a failure said with a success's status and no code: the server's fault
        cls = ServerError
    return cls(message, operation=operation, status=status, code=code)


def _class_for_status(status: int) -> type[VectorizeError]:
    if status == 429:
        return RateLimited
    if status == RequestTimeout.status:
        return RequestTimeout
    if status in (401, 403):
        return AuthenticationError
    if status == 404:
        return RouteNotFound
    if status >= 500:
        return ServerError
    return InvalidRequest
