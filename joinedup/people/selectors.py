"""Finding students: every search goes through the access policy's list of the students the
user may read (`consent.policy.readable_students`), and each student shown is audited by the
page that shows them."""

from collections.abc import Iterable
from dataclasses import dataclass
from typing import cast

from django.db.models import QuerySet
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from joinedup.consent.policy import bases_of, readable_students, seats_of
from joinedup.consent.rules import CLINICAL_ROLES
from joinedup.people.models import Student, StudentQuerySet
from joinedup.people.rules import MINIMUM_NHS_DIGITS, SearchProblem, SearchTerms, parse_search

SEARCH_PROBLEMS: dict[SearchProblem, Promise] = {
    SearchProblem.TOO_FEW_DIGITS: _(
        "Type at least %(digits)d digits of a student number or NHS number: fewer would "
        "match too many people."
    )
    % {"digits": MINIMUM_NHS_DIGITS},
    SearchProblem.NOT_A_DATE: _("That is not a real date. Type a date of birth like 14/03/2004."),
    SearchProblem.SHORT_YEAR: _(
        "Type the year of birth in full, like 14/03/2004: a two-digit year could be either century."
    ),
}


@dataclass(frozen=True)
class Search:
    """A search's terms and the students it finds (a QuerySet, for the page to paginate)."""

    terms: SearchTerms
    students: QuerySet[Student]

    @property
    def problem(self) -> str:
        return str(SEARCH_PROBLEMS[self.terms.problem]) if self.terms.problem else ""


def full_identity_bases(user) -> tuple[str, ...]:
    """The bases on which `user` reads a student's whole identity (names, identifiers,
    date of birth) rather than names and numbers only (`consent.rules.NAMES_ONLY`): a care
    relationship, an emergency override and, for clinical staff, the student's consent.
    Academic staff, and a service that no longer works with the student ("authored"), read
    names and numbers only."""
    roles = {seat.role for seat in seats_of(user)}
    if not roles & CLINICAL_ROLES:
        return ()
    if "academic" in roles:  # an academic seat's consent shows names only
        return ("relationship", "break_glass")
    return ("relationship", "consent", "break_glass")


def find_students(user, text: str) -> Search:
    """The students `user` may find with a search box's text (`rules.parse_search`): by
    name or student number among every student the policy lets them read, and by NHS
    number or date of birth only among those whose whole identity they read. Ordered by
    family name; two queries for a page of them, however many students there are."""
    terms = parse_search(text)
    findable = cast(StudentQuerySet, readable_students(user, "identity"))
    found = findable.matching(terms, identifiers=False)
    bases = full_identity_bases(user)
    if bases and terms.uses_identifiers:
        whole = cast(StudentQuerySet, readable_students(user, "identity", bases=bases))
        found = found | whole.matching(terms)
    students = found.select_related("university").order_by(
        "legal_family_name", "legal_given_name", "pk"
    )
    return Search(terms, students)


def identity_shown_in_full(user, students: Iterable[Student]) -> set[int]:
    """Which of these students `user` reads the whole identity of (their date of birth may
    be shown); the others by name and number only. One query."""
    bases = set(full_identity_bases(user))
    found = bases_of(user, "identity", [s.pk for s in students]) if bases else {}
    return {pk for pk, basis in found.items() if basis in bases}
