"""Choosing among drafts (issue 24, item 3): K candidate drafts per post slot, scored by the learner's engagement
predictor, the best queued; against one draft per slot (``python -m bench.drafts``).

Ground truth: ``sandbox.audience.AudienceModel`` in-process, as in bench/learner.py: the post's choice (content
type, topic, format, hour) is xbot's bandit's, its text one of K drafts. A draft's text moves its reward through
the sandbox's text quality (hook, length, readability) and through the audience's hidden format effects
(``AudienceModel.own_format_lift``: the effects ``/sim/format_effects`` reports, which the world applies to the
population's posts and to ours; the setting without ``own_formats`` is the sandbox before it did). Drafts are
composed with a random format each (length, a list, numbers) and distinct hook styles, as the planner asks the
drafting model for them. The scorer is a ridge regression of the log reward on the learner's predictor features
(libs.formats.predictor_features: type, topic, format, hour bucket, hook style, length, and since issue 24 the
text's format indicators short/long, lines, numbers, question, list) — "learner" — or, "hook_and_length", on the
features the predictor had before (without the format indicators), refitted every 20 posts on the account's own
matured posts, the posts before a change the bandit's model detected shrunk as the learner weighs them (as it
refits and publishes it; "learner_never_forgets": every post alike, the predictor before 2026-12-04).

Reported: the expected reward per post (ground truth, no sampling noise) with K drafts over K=1, median over
paired seeds, against a K=1 run of its own (the target's figure) and against the first drafts of the K run's own
slots; the ceiling (the truly best of the K drafts); how well the scorer's format coefficients match the hidden
format effects (correlation); the LLM spend ratio (drafting calls per queued post: K).
"""

from __future__ import annotations

import argparse
import json
import random
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from bench.learner import FOLLOWERS, POST_SETTINGS, POSTS_PER_DAY, RESULTS, XbotAgent, XbotConfig, _counts, _phases
from libs.formats import PREDICTOR_FORMAT_FEATURES, predicted_reward
from sandbox.audience import HEAVY_RANKER_WEIGHTS, HOURS, FORMATS, AudienceModel, PostChoice, ReachShape
from sandbox.population import Population
from sandbox.xformat import shown_text
from services.harvester.formats import PeerPost, estimate_lifts
from services.learner.features import feature_names, feature_vector, peer_prior
from services.learner.drift import shrink_multipliers
from services.learner.predictors import engagement_predictor
from services.learner.rewards import log_reward

HOOKS = {
    "question": "Why do most people get {t} wrong?",
    "number": "3 things about {t} nobody tells you:",
    "myth": "The biggest myth about {t}: more is always better.",
    "how_to": "How to fix your {t} in one week:",
    "story": "I ignored my {t} for years.",
    "statement": "Your {t} shapes more of your day than you think.",
}
BODY = {
    "short": "Start small.",
    "medium": "Small daily habits beat big plans: pick one change, keep it for a week, then add the next.",
    "long": ("Small daily habits beat big plans. Pick one change you can keep on a bad day, do it for a week, "
             "and only then add the next. Most plans fail in week two because they ask for too much at once."),
}
LIST = "\n- pick one habit\n- keep it a week\n- then add one"
NUMBERS = " It takes about 2 weeks to stick."
REFIT_EVERY = 20
# "learner" is the service's engagement predictor: the format indicators, the peers' lifts as its text features'
# prior, forgetting at the changes the posts' model detects. Beside it, what it was before each: without the peers'
# lifts; and neither forgetting nor peers (before 2026-12-04); "hook_and_length" has no format indicators either.
SCORERS = ("hook_and_length", "learner", "learner_without_peers", "learner_never_forgets")
# The peers' format lifts: the harvester's estimate (services/harvester/formats.py) from this many of the
# population's posts as it reads them (its default window is 4 days, published daily); after a change half-way the
# estimate from the new population's posts arrives once the window has turned over.
PEER_POSTS = 300
PEERS_CATCH_UP_POSTS = 5 * POSTS_PER_DAY
NOW = 1_741_000_000.0


@dataclass(frozen=True)
class DraftSetting:
    name: str
    first_seed: int
    own_formats: bool
    shape: ReachShape = ReachShape()
    shift_half_way: bool = False  # every reach and format effect drawn afresh at post n // 2
    # How alike the peers' format effects are to ours: the peers' = alike × ours + √(1 - alike²) × effects drawn
    # independently (1: the sandbox's world, one audience for both; 0: the peers teach nothing about us).
    peers_alike: float = 1.0


_LEARNER = {s.name: s for s in POST_SETTINGS}
SETTINGS = (
    DraftSetting("sandbox", 0, own_formats=True),
    DraftSetting("weaker_effects_noisier_reach", 1000, own_formats=True,
                 shape=_LEARNER["weaker_effects_noisier_reach"].shape),
    DraftSetting("every_effect_changes_half_way", 2000, own_formats=True, shift_half_way=True),
    DraftSetting("interaction_breakouts_two_peaks_held_out", 3000, own_formats=True,
                 shape=_LEARNER["interaction_breakouts_two_peaks"].shape),
    # The peers' lifts a poor guide to ours (half alike; unrelated): what the prior costs when it is wrong.
    DraftSetting("peers_half_alike", 4000, own_formats=True, peers_alike=0.5),
    DraftSetting("peers_unlike", 5000, own_formats=True, peers_alike=0.0),
    # The sandbox before 2026-12-04: our posts' format moved their reach through text quality only.
    DraftSetting("formats_move_only_text_quality", 0, own_formats=False),
)


def draft(topic: str, rng: random.Random, hook: str | None = None) -> str:
    """One draft with a random format: hook style (``hook`` when given), body length, maybe a list, maybe a
    number."""
    t = topic.replace("_", " ")
    text = HOOKS[hook or rng.choice(list(HOOKS))].format(t=t) + "\n" + BODY[rng.choice(list(BODY))]
    if rng.random() < 0.4:
        text += LIST
    if rng.random() < 0.4:
        text += NUMBERS
    return text


def expected_reward(audience: AudienceModel, choice: PostChoice, text: str, lift: float) -> float:
    """E[log(1 + weighted)] of one draft, ``lift`` its format's extra log reach (0 where formats move text
    quality only)."""
    mu = (audience.effect(choice) + audience.log_reach_offset(followers=FOLLOWERS, quality=audience.text_quality(text))
          + lift)
    nodes, weights = audience.shape.noise_nodes()
    return float(np.logaddexp(0.0, mu + nodes) @ weights)


def peer_posts(population: Population, now: float, n: int) -> list[PeerPost]:
    """The ``n`` most recent posts the harvester would learn formats from (niche, original, in English, by authors
    big enough to be discovered) at least 3 h old, read day by day backwards (generating a day is the cost)."""
    posts: list[PeerPost] = []
    end = now - 3 * 3600
    while len(posts) < n and end > now - 400 * 3600:
        day = []
        for t in population.tweets_between(end - 86400, end):
            if not t.niche or t.lang != "en" or t.in_reply_to or t.author.followers < 1500 or t.created_at == end:
                continue
            if t.quoted_id or shown_text(t.text)[1]:  # the harvester keeps no quote post or cut long post
                continue
            age = (now - t.created_at) / 3600
            seen = t.final.at_age(age)
            day.append(PeerPost(t.id, t.text, int(t.created_at % 86400 // 3600), t.author.followers,
                                seen.likes + seen.retweets + seen.replies, age))
        posts = day + posts
        end -= 86400
    return posts[-n:]


def peer_lifts(audience: AudienceModel, seed: int, alike: float = 1.0) -> dict[str, float]:
    """The format lifts the harvester would publish for peers whose format effects are ``alike`` ours."""
    ours = audience.format_effects()
    other = AudienceModel(seed, reach_seed=seed + 70_000).format_effects()
    effects = {k: alike * v + (1.0 - alike**2) ** 0.5 * other[k] if not k.startswith("hours=") else v
               for k, v in ours.items()}
    population = Population(seed, format_effects=effects)
    return {lift.feature: lift.lift for lift in estimate_lifts(peer_posts(population, NOW, PEER_POSTS))}


def simulate(setting: DraftSetting, seed: int, n: int, k: int, scorer: str) -> tuple[float, float, float, float]:
    """Mean expected reward per post, mean of the truly best of the K drafts, mean of the first draft (the one
    K=1 would have posted in the same slot), and the correlation of the scorer's format coefficients with the
    hidden effects at the end (nan for K=1)."""
    phases = _phases(setting, seed)  # type: ignore[arg-type]  # DraftSetting has the fields _phases reads
    audience = phases[0]
    rng = np.random.default_rng([seed, 7])  # the bandit's draws: the same for every K and scorer
    drafts_rng = random.Random(f"drafts:{seed}")
    noise = random.Random(f"bench-drafts:{seed}")
    agent = XbotAgent((len(audience.content_types), len(audience.topics), len(FORMATS), len(HOURS)), rng,
                      XbotConfig())
    names = feature_names(audience.content_types, audience.topics, FORMATS)
    if scorer == "hook_and_length":
        names = [n for n in names if not n.startswith("fmt=")]
    peers = [peer_lifts(a, seed, setting.peers_alike) for a in phases] if scorer == "learner" and k > 1 \
        else [{}] * len(phases)
    rows, ys = [], []
    predictor: dict | None = None
    got, best, first = np.empty(n), np.empty(n), np.empty(n)
    for t in range(n):
        if t == n // 2:
            audience = phases[-1]
        arms = agent.choose()
        choice = PostChoice(audience.content_types[arms[0]], audience.topics[arms[1]], FORMATS[arms[2]],
                            HOURS[arms[3]])
        as_dict = {"content_type": choice.content_type, "topic": choice.topic, "format": choice.format,
                   "hour": choice.hour}
        # Distinct hook styles, as the planner asks for them (PlanJob._best_of_drafts); the same first draft for
        # every K.
        hooks = drafts_rng.sample(list(HOOKS), max(k, 3))
        texts = [draft(choice.topic, drafts_rng, h) for h in hooks][:k]
        lifts = [audience.own_format_lift(x) if setting.own_formats else 0.0 for x in texts]
        truth = [expected_reward(audience, choice, x, lift) for x, lift in zip(texts, lifts)]
        pick = 0
        if k > 1 and predictor is not None:  # as the planner scores its drafts (PlanJob._best_of_drafts)
            scores = [predicted_reward(predictor, as_dict, x) or 0.0 for x in texts]
            pick = int(np.argmax(scores))
        got[t], best[t], first[t] = truth[pick], max(truth), truth[0]
        text = texts[pick]
        e = audience.sample_engagement(choice, text=text, followers=FOLLOWERS, rng=noise, format_lift=lifts[pick])
        agent.observe_matured(t, arms, _counts(e), {})
        rows.append(feature_vector(as_dict, text, names))
        ys.append(log_reward(e.weighted(HEAVY_RANKER_WEIGHTS)))
        if (t + 1) % REFIT_EVERY == 0:
            # As the learner publishes it (Learner._predictors): shrunk by every change detected after a post,
            # the text features starting from the peers' latest lifts.
            weights = shrink_multipliers(len(ys), agent.watch.alarms, agent.config.change_shrink) \
                if agent.watch is not None and scorer != "learner_never_forgets" else None
            lifts = peers[-1] if t >= n // 2 + PEERS_CATCH_UP_POSTS else peers[0]
            predictor = engagement_predictor(np.array(rows), np.array(ys), names, weights=weights,
                                             prior=peer_prior(names, lifts))
    corr = float("nan")
    if predictor is not None and setting.own_formats:
        # The scorer's coefficients of the text's format against the hidden effects (the hook's against the
        # statement baseline, as the effects are).
        effects = audience.format_effects()
        coef = dict(zip(names, predictor["coef"]))
        keys = [(f"fmt={f}", f) for f in PREDICTOR_FORMAT_FEATURES if f"fmt={f}" in coef and f in effects]
        keys += [(f"hook={h}", f"hook={h}") for h in HOOKS if f"hook={h}" in effects]
        base = coef.get("hook=statement", 0.0)
        ours = [coef.get(c, 0.0) - (base if c.startswith("hook=") else 0.0) for c, _ in keys]
        corr = float(np.corrcoef(ours, [effects[e] for _, e in keys])[0, 1])
    return float(got.mean()), float(best.mean()), float(first.mean()), corr


def run(seeds: int, n: int, k: int = 3, log=print) -> dict:
    """Per setting and scorer, medians over paired seeds of the K-draft run's expected reward per post over a K=1
    run of its own ("gain", the target's figure: the whole system with K drafts against it with one; the bandit's
    paths part as the posted rewards differ) and over the first drafts of its own slots ("gain_over_first_drafts":
    the choice among drafts alone, on the same path; it leaves out what the bandit gains from the better posts)."""
    started = time.perf_counter()
    out: dict = {"config": {"seeds": seeds, "posts": n, "k": k, "refit_every": REFIT_EVERY,
                            "llm_spend_ratio": float(k)}, "settings": {}}
    for setting in SETTINGS:
        block: dict = {"own_formats": setting.own_formats, "first_seed": setting.first_seed,
                       "shift_half_way": setting.shift_half_way}
        single = [simulate(setting, setting.first_seed + s, n, 1, "learner")[0] for s in range(seeds)]
        for scorer in SCORERS:
            gains, over_first, ceilings, corrs = [], [], [], []
            for s in range(seeds):
                many, ceiling, first, corr = simulate(setting, setting.first_seed + s, n, k, scorer)
                gains.append(many / single[s] - 1.0)
                over_first.append(many / first - 1.0)
                ceilings.append(ceiling / single[s] - 1.0)
                corrs.append(corr)
            block[scorer] = {"gain_median": float(np.median(gains)), "gain_p10": float(np.percentile(gains, 10)),
                             "gain_over_first_drafts_median": float(np.median(over_first)),
                             "ceiling_gain_median": float(np.median(ceilings)),
                             "coef_effect_correlation_median": float(np.nanmedian(corrs)) if any(
                                 np.isfinite(corrs)) else None}
            if log:
                log(f"  {setting.name} {scorer}: K={k} {100 * np.median(gains):+.2f}% per post (over the first "
                    f"drafts {100 * np.median(over_first):+.2f}%, ceiling {100 * np.median(ceilings):+.2f}%), "
                    f"{time.perf_counter() - started:.0f}s")
        out["settings"][setting.name] = block
    out["seconds"] = round(time.perf_counter() - started, 1)
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--posts", type=int, default=500)
    parser.add_argument("-k", type=int, default=3)
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    results = json.loads(args.out.read_text()) if args.out.exists() else {}
    results["drafts"] = run(args.seeds, args.posts, args.k)
    args.out.write_text(json.dumps(results, indent=2) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
