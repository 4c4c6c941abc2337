"""Quality and safety gates, pure functions shared by the planner and the owner's console.

They see text as X does (libs/gates/entities.py) and read strangers' tweets as data (injection.py); the model
review (review.py) builds its prompt and reads its answer here, the caller makes the call. This package imports
only libs.text, libs.niche and libs.core (import-linter checks it).

A name is imported from its module on first use: the poster, the gateway and the console import one or two of
these modules, and loading them all (numpy, tldextract with requests) cost each of them ~15 MB resident.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from libs.core.lazy import lazy_names

if TYPE_CHECKING:
    from libs.gates.conduct import check_defamation, check_shaming, check_solicitation
    from libs.gates.entities import Entities, deobfuscate, extract, find_links, fold, lookalike_words
    from libs.gates.grounding import Calibration, calibrate, grounding_similarity, tweet_point
    from libs.gates.injection import TweetInstructions, check_injection, instruction_spans
    from libs.gates.medical import check_medical_safety
    from libs.gates.posts import (
        OwnPost,
        RecentPosts,
        check_banned,
        check_exact_duplicate,
        check_length,
        check_near_duplicate,
        check_readability,
        check_repeated_tweets,
        check_topic_freshness,
        check_word_overlap,
        flesch_reading_ease,
        gate_post,
        overlap,
        subject_banned,
        syllables,
        word_set,
    )
    from libs.gates.replies import (
        check_entities,
        check_grounded,
        check_lookalikes,
        check_reply_form,
        gate_reply,
        grounding_threshold,
    )
    from libs.gates.review import (
        CONVERSATION_KIND, HOSTILE_TWEET, REVIEW_REFUSED, RUBRIC, ReviewVerdict, parse_review, parse_review_batch,
        quote_untrusted, review_batch_messages, review_messages, review_rejection,
    )
    from libs.gates.verdict import ADVICE, Rejection, Verdict

__getattr__ = lazy_names(__name__, {
    "conduct": ("check_defamation", "check_shaming", "check_solicitation"),
    "entities": ("Entities", "deobfuscate", "extract", "find_links", "fold", "lookalike_words"),
    "grounding": ("Calibration", "calibrate", "grounding_similarity", "tweet_point"),
    "injection": ("TweetInstructions", "check_injection", "instruction_spans"),
    "medical": ("check_medical_safety",),
    "posts": ("OwnPost", "RecentPosts", "check_banned", "check_exact_duplicate", "check_length",
              "check_near_duplicate", "check_readability", "check_repeated_tweets", "check_topic_freshness",
              "check_word_overlap", "flesch_reading_ease", "gate_post", "overlap", "subject_banned", "syllables",
              "word_set"),
    "replies": ("check_entities", "check_grounded", "check_lookalikes", "check_reply_form", "gate_reply",
                "grounding_threshold"),
    "review": ("CONVERSATION_KIND", "HOSTILE_TWEET", "REVIEW_REFUSED", "RUBRIC", "ReviewVerdict", "parse_review",
               "parse_review_batch", "quote_untrusted",
               "review_batch_messages", "review_messages", "review_rejection"),
    "verdict": ("ADVICE", "Rejection", "Verdict"),
})

__all__ = [
    "ADVICE", "CONVERSATION_KIND", "Calibration", "Entities", "HOSTILE_TWEET", "OwnPost", "REVIEW_REFUSED", "RUBRIC",
    "RecentPosts", "Rejection",
    "ReviewVerdict",
    "TweetInstructions", "Verdict", "calibrate", "check_banned", "check_defamation", "check_entities",
    "check_exact_duplicate", "check_grounded", "check_injection", "check_length", "check_lookalikes",
    "check_medical_safety", "check_near_duplicate", "check_readability", "check_repeated_tweets",
    "check_reply_form", "check_shaming", "check_solicitation", "check_topic_freshness", "check_word_overlap",
    "deobfuscate", "extract",
    "find_links",
    "flesch_reading_ease", "fold", "gate_post", "gate_reply", "grounding_similarity", "grounding_threshold",
    "instruction_spans", "lookalike_words", "overlap", "parse_review", "parse_review_batch", "quote_untrusted",
    "review_batch_messages", "review_messages",
    "review_rejection", "subject_banned", "syllables", "tweet_point", "word_set",
]
