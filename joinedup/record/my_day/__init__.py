"""My day: a practitioner's first page after signing in. Today's appointments, drafts to
sign, questionnaires due, flags to acknowledge, risk reviews and tasks due, and the
caseload allocated to them, each item linking to the page where it is dealt with."""
