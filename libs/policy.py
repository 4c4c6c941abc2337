"""The posting policy as a pure function of a ModelUpdated payload: tempered Thompson sampling with a uniform floor.

The learner computes and publishes the policy; the planner draws from it and records the propensity it returns in
ContentQueued; the learner's off-policy evaluation divides by that propensity. Both sides use this module, so the
draw and the propensity cannot disagree. numpy and the standard library only.

API (what the planner calls):

- ``sample_choice(model_payload, rng, *, dimensions) -> (choice, propensity)``: one choice and the exact
  probability of drawing it. ``model_payload`` is a ModelUpdated's fields as a mapping (``propensities`` and
  ``floor`` are enough; ``posteriors`` when there are no propensities) or ``None`` before any model: then every
  dimension is uniform. ``dimensions`` maps each action dimension to its configured arms, e.g.
  ``{"content_type": [...], "topic": [...], "format": ["single", "thread"], "hour": range(24)}``; ``None`` means
  the model's own arms of :data:`DIMENSIONS`. ``rng`` is anything with ``random()`` (``random.Random`` or a numpy
  ``Generator``); every call makes exactly ``1 + len(dimensions)`` calls to it. ``choice["hour"]`` is an int.
- ``choice_propensity(model_payload, choice) -> float``: the probability that the model's policy draws ``choice``
  (over the model's own arms) — what the learner uses for the candidate and the incumbent.

How a choice is drawn (the floor mixture). Per dimension d, the Thompson share ``p_d(a)`` is the probability that
arm a has the highest draw from the tempered posteriors N(mean, temperature · var), computed by 1-D quadrature
(no sampling noise). The published marginal of an arm is ``(1 - floor) · p_d(a) + floor / K_d``, so the share is
recovered from it as ``(marginal - floor / K_d) / (1 - floor)``. One draw:

- with probability ``floor``, every learned dimension is drawn uniformly from its K_d arms;
- otherwise each learned dimension is drawn independently from its share ``p_d`` (drawing the argmax of
  independent Thompson samples per dimension gives exactly this distribution).

So the joint propensity is ``(1 - floor) · Π_d p_d(a_d) + floor · Π_d 1 / K_d`` and every joint action keeps at
least ``floor · Π 1 / K_d`` (off-policy evaluation needs that). A dimension the model does not cover is drawn
uniformly outside the floor coin and multiplies the propensity by ``1 / K``. When configured arms differ from the
model's, a configured arm the model lacks gets share 0 (only the floor reaches it), the shares of the others are
renormalised, and the returned propensity is the exact probability of that draw.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Protocol

import numpy as np

DIMENSIONS: tuple[str, ...] = ("content_type", "topic", "format", "hour")

# Quadrature grid over a standard normal: fine enough that a step in the integrand costs < 1e-3 of probability.
_GRID = np.linspace(-8.5, 8.5, 3401)
_GRID_PDF = np.exp(-0.5 * _GRID**2) / math.sqrt(2 * math.pi)
_GRID_STEP = _GRID[1] - _GRID[0]
_MIN_VAR = 1e-12


class UniformSource(Protocol):
    def random(self) -> float: ...


def _norm_cdf(x: np.ndarray) -> np.ndarray:
    """Φ(x) to ~1e-7 without scipy (Abramowitz & Stegun 7.1.26 for erf)."""
    z = np.abs(x) / math.sqrt(2.0)
    t = 1.0 / (1.0 + 0.3275911 * z)
    poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))))
    erf = 1.0 - poly * np.exp(-z * z)
    out: np.ndarray = 0.5 * (1.0 + np.sign(x) * erf)
    return out


def arm_order(dimension: str, arms: Iterable[object]) -> list[str]:
    """Canonical order of a dimension's arms as strings (hours numerically), so that a payload whose keys were
    reordered in transit (JSON stores, jsonb) still samples identically for the same RNG."""
    names = [str(a) for a in arms]
    if dimension == "hour":
        return sorted(names, key=int)
    return sorted(names)


def argmax_probabilities(means: Sequence[float] | np.ndarray, variances: Sequence[float] | np.ndarray) -> np.ndarray:
    """P(arm i has the highest draw) for independent draws X_j ~ N(means_j, variances_j).

    P_i = ∫ φ(z) Π_{j≠i} Φ((m_i + s_i z - m_j) / s_j) dz, integrated on a fixed grid and renormalised.

    One arm at a time: the whole (i, j, grid) cube, with the normal CDF's temporaries, held several arrays of
    K² × 3,401 floats at once: 90 MB for the 24 hours, 250 MB for a reply draw's 40 candidates (MAX_TARGETS),
    3.5 GB for 150; the learner's resident memory peaked at 181-191 MB over a simulated week (90 MB since).
    Row by row it is K × 3,401 floats, the same operations in the same order (bit for bit the same results;
    tests/unit/learner/test_policy.py), and faster (bench/policy.py).
    """
    m = np.asarray(means, dtype=float)
    s = np.sqrt(np.maximum(np.asarray(variances, dtype=float), _MIN_VAR))
    k = len(m)
    if k == 1:
        return np.ones(1)
    probs = np.empty(k)
    for i in range(k):
        x = m[i] + s[i] * _GRID  # arm i's value at each node
        cdf = _norm_cdf((x[None, :] - m[:, None]) / s[:, None])  # (j, grid)
        cdf[i, :] = 1.0
        probs[i] = (np.prod(cdf, axis=0) * _GRID_PDF).sum() * _GRID_STEP
    out: np.ndarray = probs / probs.sum()
    return out


def thompson_draw(
    means: Sequence[np.ndarray], sds: Sequence[np.ndarray], floor: float, rng: np.random.Generator
) -> tuple[int, ...]:
    """Arm index per dimension by explicit posterior draws (``sds`` already tempered: sqrt(temperature · var)).

    Same distribution as :func:`sample_choice`; used where only posterior moments exist (the benchmark). The same
    RNG calls are made whatever the outcome of the floor coin, so two policies sharing a seed stay in lockstep."""
    uniform = rng.random() < floor
    picks = []
    for m, s in zip(means, sds):
        draw = m + s * rng.standard_normal(len(m))
        u = int(rng.integers(len(m)))
        picks.append(u if uniform else int(np.argmax(draw)))
    return tuple(picks)


def _moments(posteriors: Mapping[str, Mapping[str, Mapping[str, float]]], dimension: str,
             arms: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    means = np.array([float(posteriors[dimension][a]["mean"]) for a in arms])
    variances = np.array([max(float(posteriors[dimension][a]["var"]), _MIN_VAR) for a in arms])
    return means, variances


def marginal_propensities(
    posteriors: Mapping[str, Mapping[str, Mapping[str, float]]], *, temperature: float, floor: float
) -> dict[str, dict[str, float]]:
    """dimension -> arm -> probability that the policy picks the arm (uniform floor included).

    ``temperature`` multiplies the posterior variances, as Chapelle & Li's α (2011): below 1 the draws exploit
    more. The learner's default is 0.15 (bench/learner.py, issue 24: 0.31-0.45x the legacy policy's regret at 500
    posts on four audience settings, 0.31-0.44x with the learner's change detection, 0.46-0.62x at Chapelle & Li's
    0.5; the floor keeps every arm reachable
    whatever the temperature)."""
    out: dict[str, dict[str, float]] = {}
    for dimension in DIMENSIONS:
        arms = arm_order(dimension, posteriors[dimension])
        means, variances = _moments(posteriors, dimension, arms)
        p = argmax_probabilities(means, variances * temperature)
        out[dimension] = {a: float((1 - floor) * pi + floor / len(arms)) for a, pi in zip(arms, p)}
    return out


def scheduled_floor(matured_posts: float, *, start: float, end: float, posts: float) -> float:
    """The floor after ``matured_posts``: ``start`` at first, halfway to ``end`` after ``posts`` matured posts
    (``end + (start - end) · posts / (posts + n)``). Exploration by the floor pays while the model knows little;
    later it mostly costs regret, the Thompson draws exploring where the posterior is still wide. ``posts`` 0
    keeps ``start``. Each model carries the floor it was drawn with, so propensities stay exact."""
    if posts <= 0 or matured_posts <= 0:
        return start
    return end + (start - end) * posts / (posts + matured_posts)


def _floor(model: Mapping[str, Any] | None) -> float:
    floor = float((model or {}).get("floor", 0.0) or 0.0)
    return floor if 0.0 <= floor < 1.0 else 0.0


def _marginals(model: Mapping[str, Any]) -> Mapping[str, Mapping[str, float]]:
    if model.get("propensities"):
        marginals: Mapping[str, Mapping[str, float]] = model["propensities"]
        return marginals
    if model.get("posteriors"):
        return marginal_propensities(model["posteriors"], temperature=float(model.get("temperature", 1.0)),
                                     floor=_floor(model))
    return {}


def thompson_shares(model: Mapping[str, Any], dimension: str,
                    arms: Sequence[str] | None = None) -> dict[str, float] | None:
    """p_d over ``arms`` (default: the model's arms): the Thompson-only distribution, without the floor.

    Recovered from the published floor-included marginals; restricted to ``arms`` and renormalised when they
    differ. None when the model does not cover the dimension (or none of ``arms``)."""
    marginals = _marginals(model).get(dimension)
    if not marginals:
        return None
    floor, k = _floor(model), len(marginals)
    own = {a: max(0.0, (float(p) - floor / k) / (1.0 - floor)) for a, p in marginals.items()}
    wanted = list(own) if arms is None else arms
    kept = {a: own.get(a, 0.0) for a in wanted}
    total = sum(kept.values())
    if total <= 0 or not math.isfinite(total):
        return None
    return {a: p / total for a, p in kept.items()}


def _propensity(model: Mapping[str, Any] | None, picked: Mapping[str, str], arms: Mapping[str, Sequence[str]],
                floor: float | None = None, thompson: float = 1.0, uniform: float = 1.0) -> float:
    """P(picked) under the floor mixture. Replies pass their own floor and start both branches at the target's
    probability (its Thompson share, 1/n under the floor); posts start at 1."""
    floor = _floor(model) if floor is None else floor
    outside = 1.0
    for dimension, options in arms.items():
        shares = thompson_shares(model, dimension, options) if model else None
        if shares is None:
            outside /= len(options)
            continue
        thompson *= shares.get(picked[dimension], 0.0)
        uniform /= len(options)
    return ((1.0 - floor) * thompson + floor * uniform) * outside


def choice_propensity(model: Mapping[str, Any], choice: Mapping[str, object]) -> float:
    """Probability that the policy of ``model`` draws exactly ``choice`` (the four dimensions) over its own arms."""
    marginals = _marginals(model)
    arms = {d: arm_order(d, marginals.get(d) or ()) for d in DIMENSIONS}
    picked = {d: str(choice[d]) for d in DIMENSIONS}
    if any(picked[d] not in arms[d] for d in DIMENSIONS):
        return 0.0
    return _propensity(model, picked, arms)


def arm_mass(model: Mapping[str, Any] | None, arms: Mapping[str, Sequence[object]],
             subset: Mapping[str, Iterable[object]]) -> float:
    """Probability that ``sample_choice`` (over ``arms``) draws, in every dimension of ``subset``, an arm of it.

    The planner draws a posting hour among the hours that still have room and a topic among those not posted on
    too often lately, and divides the propensity by this mass, so the logged propensity stays the probability of
    what was actually drawn. Summed over the subsets' combinations: the floor mixture ties the dimensions."""
    options = {d: arm_order(d, arms[d]) for d in subset}
    wanted = [sorted(set(arm_order(d, subset[d])) & set(options[d])) for d in subset]
    return sum(_propensity(model, dict(zip(subset, combination, strict=True)), options)
               for combination in itertools.product(*wanted))


def _pick(weights: Sequence[float], u: float) -> int:
    """Inverse-CDF draw with one uniform number (the last arm absorbs rounding)."""
    total = sum(weights)
    acc = 0.0
    for i, w in enumerate(weights):
        acc += w
        if u * total < acc:
            return i
    return len(weights) - 1


def _draw_arms(model: Mapping[str, Any] | None, dimensions: Mapping[str, Iterable[object]], floor: float,
               rng: UniformSource) -> tuple[dict[str, list[str]], dict[str, str], bool]:
    """The floor coin, then one draw per dimension: uniform under the floor (or before any model), else from the
    dimension's Thompson shares. Exactly ``1 + len(dimensions)`` calls to ``rng.random()``, whatever the coin says
    (the RNG contract posts and replies both keep). Returns the ordered arms, the picks and the coin."""
    arms = {d: arm_order(d, options) for d, options in dimensions.items()}
    if any(not options for options in arms.values()):
        raise ValueError("every dimension needs at least one arm")
    uniform = rng.random() < floor
    picked: dict[str, str] = {}
    for dimension, options in arms.items():
        shares = thompson_shares(model, dimension, options) if model else None
        u = rng.random()
        if shares is None or uniform:
            picked[dimension] = options[min(int(u * len(options)), len(options) - 1)]
        else:
            picked[dimension] = options[_pick([shares[a] for a in options], u)]
    return arms, picked, uniform


def sample_choice(
    model_payload: Mapping[str, Any] | None,
    rng: UniformSource,
    *,
    dimensions: Mapping[str, Iterable[object]] | None = None,
) -> tuple[dict[str, object], float]:
    """Draw one choice from the policy of a ModelUpdated payload (uniform when None); returns (choice, propensity).

    See the module docstring for ``dimensions``, the floor mixture and the RNG contract."""
    if dimensions is None:
        if not model_payload:
            raise ValueError("sample_choice needs the configured dimensions when there is no model")
        marginals = _marginals(model_payload)
        dimensions = {d: marginals[d] for d in DIMENSIONS}
    arms, picked, _ = _draw_arms(model_payload, dimensions, _floor(model_payload), rng)
    propensity = _propensity(model_payload, picked, arms)
    choice: dict[str, object] = dict(picked)
    if "hour" in choice:
        choice["hour"] = int(picked["hour"])
    return choice, propensity


# ====================================================================== replies (issue 24, item 1)
#
# A reply's action is its style, its voice (when the owner gives several) and its target among the eligible
# tweets of the opportunity pool. The model is additive, like the posts' one, over the style, the voice and four
# bands of the target (author follower band, tweet age band, velocity band, relevance band): ModelUpdated.replies
# carries its posteriors, the floor-included marginals of style and voice, the temperature and the floor.
#
# How a reply is drawn (the same floor mixture as posts). With probability ``floor`` style, voice and target are
# all drawn uniformly (the target among the candidates). Otherwise style and voice are drawn from their Thompson
# shares and the target from the candidates' Thompson shares: P(candidate c has the highest draw) for independent
# draws N(m_c, temperature · v_c), m_c and v_c the sums over the target's bands of the band effects' posterior
# means and variances, computed by quadrature (argmax_probabilities). Treating the candidates' draws as
# independent (two candidates in the same author band share that effect in the posterior) is what the policy
# *is*, not an approximation of the logged number: the draw is made from these shares, so the propensity
# ``(1 - floor) · p_style · p_voice · p_target + floor / (K_style · K_voice · K_targets)`` is the exact probability
# of what was drawn. A dimension the model does not cover is drawn uniformly outside the mixture (× 1/K).
# Before any reply model the target's Thompson part is the fixed-weight ranking's best (services/planner/replies.py)
# and the floor is REPLY_BOOTSTRAP_FLOOR, so exploration starts on the first day.

REPLY_ACTION = ("reply_style", "voice")
# Band edges (lower bounds of every band but the first): an arm per band, named by its range.
TARGET_BAND_EDGES: dict[str, tuple[float, ...]] = {
    "author_band": (1_000.0, 10_000.0, 100_000.0, 1_000_000.0),  # the author's followers
    "age_band": (1.0, 3.0, 8.0),  # hours since the tweet was posted
    "velocity_band": (1.0, 10.0, 100.0),  # engagement per hour (replies.Opportunity.velocity)
    "relevance_band": (0.4, 0.6, 0.8),  # the harvester's relevance, 0..1
}
# What the target is (issue 24, item 5): a stranger's tweet found by the harvest, or a reply our own tweet got (an
# answer in our own conversation, which X's heavy ranker weighs 75 against a like's 0.5 when the author engages).
# A categorical band: the reply policy learns its value as it learns the numeric bands'. Decisions logged before it
# carry no such band and count as "tweet" (BAND_DEFAULTS).
TARGET_KINDS: tuple[str, ...] = ("tweet", "conversation")
TARGET_BANDS: tuple[str, ...] = (*TARGET_BAND_EDGES, "target_kind")
BAND_DEFAULTS: dict[str, str] = {"target_kind": "tweet"}
REPLY_DIMENSIONS: tuple[str, ...] = (*REPLY_ACTION, *TARGET_BANDS)
# Share of uniform draws of the target before the learner has a reply model (the rest goes to the fixed ranking's
# best): replies are most of the account's writes, so what pays is worth finding from the first day on.
REPLY_BOOTSTRAP_FLOOR = 0.3
# At most this many candidates enter one draw (the best by posterior mean, ties by the planner's order): the
# quadrature is O(K²) and a pool of hundreds holds no more than a few dozen distinct band combinations anyway.
MAX_TARGETS = 40


def _band_label(edges: Sequence[float], i: int) -> str:
    def fmt(x: float) -> str:
        if x >= 1_000_000 and x % 1_000_000 == 0:
            return f"{int(x // 1_000_000)}M"
        if x >= 1_000 and x % 1_000 == 0:
            return f"{int(x // 1_000)}k"
        return f"{x:g}"

    if i == 0:
        return f"<{fmt(edges[0])}"
    if i == len(edges):
        return f">={fmt(edges[-1])}"
    return f"{fmt(edges[i - 1])}-{fmt(edges[i])}"


def band_arms(dimension: str) -> tuple[str, ...]:
    """The arms of a target band, lowest first."""
    if dimension == "target_kind":
        return TARGET_KINDS
    edges = TARGET_BAND_EDGES[dimension]
    return tuple(_band_label(edges, i) for i in range(len(edges) + 1))


def band_of(dimension: str, value: float) -> str:
    edges = TARGET_BAND_EDGES[dimension]
    i = sum(1 for e in edges if float(value) >= e)
    return _band_label(edges, i)


def target_bands(*, author_followers: float, age_hours: float, velocity: float, relevance: float,
                 kind: str = "tweet") -> dict[str, str]:
    """The band arms of one target tweet (what the reply model learns about targets)."""
    if kind not in TARGET_KINDS:
        raise ValueError(f"unknown target kind {kind!r}")
    values = {"author_band": author_followers, "age_band": age_hours, "velocity_band": velocity,
              "relevance_band": relevance}
    return {**{d: band_of(d, values[d]) for d in TARGET_BAND_EDGES}, "target_kind": kind}


def band_value(bands: Mapping[str, object], dimension: str) -> str:
    """A target's arm of ``dimension``; a band logged before it existed counts as its default."""
    value = bands.get(dimension)
    return str(value) if value is not None else BAND_DEFAULTS.get(dimension, "None")


def reply_marginals(posteriors: Mapping[str, Mapping[str, Mapping[str, float]]], *, temperature: float,
                    floor: float) -> dict[str, dict[str, float]]:
    """Floor-included marginals of the reply dimensions chosen per reply (style, voice), as for posts."""
    out: dict[str, dict[str, float]] = {}
    for dimension in REPLY_ACTION:
        if not posteriors.get(dimension):
            continue
        arms = arm_order(dimension, posteriors[dimension])
        means, variances = _moments(posteriors, dimension, arms)
        p = argmax_probabilities(means, variances * temperature)
        out[dimension] = {a: float((1 - floor) * pi + floor / len(arms)) for a, pi in zip(arms, p)}
    return out


def target_moments(model: Mapping[str, Any] | None,
                   candidates: Sequence[Mapping[str, str]]) -> tuple[np.ndarray, np.ndarray] | None:
    """Posterior mean and variance of each candidate's value (sums over its bands); None without a reply model.

    A band arm the model has not seen counts as the dimension's average (mean 0: effects are centred) with the
    dimension's largest variance. A band every candidate shares is left out: its effect is the same for all of
    them (in a joint draw it cancels), so its variance would only blur the choice (a pool of strangers' tweets
    alone, all of target_kind "tweet", draws as before the kind existed)."""
    posteriors = (model or {}).get("posteriors") or {}
    if not any(posteriors.get(d) for d in TARGET_BANDS):
        return None
    means, variances = np.zeros(len(candidates)), np.zeros(len(candidates))
    for d in TARGET_BANDS:
        arms = posteriors.get(d) or {}
        if not arms or len({band_value(c, d) for c in candidates}) == 1:
            continue
        widest = max(float(a["var"]) for a in arms.values())
        for i, c in enumerate(candidates):
            arm = arms.get(band_value(c, d))
            means[i] += float(arm["mean"]) if arm else 0.0
            variances[i] += float(arm["var"]) if arm else widest
    return means, variances


def target_shares(model: Mapping[str, Any] | None, candidates: Sequence[Mapping[str, str]],
                  fallback_best: int = 0) -> np.ndarray:
    """p_target over the candidates (without the floor): the Thompson shares of the reply model, or all on
    ``fallback_best`` (the fixed ranking's best) before any."""
    k = len(candidates)
    moments = target_moments(model, candidates)
    if moments is None:
        shares = np.zeros(k)
        shares[min(max(fallback_best, 0), k - 1)] = 1.0
        return shares
    means, variances = moments
    return argmax_probabilities(means, variances * float((model or {}).get("temperature", 1.0)))


def reply_floor(model: Mapping[str, Any] | None) -> float:
    """The reply policy's floor: the model's, or REPLY_BOOTSTRAP_FLOOR before any reply model."""
    return _floor(model) if model else REPLY_BOOTSTRAP_FLOOR


def _reply_propensity(model: Mapping[str, Any] | None, picked: Mapping[str, str],
                      arms: Mapping[str, Sequence[str]], target_share: float, n_targets: int) -> float:
    return _propensity(model, picked, arms, reply_floor(model), target_share, 1.0 / n_targets)


def sample_reply(
    model: Mapping[str, Any] | None,
    rng: UniformSource,
    *,
    dimensions: Mapping[str, Iterable[object]],
    candidates: Sequence[Mapping[str, str]],
    fallback_best: int = 0,
) -> tuple[dict[str, str], int, float]:
    """Draw a reply's style and voice (``dimensions``: each to its configured arms) and its target among
    ``candidates`` (their band arms, in the planner's order); returns (choice, target index, propensity).

    ``model`` is ModelUpdated.replies (None before any reply model). Exactly ``2 + len(dimensions)`` calls to
    ``rng.random()``, whatever the floor coin says."""
    if not candidates:
        raise ValueError("sample_reply needs at least one candidate")
    arms, picked, uniform = _draw_arms(model, dimensions, reply_floor(model), rng)
    target_p = target_shares(model, candidates, fallback_best)
    u = rng.random()
    k = len(candidates)
    index = min(int(u * k), k - 1) if uniform else _pick(list(target_p), u)
    return picked, index, _reply_propensity(model, picked, arms, float(target_p[index]), k)


def reply_propensity(model: Mapping[str, Any] | None, choice: Mapping[str, object],
                     candidates: Sequence[Mapping[str, str]], index: int, *,
                     dimensions: Mapping[str, Iterable[object]] | None = None, fallback_best: int = 0) -> float:
    """Probability that the reply policy of ``model`` draws ``choice``'s style and voice and candidate ``index``
    (what the learner's gate needs for a candidate and the incumbent). ``dimensions`` default: the model's own arms
    of the reply action."""
    if dimensions is None:
        marginals = (model or {}).get("propensities") or {}
        dimensions = {d: marginals[d] for d in REPLY_ACTION if marginals.get(d)}
    arms = {d: arm_order(d, options) for d, options in dimensions.items()}
    picked = {d: str(choice.get(d)) for d in arms}
    if any(picked[d] not in arms[d] for d in arms):
        return 0.0
    shares = target_shares(model, candidates, fallback_best)
    return _reply_propensity(model, picked, arms, float(shares[index]), len(candidates))


def shortlist(model: Mapping[str, Any] | None, candidates: Sequence[Mapping[str, str]],
              limit: int = MAX_TARGETS) -> list[int]:
    """Indices of the candidates that enter a draw, in the planner's order: all when they fit, otherwise the
    ``limit`` best by posterior mean (ties by position) — a deterministic function of the model and the pool, so
    the propensity over the shortlist stays exact."""
    if len(candidates) <= limit:
        return list(range(len(candidates)))
    moments = target_moments(model, candidates)
    if moments is None:
        return list(range(limit))
    means = moments[0]
    best = sorted(range(len(candidates)), key=lambda i: (-means[i], i))[:limit]
    return sorted(best)
