"""The definition files and their checks (shared/spec/measures.md §0 to §6). No database."""

# Error messages print ranges with an en dash (U+2013), so the expected strings do too.

import copy
import re
import tomllib

import pytest

from joinedup.measures import instruments
from joinedup.measures.instruments import (
    CODES,
    DEFINITIONS_DIR,
    check_definition,
    load,
    loinc_code_problem,
)


def _data(code: str) -> dict:
    path = DEFINITIONS_DIR / f"{code.lower()}.toml"
    return tomllib.loads(path.read_text(encoding="utf-8"))


def _write(directory, code: str, data_text: str) -> None:
    (directory / f"{code.lower()}.toml").write_text(data_text, encoding="utf-8")


def _copy_definitions(directory, codes=CODES) -> None:
    for code in codes:
        name = f"{code.lower()}.toml"
        (directory / name).write_text((DEFINITIONS_DIR / name).read_text(encoding="utf-8"))


# Loading


def test_every_shipped_definition_loads_in_codes_order():
    loaded = load()
    assert tuple(loaded) == CODES
    assert tuple(i.code for i in instruments.all_instruments()) == CODES


def test_get_returns_the_shipped_definition():
    assert instruments.get("CORE-OM").item_count == 34


def test_get_of_an_unknown_code_names_the_known_codes():
    message = "Unknown measure 'PHQ-8'. Known: PHQ-9, GAD-7, CORE-10, CORE-OM, WEMWBS, SWEMWBS"
    with pytest.raises(ValueError, match=re.escape(message)):
        instruments.get("PHQ-8")


@pytest.mark.parametrize(
    ("code", "item_count", "answer_min", "answer_max", "score_min", "score_max", "main_field"),
    [
        ("PHQ-9", 9, 0, 3, 0, 27, "total"),
        ("GAD-7", 7, 0, 3, 0, 21, "total"),
        ("CORE-10", 10, 0, 4, 0, 40, "clinical_score"),
        ("CORE-OM", 34, 0, 4, 0, 40, "clinical_score"),
        ("WEMWBS", 14, 1, 5, 14, 70, "total"),
        ("SWEMWBS", 7, 1, 5, 7, 35, "metric_score"),
    ],
)
def test_items_answers_and_score_range_are_as_the_spec_says(
    code, item_count, answer_min, answer_max, score_min, score_max, main_field
):
    instrument = instruments.get(code)
    assert instrument.item_count == item_count
    assert [item.number for item in instrument.items] == list(range(1, item_count + 1))
    assert (instrument.answer_min, instrument.answer_max) == (answer_min, answer_max)
    assert [option.value for option in instrument.options] == list(
        range(answer_min, answer_max + 1)
    )
    assert (instrument.score_min, instrument.score_max) == (score_min, score_max)
    assert instrument.main_score_field == main_field


@pytest.mark.parametrize(
    ("code", "labels"),
    [
        ("PHQ-9", ["Not at all", "Several days", "More than half the days", "Nearly every day"]),
        ("GAD-7", ["Not at all", "Several days", "More than half the days", "Nearly every day"]),
        (
            "CORE-10",
            ["Not at all", "Only occasionally", "Sometimes", "Often", "Most or all of the time"],
        ),
        (
            "WEMWBS",
            ["None of the time", "Rarely", "Some of the time", "Often", "All of the time"],
        ),
    ],
)
def test_option_labels_are_printed_in_order(code, labels):
    assert [option.label for option in instruments.get(code).options] == labels


@pytest.mark.parametrize(
    ("code", "bands"),
    [
        (
            "PHQ-9",
            [
                ("minimal", 0),
                ("mild", 5),
                ("moderate", 10),
                ("moderately severe", 15),
                ("severe", 20),
            ],
        ),
        ("GAD-7", [("minimal", 0), ("mild", 5), ("moderate", 10), ("severe", 15)]),
        (
            "CORE-10",
            [
                ("healthy", 0),
                ("low", 6),
                ("mild", 11),
                ("moderate", 15),
                ("moderate-to-severe", 20),
                ("severe", 25),
            ],
        ),
        (
            "CORE-OM",
            [
                ("healthy", 0),
                ("low", 6),
                ("mild", 10),
                ("moderate", 15),
                ("moderate-to-severe", 20),
                ("severe", 25),
            ],
        ),
        ("WEMWBS", []),
        ("SWEMWBS", []),
    ],
)
def test_bands_are_lower_case_and_start_where_the_spec_says(code, bands):
    assert [(band.label, band.lower) for band in instruments.get(code).bands] == bands


@pytest.mark.parametrize(
    ("code", "cutoff", "rci", "improvement"),
    [
        ("PHQ-9", 10, 6, "decrease"),
        ("GAD-7", 8, 4, "decrease"),
        ("CORE-10", 11, 6, "decrease"),
        ("CORE-OM", 10, None, "decrease"),
        ("WEMWBS", None, None, "increase"),
        ("SWEMWBS", None, None, "increase"),
    ],
)
def test_cutoff_reliable_change_and_direction(code, cutoff, rci, improvement):
    instrument = instruments.get(code)
    assert instrument.caseness_cutoff == cutoff
    assert instrument.reliable_change == rci
    assert instrument.improvement == improvement


def test_wemwbs_has_warwicks_meaningful_change_and_no_other_threshold():
    wemwbs = instruments.get("WEMWBS")
    assert wemwbs.meaningful_change == 3
    assert instruments.get("SWEMWBS").meaningful_change is None


@pytest.mark.parametrize(
    ("code", "max_missing", "prorate"),
    [
        ("PHQ-9", 2, True),
        ("GAD-7", 0, False),
        ("CORE-10", 1, True),
        ("CORE-OM", 3, True),
        ("WEMWBS", 0, False),
        ("SWEMWBS", 0, False),
    ],
)
def test_missing_item_rules(code, max_missing, prorate):
    instrument = instruments.get(code)
    assert (instrument.max_missing, instrument.prorate) == (max_missing, prorate)


@pytest.mark.parametrize(
    ("code", "reversed_items"),
    [
        ("PHQ-9", ()),
        ("GAD-7", ()),
        ("CORE-10", (2, 3)),
        ("CORE-OM", (3, 4, 7, 12, 19, 21, 31, 32)),
        ("WEMWBS", ()),
        ("SWEMWBS", ()),
    ],
)
def test_reverse_scored_items(code, reversed_items):
    assert instruments.get(code).reversed_items == reversed_items


def test_core_om_item_30_is_not_reverse_scored():
    # One public implementation reverses item 30 instead of 32 (spec §4).
    core_om = instruments.get("CORE-OM")
    assert not core_om.items[29].is_reversed
    assert core_om.items[31].is_reversed


@pytest.mark.parametrize(
    ("code", "risk_items"),
    [
        ("PHQ-9", {9: "self"}),
        ("GAD-7", {}),
        ("CORE-10", {6: "self"}),
        ("CORE-OM", {6: "others", 9: "self", 16: "self", 22: "others", 24: "self", 34: "self"}),
        ("WEMWBS", {}),
        ("SWEMWBS", {}),
    ],
)
def test_risk_items_and_their_kinds(code, risk_items):
    instrument = instruments.get(code)
    assert {item.number: item.risk for item in instrument.items if item.risk} == risk_items
    if risk_items:
        assert instrument.risk_threshold == 1


def test_only_the_core_om_reports_risk_by_kind():
    assert [i.code for i in instruments.all_instruments() if i.risk_by_kind] == ["CORE-OM"]


def test_core_om_domains_cover_every_item_once():
    subscales = {s.code: s for s in instruments.get("CORE-OM").subscales}
    assert subscales["W"].items == (4, 14, 17, 31)
    assert subscales["P"].items == (2, 5, 8, 11, 13, 15, 18, 20, 23, 27, 28, 30)
    assert subscales["F"].items == (1, 3, 7, 10, 12, 19, 21, 25, 26, 29, 32, 33)
    assert subscales["R"].items == (6, 9, 16, 22, 24, 34)
    domain_items = [n for code in "WPFR" for n in subscales[code].items]
    assert sorted(domain_items) == list(range(1, 35))
    assert set(subscales["non_risk"].items) == set(range(1, 35)) - set(subscales["R"].items)


def test_core_om_domain_missing_limits():
    limits = {s.code: s.max_missing for s in instruments.get("CORE-OM").subscales}
    assert limits == {"W": 0, "P": 1, "F": 1, "R": 0, "non_risk": 3}


def test_only_the_core_om_has_subscales():
    assert [i.code for i in instruments.all_instruments() if i.subscales] == ["CORE-OM"]


def test_swemwbs_items_are_wemwbs_items_1_2_3_6_7_9_11():
    swemwbs = instruments.get("SWEMWBS")
    assert swemwbs.short_form_of == "WEMWBS"
    assert swemwbs.source_items == (1, 2, 3, 6, 7, 9, 11)


def test_swemwbs_conversion_table_covers_every_raw_score_once():
    conversion = instruments.get("SWEMWBS").conversion
    assert [row.raw for row in conversion] == list(range(7, 36))
    assert (conversion[0].metric, conversion[-1].metric) == (7.00, 35.00)


# Texts and licences


@pytest.mark.parametrize("code", ["WEMWBS", "SWEMWBS"])
def test_wemwbs_texts_are_not_shipped(code):
    instrument = instruments.get(code)
    assert instrument.texts_shipped is False
    assert all(item.text is None for item in instrument.items)
    raw = (DEFINITIONS_DIR / f"{code.lower()}.toml").read_text(encoding="utf-8")
    assert "text =" not in raw


@pytest.mark.parametrize("code", ["PHQ-9", "GAD-7", "CORE-10", "CORE-OM"])
def test_freely_licensed_measures_ship_every_item_text(code):
    instrument = instruments.get(code)
    assert instrument.texts_shipped is True
    assert all(item.text for item in instrument.items)


@pytest.mark.parametrize("code", CODES)
def test_every_measure_states_its_licence_period_and_spec_section(code):
    instrument = instruments.get(code)
    assert instrument.licence.strip()
    assert instrument.period.startswith("Over the last")
    assert instrument.spec_section.startswith("shared/spec/measures.md §")


def test_core_licence_is_cc_by_nd():
    for code in ("CORE-10", "CORE-OM"):
        assert "CC BY-ND 4.0" in instruments.get(code).licence


def test_wemwbs_licence_says_why_texts_are_absent():
    assert "licence" in instruments.get("WEMWBS").licence


def test_phq9_and_gad7_periods_are_the_published_stems():
    assert instruments.get("PHQ-9").period == (
        "Over the last 2 weeks, how often have you been bothered by any of the following problems?"
    )
    assert instruments.get("GAD-7").period == (
        "Over the last 2 weeks, how often have you been bothered by the following problems?"
    )


def test_phq9_item_9_text_is_the_published_wording():
    assert instruments.get("PHQ-9").items[8].text == (
        "Thoughts that you would be better off dead or of hurting yourself in some way"
    )


def test_core10_item_texts_are_as_published():
    texts = [item.text for item in instruments.get("CORE-10").items]
    assert texts == [
        "I have felt tense, anxious or nervous",
        "I have felt I have someone to turn to for support when needed",
        "I have felt able to cope when things go wrong",
        "Talking to people has felt too much for me",
        "I have felt panic or terror",
        "I made plans to end my life",
        "I have had difficulty getting to sleep or staying asleep",
        "I have felt despairing or hopeless",
        "I have felt unhappy",
        "Unwanted images or memories have been distressing me",
    ]


def test_core10_items_appear_word_for_word_in_the_core_om():
    core_om_texts = {item.text for item in instruments.get("CORE-OM").items}
    assert {item.text for item in instruments.get("CORE-10").items} <= core_om_texts


@pytest.mark.parametrize(
    ("number", "text"),
    [
        (4, "I have felt O.K. about myself"),
        (11, "Tension and anxiety have prevented me doing important things"),
        (30, "I have thought I am to blame for my problems and difficulties"),
        (32, "I have achieved the things I wanted to"),
        (34, "I have hurt myself physically or taken dangerous risks with my health"),
    ],
)
def test_core_om_item_texts_are_as_published(number, text):
    assert instruments.get("CORE-OM").items[number - 1].text == text


def test_item_texts_have_no_stray_whitespace():
    for instrument in instruments.all_instruments():
        for item in instrument.items:
            assert item.text is None or item.text == item.text.strip()


# LOINC


def test_phq9_loinc_codes_are_as_the_spec_says():
    phq9 = instruments.get("PHQ-9")
    assert (phq9.loinc_panel, phq9.loinc_total) == ("44249-1", "44261-6")
    assert [item.loinc for item in phq9.items] == [
        "44250-9",
        "44255-8",
        "44259-0",
        "44254-1",
        "44251-7",
        "44258-2",
        "44252-5",
        "44253-3",
        "44260-8",
    ]
    assert [option.loinc for option in phq9.options] == [
        "LA6568-5",
        "LA6569-3",
        "LA6570-1",
        "LA6571-9",
    ]
    assert phq9.loinc_answer_system == "http://loinc.org"


def test_phq9_difficulty_item_is_asked_but_not_scored():
    phq9 = instruments.get("PHQ-9")
    (difficulty,) = phq9.unscored_items
    assert (difficulty.number, difficulty.loinc) == (10, "69722-7")
    assert [(o.label, o.loinc) for o in difficulty.options] == [
        ("Not difficult at all", "LA6572-7"),
        ("Somewhat difficult", "LA6573-5"),
        ("Very difficult", "LA6575-0"),
        ("Extremely difficult", "LA6574-3"),
    ]
    assert phq9.item_count == 9


def test_gad7_loinc_codes_are_as_the_spec_says():
    gad7 = instruments.get("GAD-7")
    assert (gad7.loinc_panel, gad7.loinc_total) == ("69737-5", "70274-6")
    assert [item.loinc for item in gad7.items] == [
        "69725-0",
        "68509-9",
        "69733-4",
        "69734-2",
        "69735-9",
        "69689-8",
        "69736-7",
    ]
    assert [option.loinc for option in gad7.options] == [
        "LA6568-5",
        "LA6569-3",
        "LA6570-1",
        "LA6571-9",
    ]


@pytest.mark.parametrize("code", ["CORE-10", "CORE-OM", "WEMWBS", "SWEMWBS"])
def test_measures_without_loinc_codes_have_none(code):
    instrument = instruments.get(code)
    assert (instrument.loinc_panel, instrument.loinc_total) == (None, None)
    assert all(item.loinc is None for item in instrument.items)
    assert all(option.loinc is None for option in instrument.options)


@pytest.mark.parametrize("code", ["44249-1", "44261-6", "44260-8", "69737-5", "70274-6"])
def test_loinc_check_digit_accepts_real_codes(code):
    assert loinc_code_problem(code) is None


@pytest.mark.parametrize(
    ("code", "problem"),
    [
        ("44249-2", "its check digit should be 1"),
        ("44249", "is not a LOINC code"),
        ("LA6568-5", "is not a LOINC code"),
    ],
)
def test_loinc_check_digit_rejects_typos(code, problem):
    assert problem in loinc_code_problem(code)


# Instrument methods


def test_band_for_uses_the_lower_bound_inclusively_and_the_unrounded_value():
    core10 = instruments.get("CORE-10")
    assert core10.band_for(10.9) == "low"
    assert core10.band_for(11) == "mild"
    assert instruments.get("WEMWBS").band_for(50) is None


def test_is_case_is_none_without_a_cutoff():
    assert instruments.get("GAD-7").is_case(8) is True
    assert instruments.get("GAD-7").is_case(7) is False
    assert instruments.get("SWEMWBS").is_case(20) is None


def test_item_score_mirrors_reversed_items():
    core10 = instruments.get("CORE-10")
    assert [core10.item_score(core10.items[1], p) for p in range(5)] == [4, 3, 2, 1, 0]
    assert [core10.item_score(core10.items[0], p) for p in range(5)] == [0, 1, 2, 3, 4]


# Broken definitions: each mutation makes check_definition name the wrong field.


def _set(path, value):
    def mutate(data):
        target = data
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value

    return mutate


def _delete(path):
    def mutate(data):
        target = data
        for key in path[:-1]:
            target = target[key]
        del target[path[-1]]

    return mutate


def _swap_items(first, second):
    def mutate(data):
        items = data["items"]
        items[first], items[second] = items[second], items[first]

    return mutate


BROKEN = [
    ("PHQ-9", _delete(["code"]), "test.toml, code: is missing"),
    ("PHQ-9", _set(["code"], 9), "test.toml, code: must be text, not 9"),
    ("PHQ-9", _set(["name"], "  "), "test.toml, name: must not be blank"),
    ("PHQ-9", _set(["colour"], "blue"), "test.toml, colour: is not a known field"),
    ("PHQ-9", _set(["texts_shipped"], "yes"), "texts_shipped: must be true or false"),
    ("PHQ-9", _set(["items", 1, "number"], 1), "test.toml, items: item 1 appears twice"),
    (
        "PHQ-9",
        _delete(["items", 3]),
        "test.toml, items: item 4 is missing (items are numbered 1–9)",
    ),
    ("PHQ-9", _swap_items(0, 1), "test.toml, items: items must be listed in order, not 2, 1"),
    ("PHQ-9", _set(["items"], []), "test.toml, items: must not be empty"),
    (
        "PHQ-9",
        _set(["items", 8, "risk"], "both"),
        "test.toml, items #9, risk: 'both' is not one of self, others",
    ),
    (
        "PHQ-9",
        _set(["items", 1, "reverse"], True),
        "test.toml, items #2, reverse: is not a known field (a typo?)",
    ),
    (
        "CORE-10",
        _set(["items", 1, "reversed"], "yes"),
        "test.toml, items #2, reversed: must be true or false, not 'yes'",
    ),
    (
        "CORE-10",
        _set(["items", 5, "reversed"], True),
        "test.toml, items #6, reversed: a risk item cannot be reverse-scored",
    ),
    (
        "PHQ-9",
        _set(["items", 0, "number"], True),
        "test.toml, items #1, number: must be a whole number, not True",
    ),
    ("PHQ-9", _delete(["items", 0, "text"]), "items #1, text: is missing, but texts_shipped"),
    (
        "WEMWBS",
        _set(["items", 0, "text"], "A wellbeing statement"),
        "test.toml, items #1, text: must be left out: texts_shipped is false (licence)",
    ),
    (
        "PHQ-9",
        _set(["options", 3, "value"], 4),
        "test.toml, options #4, value: 4 is not one of 0–3",
    ),
    (
        "PHQ-9",
        _delete(["options", 2]),
        "test.toml, options: values are 0, 1, 3; expected one option for each of 0, 1, 2, 3",
    ),
    (
        "PHQ-9",
        _set(["options", 0, "loinc"], "6568-5"),
        "test.toml, options #1, loinc: '6568-5' is not a LOINC answer code",
    ),
    ("PHQ-9", _set(["answers", "min"], 3), "test.toml, answers, max: 3 must be above min 3"),
    (
        "PHQ-9",
        _set(["bands", 2, "lower"], 5),
        "test.toml, bands #3, lower: 5 must be above the previous band's 5",
    ),
    (
        "PHQ-9",
        _set(["bands", 1, "lower"], 12),
        "test.toml, bands #3, lower: 10 must be above the previous band's 12",
    ),
    ("PHQ-9", _set(["bands", 0, "lower"], 1), "bands #1, lower: the first band must start at 0"),
    ("PHQ-9", _set(["bands", 4, "lower"], 27), "bands #5, lower: 27 must be below 27"),
    ("PHQ-9", _set(["bands", 1, "label"], "Mild"), "bands #2, label: 'Mild' must be lower case"),
    ("PHQ-9", _set(["bands", 1, "label"], "minimal"), "bands #2, label: 'minimal' is used twice"),
    (
        "PHQ-9",
        _set(["scoring", "score_max"], 28),
        "test.toml, scoring, score_min: the range 0–28 does not follow from the items; "
        "expected 0–27",
    ),
    (
        "CORE-OM",
        _set(["scoring", "score_max"], 136),
        "scoring, score_min: the range 0–136 does not follow from the items; expected 0–40",
    ),
    (
        "PHQ-9",
        _set(["scoring", "caseness_cutoff"], 30),
        "test.toml, scoring, caseness_cutoff: 30 is outside 0–27",
    ),
    (
        "WEMWBS",
        _set(["scoring", "caseness_cutoff"], 40),
        "scoring, caseness_cutoff: is only defined for measures where a fall is improvement",
    ),
    (
        "PHQ-9",
        _set(["scoring", "reliable_change"], 0),
        "scoring, reliable_change: 0 must be above 0",
    ),
    (
        "PHQ-9",
        _set(["scoring", "method"], "average"),
        "scoring, method: 'average' is not one of sum, clinical_score, conversion_table",
    ),
    (
        "PHQ-9",
        _set(["scoring", "improvement"], "down"),
        "scoring, improvement: 'down' is not one of decrease, increase",
    ),
    ("PHQ-9", _set(["missing", "max_missing"], 9), "missing, max_missing: 9 is not one of 0–8"),
    (
        "GAD-7",
        _set(["missing", "max_missing"], 1),
        "missing, prorate: must be true when items may be missing",
    ),
    ("PHQ-9", _delete(["risk"]), "test.toml, risk: is missing; items 9 are risk items"),
    ("GAD-7", _set(["risk"], {"threshold": 1}), "risk: is set but no item has a risk kind"),
    ("PHQ-9", _set(["risk", "threshold"], 0), "risk, threshold: 0 is not one of 1–3"),
    (
        "CORE-OM",
        _set(["subscales", 0, "items"], [4, 14, 17, 35]),
        "test.toml, subscales #1, items: item 35 is outside 1–34",
    ),
    (
        "CORE-OM",
        _set(["subscales", 0, "items"], [4, 14, 14]),
        "subscales #1, items: lists an item twice: 4, 14, 14",
    ),
    (
        "CORE-OM",
        _set(["subscales", 1, "code"], "W"),
        "subscales #2, code: 'W' is used twice",
    ),
    (
        "CORE-OM",
        _set(["subscales", 0, "max_missing"], 4),
        "subscales #1, max_missing: 4 is not one of 0–3",
    ),
    (
        "SWEMWBS",
        _delete(["conversion", 5]),
        "test.toml, conversion: must give each raw score 7–35 once, in order",
    ),
    (
        "SWEMWBS",
        _set(["conversion", 5, "metric"], 13.0),
        "conversion #6, metric: 13.0 must be above the previous row's 13.33",
    ),
    ("SWEMWBS", _delete(["conversion"]), "test.toml, conversion: is missing"),
    (
        "SWEMWBS",
        _set(["missing"], {"max_missing": 1, "prorate": True}),
        "missing, max_missing: must be 0: the conversion needs a whole raw score",
    ),
    (
        "SWEMWBS",
        _set(["short_form_of", "items"], [1, 2, 3]),
        "short_form_of, items: lists 3 items; this measure has 7",
    ),
    (
        "PHQ-9",
        _set(["loinc", "panel"], "44249-2"),
        "test.toml, loinc, panel: '44249-2' is not a valid LOINC code "
        "(its check digit should be 1)",
    ),
    (
        "PHQ-9",
        _set(["items", 0, "loinc"], "44250-8"),
        "items #1, loinc: '44250-8' is not a valid LOINC code",
    ),
    (
        "PHQ-9",
        _set(["unscored_items", 0, "number"], 9),
        "unscored_items #1, number: 9 is already used by another item",
    ),
    ("PHQ-9", _set(["answers"], [0, 3]), "test.toml, answers: must be a table"),
]


@pytest.mark.parametrize(
    ("code", "mutate", "message"), BROKEN, ids=[message for _, _, message in BROKEN]
)
def test_check_definition_rejects_broken_data_naming_the_field(code, mutate, message):
    data = copy.deepcopy(_data(code))
    mutate(data)
    with pytest.raises(ValueError, match=re.escape(message)):
        check_definition(data, source="test.toml")


@pytest.mark.parametrize("code", CODES)
def test_check_definition_accepts_every_shipped_file(code):
    assert check_definition(_data(code), source="x.toml") == instruments.get(code)


def test_check_definition_names_a_generic_source_by_default():
    data = _data("GAD-7")
    del data["name"]
    with pytest.raises(ValueError, match=re.escape("definition, name: is missing")):
        check_definition(data)


def test_load_names_the_broken_file(tmp_path):
    _copy_definitions(tmp_path)
    path = tmp_path / "gad-7.toml"
    path.write_text(path.read_text().replace("value = 3", "value = 4"))
    with pytest.raises(ValueError, match=re.escape("gad-7.toml, options #4, value: 4 is not")):
        load(tmp_path)


def test_load_rejects_invalid_toml(tmp_path):
    _write(tmp_path, "PHQ-9", "code = PHQ-9\n")
    with pytest.raises(ValueError, match=re.escape("phq-9.toml: not valid TOML")):
        load(tmp_path, required=())


def test_load_rejects_a_file_named_after_another_code(tmp_path):
    (tmp_path / "phq9.toml").write_text((DEFINITIONS_DIR / "phq-9.toml").read_text())
    with pytest.raises(ValueError, match=re.escape("phq9.toml: code 'PHQ-9' belongs in")):
        load(tmp_path, required=())


def test_load_requires_every_measure_by_default(tmp_path):
    _copy_definitions(tmp_path, codes=("PHQ-9", "GAD-7"))
    with pytest.raises(ValueError, match="no definition file for CORE-10"):
        load(tmp_path)
    assert tuple(load(tmp_path, required=())) == ("PHQ-9", "GAD-7")


def test_load_rejects_a_short_form_of_a_missing_measure(tmp_path):
    _copy_definitions(tmp_path, codes=("SWEMWBS",))
    with pytest.raises(ValueError, match=re.escape("short_form_of, code: no definition")):
        load(tmp_path, required=())


def test_load_rejects_a_short_form_item_its_parent_lacks(tmp_path):
    _copy_definitions(tmp_path, codes=("WEMWBS", "SWEMWBS"))
    path = tmp_path / "swemwbs.toml"
    path.write_text(path.read_text().replace("[1, 2, 3, 6, 7, 9, 11]", "[1, 2, 3, 6, 7, 9, 15]"))
    message = "swemwbs.toml, short_form_of, items: item 15 is outside 1–14 (WEMWBS)"
    with pytest.raises(ValueError, match=re.escape(message)):
        load(tmp_path, required=())
