"""Statistics against references: scipy and tables worked out by hand."""

import itertools
import math

import numpy as np
import pytest
from scipy.stats import chi2_contingency, false_discovery_control
from scipy.stats.contingency import association

from themepipe.stats import (
    benjamini_hochberg,
    between_group_ss,
    bootstrap_share_ci,
    contingency_statistics,
    expanded_tail,
    js_distance,
    permutation_pvalue,
    permutation_test,
)

# 2 x 2 table worked by hand: N = 100, rows 30/70, columns 40/60, E = [[12, 18], [28, 42]],
# chi2 = 4/12 + 4/18 + 4/28 + 4/42, V = sqrt(chi2 / 100), adjusted residual of cell (0, 0)
# = (10 - 12) / sqrt(12 * 0.7 * 0.6).
HAND_TABLE = [[10, 20], [30, 40]]
HAND_CHI2 = 4 / 12 + 4 / 18 + 4 / 28 + 4 / 42
HAND_RESIDUAL = -2 / np.sqrt(12 * 0.7 * 0.6)


def test_stats_chi_square_cramers_v_residuals_by_hand():
    result = contingency_statistics(HAND_TABLE)
    assert result["chi_square"] == pytest.approx(HAND_CHI2)
    assert result["dof"] == 1
    assert result["cramers_v"] == pytest.approx(np.sqrt(HAND_CHI2 / 100))
    assert result["expected"] == pytest.approx(np.array([[12, 18], [28, 42]]))
    assert result["adjusted_residual"] == pytest.approx(
        np.array([[1, -1], [-1, 1]]) * HAND_RESIDUAL)
    # in a 2 x 2 table every adjusted residual is +-sqrt(chi2)
    assert abs(HAND_RESIDUAL) == pytest.approx(np.sqrt(HAND_CHI2))


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_stats_chi_square_matches_scipy(seed):
    table = np.random.default_rng(seed).integers(1, 40, size=(6, 6))
    result = contingency_statistics(table)
    chi2, p, dof, expected = chi2_contingency(table, correction=False)
    assert result["chi_square"] == pytest.approx(chi2)
    assert result["p_value"] == pytest.approx(p)
    assert result["dof"] == dof
    assert result["expected"] == pytest.approx(expected)
    assert result["cramers_v"] == pytest.approx(association(table, method="cramer"))


def test_stats_adjusted_residuals_two_rows_are_opposite():
    result = contingency_statistics([[5, 9, 30], [15, 11, 2]])
    residual = result["adjusted_residual"]
    assert residual[0] == pytest.approx(-residual[1])
    n, rows, cols = 72, np.array([44, 28]), np.array([20, 20, 32])
    expected = np.outer(rows, cols) / n
    hand = (5 - expected[0, 0]) / np.sqrt(expected[0, 0] * (1 - 44 / n) * (1 - 20 / n))
    assert residual[0, 0] == pytest.approx(hand)


def test_stats_contingency_leaves_out_empty_rows_and_columns():
    full = contingency_statistics([[10, 0, 20], [0, 0, 0], [30, 0, 40]])
    assert full["chi_square"] == pytest.approx(HAND_CHI2)
    assert full["dof"] == 1
    assert np.isnan(full["adjusted_residual"][1]).all()
    assert np.isnan(full["adjusted_residual"][:, 1]).all()
    single = contingency_statistics([[3, 4], [0, 0]])
    assert np.isnan(single["chi_square"]) and np.isnan(single["adjusted_residual"]).all()


@pytest.mark.parametrize("size", [1, 6, 50])
def test_stats_benjamini_hochberg_matches_scipy(size):
    p = np.random.default_rng(size).uniform(size=size) ** 2
    assert benjamini_hochberg(p) == pytest.approx(false_discovery_control(p, method="bh"))


def test_stats_benjamini_hochberg_by_hand_and_nan():
    # sorted 0.005, 0.01, 0.03, 0.04 -> x 4 / rank = 0.02, 0.02, 0.04, 0.04
    q = benjamini_hochberg([0.01, 0.04, np.nan, 0.03, 0.005])
    assert q[[0, 1, 3, 4]] == pytest.approx([0.02, 0.04, 0.04, 0.02])
    assert np.isnan(q[2])
    assert np.isnan(benjamini_hochberg([np.nan])).all()


# Two groups of three informants whose shares do not overlap: of the 20 ways to split six
# informants into 3 + 3, only the observed split and its mirror reach the observed
# between-group sum of squares, so the exact permutation p-value is 2 / 20 = 0.1.
HAND_SHARES = np.array([[0.5], [0.4], [0.3], [0.2], [0.1], [0.0]])
HAND_LABELS = np.array([0, 0, 0, 1, 1, 1])


def test_stats_between_group_ss_by_hand():
    # grand mean 0.25, group means 0.4 and 0.1: SS = 3 * 0.15^2 + 3 * 0.15^2
    assert between_group_ss(HAND_SHARES, HAND_LABELS, 2) == pytest.approx([0.135])
    labelings = np.array([HAND_LABELS, [0, 1, 0, 1, 0, 1]])
    assert between_group_ss(HAND_SHARES, labelings, 2)[:, 0] == pytest.approx(
        [0.135, 3 * (0.3 - 0.25) ** 2 * 2])


def test_stats_permutation_exact_p_value_enumerated():
    every = np.array([HAND_LABELS[list(order)]
                      for order in itertools.permutations(range(6))])  # 720 labelings
    stats = between_group_ss(HAND_SHARES, every, 2)[:, 0]
    observed = between_group_ss(HAND_SHARES, HAND_LABELS, 2)
    exact = np.mean(stats >= observed[0] - 1e-12)
    assert exact == pytest.approx(0.1)
    # the Monte Carlo p-value counts the observed labeling once more
    assert permutation_pvalue(observed, stats[:, None]) == pytest.approx(
        (1 + 72) / (1 + 720))
    _, p = permutation_test(HAND_SHARES, HAND_LABELS, 2, 20000, np.random.default_rng(0))
    sd = np.sqrt(0.1 * 0.9 / 20000)
    assert abs(p[0] - 0.1) < 4 * sd


def test_stats_permutation_pvalue_formula_and_ties():
    observed = np.array([1.0, 0.0])
    permuted = np.array([[0.5, 0.0], [1.0, 0.0], [2.0, 0.0]])
    assert permutation_pvalue(observed, permuted) == pytest.approx([3 / 4, 1.0])
    # a sum taken in another order, a few ulps below, is a tie
    assert permutation_pvalue(np.array([0.3]), np.array([[0.1 + 0.2 - 1e-16]]))[0] == 1.0
    assert np.isnan(permutation_pvalue(observed, np.empty((0, 2)))).all()


def test_stats_permutation_test_seeded_and_separates_groups():
    rng = np.random.default_rng(5)
    shares = np.column_stack([np.r_[rng.uniform(0.3, 0.5, 10), rng.uniform(0.0, 0.2, 10)],
                              rng.uniform(0, 1, 20)])
    labels = np.repeat([0, 1], 10)
    first = permutation_test(shares, labels, 2, 999, np.random.default_rng(1))
    again = permutation_test(shares, labels, 2, 999, np.random.default_rng(1))
    assert np.array_equal(first[1], again[1])
    assert first[1][0] == pytest.approx(1 / 1000)
    assert first[1][1] > 0.01
    _, none = permutation_test(shares, labels, 2, 0, rng)
    assert np.isnan(none).all()


def test_stats_bootstrap_interval_bounds():
    hits = np.array([[2, 0], [5, 10], [1, 3], [4, 4]])
    totals = np.array([10, 10, 5, 20])
    low, high = bootstrap_share_ci(hits, totals, 2000, np.random.default_rng(0))
    share = hits.sum(axis=0) / totals.sum()
    assert np.all(low <= share) and np.all(share <= high)
    assert np.all((0 <= low) & (high <= 1))
    # every informant with the same share: the interval is that share
    same = bootstrap_share_ci(np.array([[1], [2], [3]]), np.array([4, 8, 12]), 500,
                              np.random.default_rng(0))
    assert same[0] == pytest.approx([0.25]) and same[1] == pytest.approx([0.25])
    lone = bootstrap_share_ci(hits[:1], totals[:1], 500, np.random.default_rng(0))
    assert np.isnan(lone).all()


def test_stats_js_distance_by_hand():
    # M = (0.75, 0.25); KL(p||M) = log2(4/3), KL(q||M) = (log2(2/3) + 1) / 2
    divergence = (np.log2(4 / 3) + (np.log2(2 / 3) + 1) / 2) / 2
    assert js_distance([1, 0], [0.5, 0.5]) == pytest.approx(np.sqrt(divergence))
    assert js_distance([1, 0], [0, 1]) == pytest.approx(1.0)
    assert js_distance([0.2, 0.8], [0.2, 0.8]) == pytest.approx(0.0, abs=1e-7)
    assert np.isnan(js_distance([0, 0], [0.5, 0.5]))


def test_stats_expanded_percentile_tail_by_hand():
    # n = 12: t(0.975, 11) = 2.200985 (tables); tail = Phi(-sqrt(12/11) * 2.200985)
    z = np.sqrt(12 / 11) * 2.200985
    assert expanded_tail(0.95, 12) == pytest.approx(0.5 * math.erfc(z / np.sqrt(2)),
                                                    rel=1e-5)
    assert expanded_tail(0.95, 10_000) == pytest.approx(0.025, abs=1e-4)
    rng = np.random.default_rng(3)
    hits, totals = rng.integers(0, 10, size=(12, 3)), np.full(12, 10)
    plain = bootstrap_share_ci(hits, totals, 4000, np.random.default_rng(0), expand=False)
    wide = bootstrap_share_ci(hits, totals, 4000, np.random.default_rng(0))
    assert np.all(wide[0] <= plain[0]) and np.all(plain[1] <= wide[1])
    assert np.all(wide[1] - wide[0] > plain[1] - plain[0])


# -- blocks of bounded memory give the results of the whole matrices -------------------

def _whole_matrix_permutation_test(shares, labels, n_groups, n_permutations, rng):
    """Reference: every relabeling drawn at once, group sums by a float one-hot product."""
    relabelings = rng.permuted(np.tile(labels, (n_permutations, 1)), axis=1)
    onehot = (np.r_[[labels], relabelings][:, :, None] == np.arange(n_groups)).astype(float)
    sizes = onehot.sum(axis=1)
    means = np.einsum("lig,it->lgt", onehot, shares) / np.maximum(sizes, 1)[:, :, None]
    ss = np.einsum("lg,lgt->lt", sizes, (means - shares.mean(axis=0)) ** 2)
    return ss[0], permutation_pvalue(ss[0], ss[1:])


def _sample(n_informants, n_groups, seed):
    rng = np.random.default_rng(seed)
    totals = rng.integers(1, 30, n_informants)
    hits = rng.binomial(totals[:, None], rng.uniform(0.05, 0.6, size=(1, 4)))
    labels = np.sort(rng.integers(0, n_groups, n_informants))
    return hits, totals, labels


@pytest.mark.parametrize("n_informants, n_groups, n_permutations", [
    (7, 2, 50), (40, 3, 301), (250, 6, 999), (1201, 2, 120)])
def test_stats_permutation_blocks_equal_whole_matrix(n_informants, n_groups, n_permutations):
    hits, totals, labels = _sample(n_informants, n_groups, n_informants)
    shares = hits / totals[:, None]
    reference = _whole_matrix_permutation_test(shares, labels, n_groups, n_permutations,
                                               np.random.default_rng(11))
    for rows in (1, 7, 100, n_permutations, None):
        statistic, p = permutation_test(shares, labels, n_groups, n_permutations,
                                        np.random.default_rng(11), max_rows=rows)
        assert np.array_equal(p, reference[1]), rows
        np.testing.assert_allclose(statistic, reference[0], rtol=1e-12)
    # the draws themselves: row blocks of permuted() are the rows of the whole matrix
    whole = np.random.default_rng(4).permuted(np.tile(labels, (n_permutations, 1)), axis=1)
    rng = np.random.default_rng(4)
    blocks = [rng.permuted(np.tile(labels, (k, 1)), axis=1)
              for k in (3, 7, n_permutations - 10)]
    assert np.array_equal(np.vstack(blocks), whole)


def test_stats_between_group_ss_same_assignment_same_bits():
    hits, totals, labels = _sample(60, 3, 5)
    shares = hits / totals[:, None]
    observed = between_group_ss(shares, labels, 3)
    # a relabeling that swaps two informants of the same group is the same assignment
    swapped = labels.copy()
    first = np.flatnonzero(labels == labels[0])[:2]
    swapped[first] = swapped[first[::-1]]
    many = between_group_ss(shares, np.array([swapped, labels, labels[::-1]]), 3)
    assert np.array_equal(many[0], observed) and np.array_equal(many[1], observed)


@pytest.mark.parametrize("n_informants, n_bootstrap", [(2, 40), (33, 501), (400, 257)])
def test_stats_bootstrap_blocks_equal_whole_matrix(n_informants, n_bootstrap):
    hits, totals, _ = _sample(n_informants, 1, n_bootstrap)
    rng = np.random.default_rng(8)
    draws = rng.integers(0, n_informants, size=(n_bootstrap, n_informants))
    counts = np.zeros((n_bootstrap, n_informants))
    np.add.at(counts, (np.arange(n_bootstrap)[:, None], draws), 1.0)
    shares = (counts @ hits) / (counts @ totals)[:, None]
    tail = expanded_tail(0.95, n_informants)
    reference = np.quantile(shares, [tail, 1 - tail], axis=0)
    for rows in (1, 5, n_bootstrap, None):
        low, high = bootstrap_share_ci(hits, totals, n_bootstrap, np.random.default_rng(8),
                                       max_rows=rows)
        assert np.array_equal(low, reference[0]) and np.array_equal(high, reference[1])
