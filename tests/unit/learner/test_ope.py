import math

import pytest

from services.learner.ope import doubly_robust, gate, snips


def test_snips_hand_computed():
    # w = [0.5/0.25, 0.1/0.5, 0.4/0.25] = [2, 0.2, 1.6]; Σw r = 2*1 + 0.2*0 + 1.6*2 = 5.2; Σw = 3.8
    est = snips([1.0, 0.0, 2.0], [0.25, 0.5, 0.25], [0.5, 0.1, 0.4])
    assert est.value == pytest.approx(5.2 / 3.8)
    assert est.ess == pytest.approx(3.8**2 / (4 + 0.04 + 2.56))
    v = 5.2 / 3.8
    se = math.sqrt(4 * (1 - v) ** 2 + 0.04 * v**2 + 2.56 * (2 - v) ** 2) / 3.8
    assert est.high - est.value == pytest.approx(1.959963984540054 * se)


def test_on_policy_snips_is_the_sample_mean():
    est = snips([1.0, 2.0, 6.0], [0.2, 0.3, 0.5], [0.2, 0.3, 0.5])
    assert est.value == pytest.approx(3.0)
    assert est.ess == pytest.approx(3.0)


def test_doubly_robust_hand_computed():
    # terms = v + w (r - q): 1.5 + 2*(1-1) , 1.5 + 0.2*(0-0.5), 1.5 + 1.6*(2-1.5) = 1.5, 1.4, 2.3
    est = doubly_robust([1.0, 0.0, 2.0], [0.25, 0.5, 0.25], [0.5, 0.1, 0.4], [1.0, 0.5, 1.5], 1.5)
    assert est.value == pytest.approx((1.5 + 1.4 + 2.3) / 3)


def test_doubly_robust_with_a_perfect_model_is_the_model_value():
    est = doubly_robust([1.0, 3.0], [0.5, 0.5], [0.9, 0.1], [1.0, 3.0], 2.7)
    assert est.value == pytest.approx(2.7)


def test_gate_blocks_a_clearly_worse_candidate_and_passes_an_equal_one():
    rewards = [1.0, 0.0] * 50
    logging = [0.5] * 100
    good = [0.9, 0.1] * 50  # puts its mass on the rewarding choice
    bad = [0.1, 0.9] * 50
    q = [1.0, 0.0] * 50
    worse = gate(rewards, logging, bad, good, q, 0.1, 0.9)
    assert not worse.publish and worse.high < 0
    same = gate(rewards, logging, good, good, q, 0.9, 0.9)
    assert same.publish and same.difference == pytest.approx(0.0)
    assert gate([], [], [], [], [], 0.0, 0.0).publish
