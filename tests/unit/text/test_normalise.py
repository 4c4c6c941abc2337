from libs.text import content_hash, normalise


def test_case_space_and_punctuation_do_not_matter() -> None:
    a = "Sleep is a SKILL.  Train it!"
    b = "sleep is a skill — train it"
    assert normalise(a) == normalise(b) == "sleep is a skill train it"
    assert content_hash(a) == content_hash(b)


def test_compatibility_forms_fold() -> None:
    assert normalise("ｓｌｅｅｐ") == "sleep"  # full-width letters
    assert normalise("Straße") == normalise("STRASSE")


def test_links_fold_to_one_token() -> None:
    assert content_hash("read https://a.co/x") == content_hash("read https://b.org/y")


def test_different_words_differ() -> None:
    assert content_hash("sleep is a skill") != content_hash("sleep is not a skill")
    assert len(content_hash("x")) == 64
