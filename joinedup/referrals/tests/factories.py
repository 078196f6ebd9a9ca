from joinedup.referrals.services import create_referral


def refer(hub, *, to=None, frm=None, actor=None, send=True, **fields):
    """The hub student referred from Wellbeing to Talking Therapies unless told otherwise."""
    return create_referral(
        actor=actor or hub.practitioner,
        student=hub.student,
        from_service=frm or hub.wellbeing,
        to_service=to or hub.talking,
        source="service",
        reason=fields.pop("reason", "Low mood for three months; wants talking therapy."),
        send=send,
        **fields,
    )
