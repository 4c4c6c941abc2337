"""The posting policy lives in :mod:`libs.policy` (the planner samples with it, so its propensities are the ones
the learner assumes); the learner's modules keep importing these names from here."""

from libs.policy import (  # noqa: F401 - re-exported
    DIMENSIONS,
    arm_order,
    argmax_probabilities,
    choice_propensity,
    marginal_propensities,
    sample_choice,
    thompson_draw,
    thompson_shares,
)
