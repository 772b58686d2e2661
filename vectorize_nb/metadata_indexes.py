"""MetadataIndexes: what `Index` adds for the metadata indexes it makes and deletes, and what this client knows of
them that Vectorize leaves unsaid: vectors written before a metadata index are not in it, and one just made is not
applied yet (a filter on it matches nothing meanwhile)."""

from __future__ import annotations

from . import answer_warnings
from .contract import arguments, errors
from .contract.filters import FilterMiss
from .contract.models import Mutation
from .metadata_fit import metadata_index_types
from .mutation_log import MutationLog
from .transfer import IndexCopier

__all__ = ["MetadataIndexes"]


class MetadataIndexes(IndexCopier):
    """`create_metadata_index` and `delete_metadata_index`, recorded in the client's mutation log."""

    log: MutationLog

    def create_metadata_index(self, property_name: str, index_type: str) -> Mutation:
        """Make a metadata property filterable. Vectors already stored are not in it until rewritten
        (`rewrite()`, once it is applied: `wait()`); a warning says how many there are (over REST when it is
        made, on the embedded engine at each query that filters on it).

        Parameters
        ----------
        property_name : str
            The property (dots reach into nested objects: "author.name").
        index_type : {"string", "number", "boolean"}
            The type of values the index holds; values of other types are left out of it.

        Raises
        ------
        InvalidMetadataIndex
            An empty property name, or an `index_type` other than the three.
        TooManyMetadataIndexes
            The index has 10 metadata indexes already.
        """
        with self._during("create_metadata_index"):
            prop, kind = arguments.text("property_name", property_name), arguments.text("index_type", index_type)
            before = None if self.backend.embedded_engine else metadata_index_types(self.backend, self.name)
            created = self.log.issue(self.name, lambda: self.backend.create_metadata_index(self.name, prop, kind),
                                     creates=prop)
        if len(prop) > self.limits.max_filter_key_chars:  # Vectorize takes it, and no filter can ever name it
            errors.warn_once(self.backend, (self.name, "unfilterable property", prop),
                             f"a filter's keys are at most {self.limits.max_filter_key_chars} characters, so no "
                             f"filter can name the property {prop[:40]!r}… ({len(prop)} characters) of the metadata "
                             f"index just made on {self.name!r}: delete it and index a shorter name")
        if before is not None and prop not in before:  # the engine counts them at each query
            answer_warnings.written_before(self.backend, self.log, self.name, prop)
        return created

    def delete_metadata_index(self, property_name: str) -> Mutation:
        """Stop indexing `property_name` (filters on it then match nothing). Over REST, when the answer
        was lost and a retry found the metadata index already deleted, the mutation's id is unknown:
        the Mutation returned has an empty id, and `wait` cannot wait for it.

        Raises
        ------
        MetadataIndexNotFound
            The property has no metadata index.
        """
        with self._during("delete_metadata_index"):
            prop = arguments.text("property_name", property_name)
            return self.log.issue(self.name, lambda: self.backend.delete_metadata_index(self.name, prop), deletes=prop)

    def _said(self, misses: list[FilterMiss]) -> list[FilterMiss]:
        return answer_warnings.unapplied_indexes(self.backend, self.log, self.name, misses)

    def _unapplied_notes(self, properties: list[str]) -> dict[str, str]:
        said = answer_warnings.unapplied_indexes(self.backend, self.log, self.name,
                                                 [FilterMiss(prop, "no index", "") for prop in properties],
                                                 recalled=False)  # looked at anew: another writer may have deleted it
        return {miss.property: miss.message for miss in said if miss.reason == "not applied"}
