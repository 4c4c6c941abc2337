"""The sandbox's reviewer learns from its own labelled drafts, shares none with the test corpora, and answers in
the review format (not always cleanly)."""

import random
import re
from pathlib import Path

import yaml

from libs.gates import parse_review, review_messages
from sandbox.conversations import COMMENTS, HOSTILE, QUESTIONS
from sandbox.review import EXAMPLES_PATH, REVIEW_FORMAT, answer_review, default_reviewer, is_review

DATA = Path(__file__).parents[2] / "data"


def _norm(text: str) -> str:
    return " ".join(re.findall(r"\w+", text.lower()))


def test_its_labelled_set_shares_no_text_with_the_test_corpora() -> None:
    own = yaml.safe_load(EXAMPLES_PATH.read_text(encoding="utf-8"))["examples"]
    own_texts = {_norm(e["draft"]) for e in own if e.get("draft")} | {_norm(e["tweet"]) for e in own if e.get("tweet")}
    corpus = []
    for name, key in (("hostile_replies.yaml", "items"), ("ordinary_replies.yaml", "items")):
        corpus += yaml.safe_load((DATA / name).read_text(encoding="utf-8"))[key]
    corpus_texts = {_norm(i["reply"]) for i in corpus} | {_norm(i["tweet"]) for i in corpus}
    # The replies to our own tweets (issue 24, item 5), and the sandbox audience's own replies to us.
    corpus_texts |= {_norm(i["reply"]) for i in yaml.safe_load(
        (DATA / "troll_replies.yaml").read_text(encoding="utf-8"))["items"]}
    corpus_texts |= {_norm(t) for t in QUESTIONS + COMMENTS + HOSTILE}
    assert not own_texts & corpus_texts
    # Nor near copies: no corpus text shares a run of 8 words with an example.
    def runs(t: str) -> set[str]:
        w = t.split()
        return {" ".join(w[i:i + 8]) for i in range(len(w) - 7)}
    own_runs = set().union(*(runs(t) for t in own_texts))
    assert not any(runs(t) & own_runs for t in corpus_texts)


def test_it_judges_unseen_drafts_by_their_content() -> None:
    reviewer = default_reviewer()
    assert "medical_misinformation" in reviewer.judge("Quit your insulin, cinnamon heals diabetes.", None)
    assert "promotion" in reviewer.judge("Get 25% off with code RESTFUL25 today only.", None)
    assert reviewer.judge("A regular wake time helps the body clock settle.", None) == []


def test_answers_parse_as_reviews_whatever_the_style() -> None:
    prompt = "\n".join(m["content"] for m in review_messages(
        "Use code NAPTIME40 for 40% off my sleep course.", kind="reply", tweet="Naps help.", niche="health"))
    assert is_review(prompt)
    rng = random.Random(0)
    answers = [answer_review(prompt, rng) for _ in range(200)]
    assert len(set(answers)) > 5  # not always the clean two lines
    verdicts = [parse_review(a) for a in answers if a != REVIEW_FORMAT]
    assert all(v.readable for v in verdicts) and len({(v.passed, v.categories) for v in verdicts}) == 1


def test_the_format_echoed_alone_reviews_nothing() -> None:
    """A small model's answer that only echoes the format ("VERDICT: pass or fail") was read as a pass, and the
    draft above (a discount code) was published unreviewed."""
    prompt = "\n".join(m["content"] for m in review_messages(
        "Use code NAPTIME40 for 40% off my sleep course.", kind="reply", tweet="Naps help.", niche="health"))
    rng = random.Random(0)
    echoed = [a for a in (answer_review(prompt, rng) for _ in range(400)) if a == REVIEW_FORMAT]
    assert echoed and not any(parse_review(a).passed or parse_review(a).readable for a in echoed)


def test_a_batch_is_judged_draft_by_draft() -> None:
    from libs.gates import parse_review_batch, review_batch_messages

    drafts = [("A regular wake time helps the body clock settle.", "post", None, None),
              ("Get 25% off with code RESTFUL25 today only.", "reply", "Naps help.", None),
              ("Quit your insulin, cinnamon heals diabetes.", "post", None, None)]
    prompt = "\n".join(m["content"] for m in review_batch_messages(drafts, niche="health"))
    assert is_review(prompt)
    rng = random.Random(0)
    single = [parse_review(answer_review("\n".join(m["content"] for m in review_messages(
        d, kind=k, tweet=t, niche="health")), rng)).passed for d, k, t, _ in drafts]
    for _ in range(10):
        assert [v.passed for v in parse_review_batch(answer_review(prompt, rng), 3)] == single == [True, False, False]


def test_the_reply_answered_is_judged_only_in_our_own_conversation() -> None:
    """hostile_tweet reads the tweet alone (the draft's words cannot make or unmake it), and only for a draft of
    kind conversation, in a single prompt as in a batch."""
    from libs.gates import parse_review_batch, review_batch_messages

    reviewer = default_reviewer()
    troll, friendly = "Ratio. This is embarrassing.", "Does this still work for shift workers?"
    answers = ("Fair point, the study is in the post.", "Morning light matters most.")
    assert all(reviewer.judge(a, troll, "conversation") == ["hostile_tweet"] for a in answers)
    assert all(reviewer.judge(a, friendly, "conversation") == [] for a in answers)
    assert reviewer.judge(answers[0], troll, "reply") == reviewer.judge(answers[0], troll, None) == []
    # Our own tweet, shown before the reply it got (context for off_point), is not the tweet judged.
    ours = "Ten minutes of morning light sets the body clock."
    drafts = [(answers[0], "conversation", troll, ours), (answers[0], "reply", troll, None),
              (answers[1], "conversation", friendly, ours)]
    prompt = "\n".join(m["content"] for m in review_batch_messages(drafts, niche="health"))
    verdicts = parse_review_batch(answer_review(prompt, random.Random(1)), 3)
    assert [v.categories for v in verdicts] == [("hostile_tweet",), (), ()]
    single = "\n".join(m["content"] for m in review_messages(answers[0], kind="conversation", tweet=troll,
                                                             niche="health", our_tweet=ours))
    assert parse_review(answer_review(single, random.Random(1))).categories == ("hostile_tweet",)
