"""SQL the ORM does not write."""

import json
from typing import Any

from django.db.models import Field, ForeignObject, Lookup


@ForeignObject.register_lookup  # relations keep lookups of their own
@Field.register_lookup
class AnyOf(Lookup[Any]):
    """`field__any_of=frozenset(ids)`: the field is one of a set of values, sent as one query
    parameter (an array on PostgreSQL, a JSON array read by `json_each` on SQLite). `__in`
    sends a parameter per value, and a policy query that names a few hundred students in each
    of its subqueries spends longer building and parsing them than running it. (A set, not a
    list: the ORM walks each item of a list or tuple given to any lookup.)"""

    lookup_name = "any_of"
    prepare_rhs = False

    def as_sql(self, compiler: Any, connection: Any) -> tuple[str, list[Any]]:
        lhs, params = self.process_lhs(compiler, connection)
        values = list(self.rhs)
        if connection.vendor == "postgresql":
            if values and all(type(v) is int for v in values):
                # Whole numbers as one array literal: the driver would inspect each to choose
                # the array's type, which costs more than the query for thousands of ids.
                literal = "{" + ",".join(map(str, values)) + "}"
                return f"{lhs} = ANY(%s::bigint[])", [*params, literal]
            return f"{lhs} = ANY(%s)", [*params, values]
        sql = f"{lhs} IN (SELECT value FROM json_each(%s))"  # noqa: S608 - lhs: a compiled column
        return sql, [*params, json.dumps(values)]
