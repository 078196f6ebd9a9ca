from joinedup.messaging import rules


def test_an_empty_or_blank_message_asks_for_words():
    assert rules.problem_with("") == "Write your message before you send it."
    assert rules.problem_with(" \n\t ") == "Write your message before you send it."


def test_the_longest_message_goes_and_one_character_more_is_asked_to_be_split():
    assert rules.problem_with("a" * rules.LONGEST) == ""
    assert rules.problem_with(f"  {'a' * rules.LONGEST}  \n") == ""  # spaces around do not count
    problem = rules.problem_with("a" * 10_000)
    assert problem == (
        "Your message is 10,000 characters long. One message can hold 4,000: shorten it, or "
        "send it as 3 messages."
    )
    assert rules.problem_with("a" * (rules.LONGEST + 1)).startswith("Your message is 4,001 ")
    assert rules.problem_with("a" * (rules.LONGEST + 1)).endswith("send it as 2 messages.")
    assert rules.problem_with("a" * (2 * rules.LONGEST)).endswith("send it as 2 messages.")


def test_emoji_alone_are_a_message():
    assert rules.problem_with("👍🏽") == ""


def test_the_notification_names_no_service_and_no_words_of_the_message():
    text = rules.notification_text("https://hub.example/me/messages/x/")
    assert text == (
        "You have a new message in JoinedUp. Sign in to read it: https://hub.example/me/messages/x/"
    )
