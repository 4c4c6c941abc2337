"""The shared format features: what each indicator means on real-looking posts."""

from libs.formats import FEATURES, format_features, hook_style, normalised_engagement, thread_length


def on(text: str, *, hour: int = 12, parts: int | None = None) -> set[str]:
    return {k for k, v in format_features(text, hour=hour, parts=parts).items() if v}


def test_a_plain_statement_at_noon_is_the_baseline():
    text = "Morning light is the cheapest sleep aid there is, and almost nobody I know uses it on purpose every day."
    assert on(text) == set()


def test_each_indicator_on_the_post_that_shows_it():
    assert on("Is easy cardio overrated?") == {"hook=question", "question", "length=short"}
    assert on("5 habits that fix sleep", hour=3) == {"hook=number", "numbers", "length=short", "hours=0-6"}
    listed = "Three things that helped my sleep more than any supplement did:\n\n- a fixed wake time\n- light " \
             "before 9am\n- a cool bedroom\n\nThey are boring, and they work better than anything I bought."
    assert on(listed, hour=19) == {"multiline", "list", "numbers", "length=long", "hours=18-22"}
    assert on("How to make walking after meals a habit that sticks for good 🧵", hour=23) >= {
        "hook=how_to", "thread", "hours=22-24"}


def test_a_thread_mark_is_neither_a_number_nor_a_hook():
    assert thread_length("Sleep is a skill (1/6)") == 6 and thread_length("Sleep 🧵") == 2
    assert thread_length("Sleep is a skill") == 1
    assert "numbers" not in on("Sleep is a skill you can train (1/6)")
    assert hook_style("1/ Why most diets fail?") == "question"
    assert on("Sleep is a skill you can train, like any other skill.", parts=4) == {"thread", "length=short"}


def test_every_feature_is_reported_and_engagement_is_comparable_across_sizes_and_ages():
    assert set(format_features("x", hour=0)) == set(FEATURES)
    # Twice the followers with twice the engagement, or the same post read before it matured: the same value.
    assert normalised_engagement(199, followers=999, age_hours=200) == normalised_engagement(
        399, followers=1999, age_hours=200)
    young, old = normalised_engagement(87, followers=999, age_hours=24), normalised_engagement(
        99, followers=999, age_hours=400)
    assert abs(young - old) < 0.02
