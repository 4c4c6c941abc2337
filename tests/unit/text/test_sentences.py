"""Where a tweet's sentences end (libs.text.sentences): not at an abbreviation's dot nor a name's initial."""

from __future__ import annotations


from libs.text.sentences import balanced, sentence_ends, split_sentences



def test_abbreviations_and_initials_do_not_end_a_sentence() -> None:
    text = ("Heart disease leads. (Yusuf et al. (INTERHEART), The Lancet 2004) Dr. Smith agrees, e.g. walking "
            "vs. sitting. In the U.S. most adults sit. J. Smith said so! Really? Yes.")
    assert split_sentences(text) == [
        "Heart disease leads.",
        "(Yusuf et al. (INTERHEART), The Lancet 2004) Dr. Smith agrees, e.g. walking vs. sitting.",
        "In the U.S. most adults sit.", "J. Smith said so!", "Really?", "Yes."]
    assert sentence_ends("One. Two") == [4] and sentence_ends("One.") == []  # an end is where more text follows


def test_lines_are_sentences_of_their_own() -> None:
    assert split_sentences("A list:\n- walk\n\nDone. Then rest") == ["A list:", "- walk", "Done.", "Then rest"]


def test_balanced_brackets() -> None:
    assert balanced("(Yusuf et al. (INTERHEART), The Lancet 2004)") and balanced("1) walk 2) rest")
    assert not balanced("(Yusuf et al.") and not balanced("see [1")
