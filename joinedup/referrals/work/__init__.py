"""Tasks: work a practitioner sets a colleague or a team (a service), by a date, about a
student or not; done once, by the person it is for or anyone in the team; overdue, it
reaches the team's managers. The model is `FollowUpTask`, which NHS crisis follow-ups use
too."""
