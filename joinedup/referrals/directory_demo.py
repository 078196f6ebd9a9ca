"""Directory entries for the demo hub's services (see `joinedup.record.demo`).

Phone numbers are in Ofcom's ranges kept for drama (0161 496 0xxx, 0113 496 0xxx, 0808 157 0xxx),
so none of them reaches a real person.
"""

from joinedup.referrals.models import DirectoryEntry

WEEKDAYS = ("0", "1", "2", "3", "4")
ALL_DAY = [["00:00", "24:00"]]


def _hours(weekdays=None, **days) -> dict:
    """Opening hours: the same spans every weekday, then any day given as d0=..., d5=...."""
    hours = dict.fromkeys(WEEKDAYS, weekdays) if weekdays else {}
    hours.update({name.removeprefix("d"): spans for name, spans in days.items()})
    return hours


def _university_entries(key: str, uni_name: str, phone_stem: str) -> dict[str, dict]:
    place = uni_name.removeprefix("University of ").removesuffix(" University")
    domain = f"{key}.demo.joinedup.example"
    nightline = (
        "When we are closed and you are worried about your safety, call NHS 111 and choose the "
        f"mental health option, any time of day or night. From 20:00 to 08:00, {place} "
        f"Nightline (students listening to students) is there to talk on 0808 157 0{phone_stem}99."
    )
    nightline_cy = (
        "Pan fyddwn ni ar gau a'ch bod chi'n poeni am eich diogelwch, ffoniwch GIG 111 a dewis "
        "yr opsiwn iechyd meddwl, unrhyw adeg o'r dydd neu'r nos. Rhwng 20:00 a 08:00, mae "
        f"Nightline {place} (myfyrwyr yn gwrando ar fyfyrwyr) yno i siarad ar 0808 157 "
        f"0{phone_stem}99."
    )
    return {
        f"{key}_wellbeing": {
            "purpose": (
                "Short-term support when life at university gets hard: a same-day drop-in, "
                "one-to-one wellbeing sessions, workshops on sleep, stress and exams, and help "
                "finding the right service if you need more."
            ),
            "who_for": f"Any student of {uni_name}, undergraduate or postgraduate.",
            # Written in Welsh too, for students reading in Welsh; the rest shows in English.
            "welsh": {
                "purpose": (
                    "Cymorth tymor byr pan fydd bywyd yn y brifysgol yn anodd: sesiwn galw heibio "
                    "ar yr un diwrnod, sesiynau llesiant un-i-un, gweithdai ar gwsg, straen ac "
                    "arholiadau, a help i ddod o hyd i'r gwasanaeth iawn os oes angen mwy arnoch."
                ),
                "who_for": f"Unrhyw fyfyriwr yn {uni_name}, israddedig neu ôl-raddedig.",
                "out_of_hours": nightline_cy,
            },
            "eligibility": (
                "There is no threshold: you do not need a diagnosis or a GP letter. If you are at "
                "immediate risk, we will help you reach the crisis team the same day."
            ),
            "how_to_refer": (
                "Students can fill in the short online form or come to a drop-in. Staff can "
                "refer with the student's agreement through JoinedUp."
            ),
            "information_needed": (
                "What is going on in a few sentences, how long it has been happening, any "
                "worries about safety, and the best way to get in touch."
            ),
            "accepts_referrals_from": ["self", "academic", "service", "gp"],
            "phone": f"0161 496 0{phone_stem}10",
            "email": f"wellbeing@{domain}",
            "address": "Student Services Centre, ground floor\nOpen drop-in 10:00 to 15:00",
            "opening_hours": _hours([["09:00", "17:00"]], d2=[["09:00", "19:00"]]),
            "out_of_hours": nightline,
            "self_help": (
                "Every Mind Matters: a free plan for sleep, worry and mood https://www.nhs.uk/every-mind-matters/\n"
                "Student Space: support and stories from other students https://studentspace.org.uk/\n"
                "Drop in to the Wellbeing Service, 10:00 to 15:00 on weekdays, if you want to talk "
                "before your appointment"
            ),
            "topics": [
                "anxiety",
                "low mood",
                "exam stress",
                "loneliness",
                "sleep",
                "international students",
                "money worries",
            ],
        },
        f"{key}_counselling": {
            "purpose": (
                "Up to eight sessions of counselling, in person or online, for difficulties that "
                "are getting in the way of life and study."
            ),
            "who_for": f"Students of {uni_name} who are enrolled or on an interruption.",
            "eligibility": (
                "Counselling suits students who can keep themselves safe between sessions. "
                "For eating difficulties we work alongside your GP, who will check your physical "
                "health. If you need urgent or long-term care, we will help you reach the NHS."
            ),
            "how_to_refer": (
                "Students refer themselves with the online form. Other services can refer "
                "through JoinedUp; academic staff should signpost to the Wellbeing Service."
            ),
            "information_needed": (
                "What you would like help with, anything that makes it hard to attend (such as "
                "timetable or caring responsibilities), and whether you prefer online sessions."
            ),
            "accepts_referrals_from": ["self", "service"],
            "phone": f"0161 496 0{phone_stem}20",
            "email": f"counselling@{domain}",
            "address": "Student Services Centre, second floor",
            "opening_hours": _hours([["09:00", "17:00"]], d4=[["09:00", "16:00"]]),
            "out_of_hours": nightline,
            "self_help": (
                "Every Mind Matters: a free plan for sleep, worry and mood https://www.nhs.uk/every-mind-matters/\n"
                "Student Space: support and stories from other students https://studentspace.org.uk/\n"
                "Drop in to the Wellbeing Service, 10:00 to 15:00 on weekdays, if you want to talk "
                "before your appointment"
            ),
            "topics": [
                "anxiety",
                "low mood",
                "bereavement",
                "eating difficulties",
                "lgbtq+",
                "trauma",
                "self-harm",
            ],
        },
        f"{key}_disability": {
            "purpose": (
                "Advice on reasonable adjustments, Disabled Students' Allowance and support "
                "plans for disabled students, including those with a mental health condition."
            ),
            "who_for": (
                f"Students of {uni_name} with a disability, long-term health condition, "
                "mental health condition or specific learning difference."
            ),
            "eligibility": (
                "You do not need a diagnosis to talk to us; for a support plan we will ask for "
                "evidence, and can help you get it."
            ),
            "how_to_refer": "Book an appointment online, or ask your personal tutor to refer you.",
            "information_needed": "Your course and year, and what is making study harder.",
            "accepts_referrals_from": ["self", "academic", "service"],
            "phone": f"0161 496 0{phone_stem}30",
            "email": f"disability@{domain}",
            "address": "Library building, first floor",
            "opening_hours": _hours([["10:00", "16:00"]]),
            "out_of_hours": (
                "This is not an emergency service. If you are worried about your safety, call "
                "NHS 111 and choose the mental health option, any time. From 20:00 to 08:00, "
                f"{place} Nightline is there to talk on 0808 157 0{phone_stem}99."
            ),
            "topics": ["disability", "autism and adhd", "exam stress"],
        },
    }


def _nhs_and_charity_entries() -> dict[str, dict]:
    crisis_line = (
        "Call the 24-hour mental health crisis line on 0808 157 0111, or NHS 111 and choose the "
        "mental health option. If someone's life is at risk now, call 999 or go to A&E."
    )
    return {
        "crisis": {
            "purpose": (
                "Urgent assessment and short-term home treatment for people in a mental health "
                "crisis, as an alternative to a hospital admission where that is safe."
            ),
            "who_for": "Adults (18 and over) in Northbridge and Southgate, students included.",
            "eligibility": (
                "For a crisis: a risk to your own or someone else's safety, or a sudden change in "
                "mental health that cannot wait for a routine appointment. Not registered with a "
                "GP? We will still see you."
            ),
            "how_to_refer": (
                "Anyone can call the 24-hour crisis line. Services and GPs refer through "
                "JoinedUp or by phone, and should call as well for a same-day response."
            ),
            "information_needed": (
                "What has happened, the current risk, who is with the person, and how to reach "
                "them now."
            ),
            "accepts_referrals_from": ["self", "service", "gp"],
            "phone": "0808 157 0111",
            "email": "crisis.team@trust.demo.joinedup.example",
            "address": "Willow House, Northbridge General Hospital",
            "opening_hours": {str(day): ALL_DAY for day in range(7)},
            "out_of_hours": crisis_line,
            "topics": [
                "crisis",
                "suicidal thoughts",
                "self-harm",
                "psychosis",
                "not registered with a gp",
            ],
        },
        "talking": {
            "purpose": (
                "NHS talking therapies for common mental health problems: guided self-help, "
                "cognitive behavioural therapy (CBT), counselling for depression and more."
            ),
            "who_for": "Adults registered with a GP in Northbridge or Southgate.",
            "eligibility": (
                "For anxiety, depression, panic, OCD, phobias and post-traumatic stress. If you "
                "are at high risk or need longer-term care, we will pass you to the community "
                "mental health team."
            ),
            "how_to_refer": (
                "Refer yourself online or by phone; no GP appointment is needed. GPs and other "
                "services can refer too."
            ),
            "information_needed": "Your GP practice, your NHS number if you know it, and contacts.",
            "accepts_referrals_from": ["self", "gp", "service"],
            "phone": "0113 496 0420",
            "email": "talking.therapies@trust.demo.joinedup.example",
            "address": "Northbridge Health Centre, 2 Mill Street",
            "opening_hours": _hours(
                [["08:00", "20:00"]], d4=[["08:00", "17:00"]], d5=[["09:00", "13:00"]]
            ),
            "out_of_hours": crisis_line,
            "self_help": (
                "Every Mind Matters: a free plan for sleep, worry and mood https://www.nhs.uk/every-mind-matters/\n"
                "Keep a short note each day of your sleep and mood: it helps your first session"
            ),
            "topics": ["anxiety", "low mood", "trauma", "sleep", "eating difficulties"],
        },
        "cmht": {
            "purpose": (
                "Longer-term care from psychiatrists, nurses, psychologists and social workers "
                "for severe or complex mental illness."
            ),
            "who_for": "Adults in Northbridge and Southgate with severe or complex needs.",
            "eligibility": (
                "For needs beyond what talking therapies or university services can meet, such "
                "as psychosis, bipolar disorder, or an eating disorder with physical risk."
            ),
            "how_to_refer": "Through a GP or another mental health service; no self-referral.",
            "information_needed": (
                "History and current presentation, risk assessment, medication, and what has "
                "been tried. Attach the shared assessment where the student has agreed."
            ),
            "accepts_referrals_from": ["gp", "service"],
            "phone": "0113 496 0480",
            "email": "cmht@trust.demo.joinedup.example",
            "address": "Elm Court, 14 Station Road",
            "opening_hours": _hours([["09:00", "17:00"]]),
            "out_of_hours": crisis_line,
            "topics": ["psychosis", "eating difficulties", "self-harm"],
        },
        "liaison": {
            "purpose": (
                "A bridge between the universities and NHS mental health services: joint "
                "reviews, help moving between services, and follow-up after a crisis."
            ),
            "who_for": (
                "Students known to both a university service and the NHS, or waiting between them."
            ),
            "eligibility": "University and NHS staff involve the service; students do not refer.",
            "how_to_refer": "University and NHS teams refer through JoinedUp.",
            "information_needed": "Which services are involved and what is stuck.",
            "accepts_referrals_from": ["service"],
            "phone": "0113 496 0490",
            "email": "student.liaison@trust.demo.joinedup.example",
            "opening_hours": _hours([["09:00", "17:00"]]),
            "out_of_hours": crisis_line,
            "topics": ["international students", "not registered with a gp"],
        },
        "charity": {
            "purpose": (
                "Peer support run by trained student volunteers: a weekly drop-in group and an "
                "evening listening line, confidential and non-judgemental."
            ),
            "who_for": "Any student in Northbridge or Southgate.",
            "eligibility": (
                "No referral or diagnosis needed. Volunteers listen; they do not give advice or "
                "clinical care, and will help you reach the crisis line if you are at risk."
            ),
            "how_to_refer": "Call the listening line, or come to the drop-in group.",
            "information_needed": "Nothing: you can stay anonymous.",
            "accepts_referrals_from": ["self", "academic", "service"],
            "phone": "0808 157 0200",
            "email": "peersupport@mind.demo.joinedup.example",
            "address": "Mind in Northbridge, 5 Canal Side (drop-in Wednesdays 12:00 to 14:00)",
            "opening_hours": {
                **{str(day): [["20:00", "02:00"]] for day in range(7)},
                "2": [["12:00", "14:00"], ["20:00", "02:00"]],
            },
            "out_of_hours": crisis_line,
            "topics": ["loneliness", "lgbtq+", "international students", "low mood"],
        },
    }


def add_directory_entries(hub: dict) -> list[DirectoryEntry]:
    """Write a directory entry for every service of the demo hub (keys as in `record.demo`)."""
    values = {
        **_university_entries("north", hub["north"].name, "1"),
        **_university_entries("south", hub["south"].name, "2"),
        **_nhs_and_charity_entries(),
    }
    entries = []
    for key, fields in values.items():
        entry = DirectoryEntry(service=hub[key], **fields)
        entry.full_clean()
        entry.save()
        entries.append(entry)
    return entries
