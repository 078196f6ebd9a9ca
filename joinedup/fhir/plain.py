"""Model rows built from plain values, for bulk reads (the `$export`).

A bulk export renders hundreds of thousands of rows. Django's own way of making a model
instance (`Model.from_db` → `__init__`, plus one more instance per `select_related` join)
costs several times more than fetching the row and rendering it. Here each row is fetched
with `values_list` and becomes an instance of its model without running `__init__`: its
field values are set directly, as `__init__` would have, and its related rows are put in
the instance's relation cache, exactly where `select_related` would have put them. So the
mapping functions (`joinedup.fhir.mapping`) work on these rows unchanged, and a row
renders the same resource whichever way it was fetched.

The related rows are those the queryset's `select_related` names, one level deep:

- directory rows (organisations, services, departments, risk levels: a handful per hub)
  are fetched once per export and shared by every row that names them;
- any other related row (the student, an episode's referral) carries its key only: `id`
  and `uuid`, all a FHIR reference needs (as `access._student_key_only` does). Reading any
  other field of such a row would cost a query per row, as it would there.
"""

from django.db.models import Model, QuerySet
from django.db.models.base import ModelState

from joinedup.people.models import Department, Organisation, Service
from joinedup.risk.models import RiskLevel

# Directory models, with the relations their own rendering needs selected.
DIRECTORY: dict[type[Model], tuple[str, ...]] = {
    Organisation: (),
    Service: ("organisation",),
    Department: ("organisation",),
    RiskLevel: (),
}


class Directory:
    """Directory rows by model and pk, fetched the first time an export names them."""

    def __init__(self) -> None:
        self._rows: dict[type[Model], dict[int, Model]] = {model: {} for model in DIRECTORY}

    def fill(self, model: type[Model], ids) -> dict[int, Model]:
        known = self._rows[model]
        missing = {pk for pk in ids if pk is not None and pk not in known}
        if missing:
            rows = model.objects.all()
            if DIRECTORY[model]:
                rows = rows.select_related(*DIRECTORY[model])
            known.update(rows.in_bulk(missing))
        return known


def _shell(model: type[Model], values: dict, cache: dict, db: str) -> Model:
    """An instance of `model` holding `values` (field attnames) and these cached relations,
    as `from_db` would make it, without `__init__`'s per-field work."""
    row = model.__new__(model)
    row.__dict__.update(values)
    state = row._state = ModelState()
    state.adding = False
    state.db = db
    state.fields_cache = cache
    return row


class PlainRows:
    """Turns a queryset of one model into rows built from plain values (see the module
    docstring); the queryset's filters, ordering and slicing are kept."""

    def __init__(self, rows: QuerySet, directory: Directory) -> None:
        model = rows.model
        self.model, self.directory, self.db = model, directory, rows.db
        self.names = [f.attname for f in model._meta.concrete_fields]
        selected = rows.query.select_related
        selected = selected if isinstance(selected, dict) else {}
        self.from_directory: list[tuple[str, type[Model], int]] = []  # name, model, column
        self.keyed: list[tuple[str, type[Model], int]] = []  # name, model, first column
        extra: list[str] = []
        for name in selected:
            field = model._meta.get_field(name)
            related = field.related_model
            if related in DIRECTORY and field.concrete:
                self.from_directory.append((name, related, self.names.index(field.attname)))
            else:
                self.keyed.append((name, related, len(self.names) + len(extra)))
                extra += [f"{name}__pk", f"{name}__uuid"]
        self.columns = [*self.names, *extra]
        self.pk_index = self.names.index(model._meta.pk.attname)

    def fetch(self, rows: QuerySet) -> list[Model]:
        """The rows of `rows` (a queryset of this model), as instances."""
        values = list(rows.values_list(*self.columns))
        tables = {
            name: self.directory.fill(model, {v[index] for v in values})
            for name, model, index in self.from_directory
        }
        model, names, db, width = self.model, self.names, self.db, len(self.names)
        result = []
        for value in values:
            cache = {}
            for name, _model, index in self.from_directory:
                key = value[index]
                cache[name] = tables[name][key] if key is not None else None
            for name, related, index in self.keyed:
                key = value[index]
                cache[name] = (
                    None
                    if key is None
                    else _shell(
                        related,
                        {related._meta.pk.attname: key, "uuid": value[index + 1]},
                        {},
                        db,
                    )
                )
            result.append(_shell(model, dict(zip(names, value[:width], strict=True)), cache, db))
        return result
