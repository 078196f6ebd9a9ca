"""Demo students' equality answers and ages, drawn to look like a UK university's students.

Where HESA publishes the proportion, the demo draws from it:
  HESA, Higher Education Student Statistics: UK, 2021/22 (Statistical Bulletin SB265,
  19 January 2023), "Student numbers and characteristics": 2,862,620 students, of whom
  679,970 (24%) were not UK domiciled and 29% were on postgraduate courses; 57% female,
  43% male, under 1% in another way; UK domiciled students of known ethnicity 72% White,
  13% Asian, 8% Black, 5% Mixed, 2% Other.
  HESA, Higher Education Student Data 2019/20 (9 February 2021): 17% of UK domiciled
  students reported a disability.
HESA does not collect ethnicity for students from abroad, so theirs is not recorded here
either. Sexual orientation, first in family and care experience are the demo's own
plausible shares (marked below), not HESA figures. Each answer may be left unrecorded, as
equality monitoring forms are in practice.
"""

import datetime as dt
import random

GIVEN = ["Aisha", "Ben", "Chloe", "Dev", "Ella", "Femi", "Grace", "Hamza", "Isla", "Jack",
         "Kai", "Leah", "Mo", "Nia", "Oscar", "Priya", "Quinn", "Rosa", "Sam", "Tariq",
         "Uma", "Vik", "Wren", "Xin", "Yusuf", "Zara"]  # fmt: skip
FAMILY = ["Ahmed", "Brown", "Chen", "Davies", "Evans", "Friedman", "Green", "Hughes",
          "Iqbal", "Jones", "Khan", "Lewis", "Morgan", "Nowak", "Okafor", "Patel",
          "Roberts", "Singh", "Taylor", "Walker", "Wilson", "Wright", "Young"]  # fmt: skip
GENDER = {"woman": 57, "man": 42.5, "non_binary": 0.4, "not_said": 0.1}
ETHNICITY_UK = {"white": 72, "asian": 13, "black": 8, "mixed": 5, "other": 2}
DISABILITY_UK = 0.17
INTERNATIONAL = 0.24
# Level of study by domicile, chosen so that 29% of all students are postgraduates: most
# students from abroad are on taught masters courses.
LEVEL = {
    False: {"undergraduate": 80, "foundation": 5, "pgt": 11, "pgr": 4},
    True: {"undergraduate": 33, "pgt": 60, "pgr": 7},
}
# The demo's own shares, not HESA's.
SEXUAL_ORIENTATION = {"heterosexual": 76, "bisexual": 8, "gay_lesbian": 4, "other": 2,
                      "not_said": 10}  # fmt: skip
FIRST_IN_FAMILY = 0.4
CARE_EXPERIENCED = 0.02
UNRECORDED = 0.05  # each answer's chance of being left blank


def _pick(rng: random.Random, weights: dict[str, float]) -> str:
    return rng.choices(list(weights), list(weights.values()))[0]


def _yes_no(rng: random.Random, share: float) -> str:
    return "yes" if rng.random() < share else "no"


def equality_answers(rng: random.Random, *, international: bool) -> dict:
    """A student's equality monitoring answers (the `Student` fields of the same names)."""
    answers = {
        "gender": _pick(rng, GENDER),
        "ethnicity_group": "" if international else _pick(rng, ETHNICITY_UK),
        "disability": _yes_no(rng, DISABILITY_UK),
        "sexual_orientation": _pick(rng, SEXUAL_ORIENTATION),
        "first_in_family": _yes_no(rng, FIRST_IN_FAMILY),
        "care_experienced": _yes_no(rng, CARE_EXPERIENCED),
    }
    for field in answers:
        if rng.random() < UNRECORDED:
            answers[field] = ""
    return answers


def study_and_birth(rng: random.Random, *, international: bool, today: dt.date) -> dict:
    """Level and year of study, and a date of birth to match: most undergraduates start at
    18, one in six later; taught postgraduates are in their twenties, researchers older."""
    level = _pick(rng, LEVEL[international])
    if level in ("undergraduate", "foundation"):
        year = 1 if level == "foundation" else rng.choices([1, 2, 3, 4], [36, 31, 28, 5])[0]
        age = 17 + year + (rng.randrange(3, 20) if rng.random() < 1 / 6 else rng.randrange(2))
    elif level == "pgt":
        year, age = 1, rng.randrange(21, 32)
    else:
        year = rng.randrange(1, 5)
        age = rng.randrange(23, 33) + year
    born = today - dt.timedelta(days=365 * age + rng.randrange(365))
    return {"level_of_study": level, "year_of_study": year, "date_of_birth": born}
