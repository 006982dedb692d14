"""Statistics for comparing informant groups: permutation tests, bootstrap, BH, chi-square.

Everything here works on plain numpy arrays; :mod:`themepipe.compare` builds them from the
segments table.  The unit of resampling is the *informant*: segments of one informant
are not independent, so group labels are permuted across informants and bootstrap
resamples draw informants (with all their segments) within a group.
"""

from __future__ import annotations

import numpy as np

# scipy.stats is imported inside the functions that need it: importing it costs about a
# second, and a run whose comparison comes from the stage cache needs none of it.

# Relative tolerance when comparing permuted statistics with the observed one: sums of the
# same numbers in another order may differ in the last bits (as scipy.stats.permutation_test).
_REL_TOL = 1e-12
CODING_TEST_NOTE = "descriptive only: codings of one informant are not independent"
#: Memory bound of one block of relabelings or bootstrap draws (bytes, all temporaries).
#: Blocks change nothing in the results: numpy's ``Generator.permuted`` and
#: ``Generator.integers`` draw the same values row by row as for the whole matrix.
BLOCK_BYTES = 64 * 2**20


def between_group_ss(shares: np.ndarray, labels: np.ndarray, n_groups: int) -> np.ndarray:
    """Between-group sum of squares of informant-level shares, groups weighted by informants.

    ``SS = sum_g n_g (mean_g - mean)^2`` where ``mean_g`` is the mean share of the ``n_g``
    informants of group ``g`` and ``mean`` the mean over all informants (the numerator of
    one-way ANOVA's F).

    Parameters
    ----------
    shares : ndarray of shape (n_informants, n_themes)
        Informant-level shares in [0, 1].
    labels : ndarray of int, shape (n_informants,) or (n_labelings, n_informants)
        Group index ``0 .. n_groups - 1`` of each informant, for one or many labelings.
    n_groups : int
        Number of groups.

    Returns
    -------
    ndarray of shape (n_themes,) or (n_labelings, n_themes)

    Notes
    -----
    Group sums are ``np.bincount`` over ``label + n_groups * labeling`` with the shares as
    weights: each group's sum adds its informants' shares in informant order, so two
    labelings that put the same informants in the same groups give bit-identical
    statistics (the observed labeling goes through the same code as the permuted ones).
    """
    shares = np.asarray(shares, dtype=float)
    labels = np.asarray(labels)
    single = labels.ndim == 1
    labels = np.atleast_2d(labels)
    n_labelings, n_informants = labels.shape
    n_cells = n_labelings * n_groups
    index = (labels + n_groups * np.arange(n_labelings)[:, None]).ravel()
    sizes = np.bincount(index, minlength=n_cells).reshape(n_labelings, n_groups).astype(float)
    sums = np.empty((n_labelings, n_groups, shares.shape[1]))
    for t in range(shares.shape[1]):
        weights = np.broadcast_to(shares[:, t], (n_labelings, n_informants)).ravel()
        sums[:, :, t] = np.bincount(index, weights=weights,
                                    minlength=n_cells).reshape(n_labelings, n_groups)
    grand = shares.mean(axis=0)  # (T,)
    with np.errstate(invalid="ignore", divide="ignore"):
        means = sums / sizes[:, :, None]
    deviation = np.where(sizes[:, :, None] > 0, means - grand, 0.0)
    ss = np.einsum("lg,lgt->lt", sizes, deviation ** 2)
    return ss[0] if single else ss


def block_rows(n_columns: int, bytes_per_cell: int = 32) -> int:
    """Rows of a (rows, ``n_columns``) working block that fit :data:`BLOCK_BYTES`.

    Parameters
    ----------
    n_columns : int
        Cells per row (informants).
    bytes_per_cell : int
        Bytes the computation holds per cell (all its temporaries together).

    Returns
    -------
    int
        At least 1.
    """
    return max(1, BLOCK_BYTES // (bytes_per_cell * max(1, n_columns)))


def permutation_pvalue(observed: np.ndarray, permuted: np.ndarray) -> np.ndarray:
    """Monte Carlo permutation p-value ``(1 + #{perm >= obs}) / (1 + n_perm)``.

    Parameters
    ----------
    observed : ndarray of shape (n_themes,)
    permuted : ndarray of shape (n_permutations, n_themes)

    Returns
    -------
    ndarray of shape (n_themes,), in (0, 1]; NaN when ``n_permutations`` is 0.

    Notes
    -----
    Counting the observed labeling as one of the permutations makes the test exact
    (never anti-conservative) and the p-value never 0 (Phipson & Smyth 2010, "Permutation
    p-values should never be zero", Stat. Appl. Genet. Mol. Biol. 9:39).  A permuted
    statistic within a relative ``1e-12`` of the observed one counts as ``>=``.
    """
    observed = np.asarray(observed, dtype=float)
    permuted = np.asarray(permuted, dtype=float).reshape(-1, observed.size)
    if len(permuted) == 0:
        return np.full(observed.shape, np.nan)
    tolerance = _REL_TOL * np.maximum(np.abs(observed), 1e-300)
    hits = (permuted >= observed - tolerance).sum(axis=0)
    return (1.0 + hits) / (1.0 + len(permuted))


def permutation_test(shares: np.ndarray, labels: np.ndarray, n_groups: int,
                     n_permutations: int, rng: np.random.Generator,
                     max_rows: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Permutation test that informant-level shares differ across groups, per theme.

    Group labels are permuted across informants (not segments); the statistic is
    :func:`between_group_ss`.  One set of permutations serves every theme.

    Parameters
    ----------
    shares : ndarray of shape (n_informants, n_themes)
    labels : ndarray of int, shape (n_informants,)
        Group index of each informant.
    n_groups : int
    n_permutations : int
        Random relabelings drawn (0: no test, p-values NaN).
    rng : numpy.random.Generator
    max_rows : int, optional
        Relabelings per block (default: as many as fit :data:`BLOCK_BYTES`); the result
        does not depend on it.

    Returns
    -------
    statistic : ndarray of shape (n_themes,)
    p_value : ndarray of shape (n_themes,)
        See :func:`permutation_pvalue`.

    Notes
    -----
    Monte Carlo permutation test (Good 2005, *Permutation, Parametric, and Bootstrap Tests
    of Hypotheses*, ch. 3); the statistic is the between-group sum of squares of one-way
    ANOVA, equivalent to F under permutation since the total sum of squares is fixed.
    """
    labels = np.asarray(labels)
    observed = between_group_ss(shares, labels, n_groups)
    if n_permutations <= 0:
        return observed, np.full(observed.shape, np.nan)
    permuted = np.empty((n_permutations, observed.size))
    # relabelings are drawn block by block (bounded memory): row r of block b is the same
    # draw as row b * rows + r of rng.permuted(np.tile(labels, (n_permutations, 1)), axis=1)
    rows = block_rows(len(labels), 40) if max_rows is None else max_rows
    for start in range(0, n_permutations, rows):
        relabelings = np.tile(labels, (min(rows, n_permutations - start), 1))
        rng.permuted(relabelings, axis=1, out=relabelings)
        permuted[start:start + len(relabelings)] = between_group_ss(shares, relabelings,
                                                                    n_groups)
    return observed, permutation_pvalue(observed, permuted)


def benjamini_hochberg(p_values) -> np.ndarray:
    """Benjamini-Hochberg adjusted p-values (q-values); NaN entries are left out and kept.

    Parameters
    ----------
    p_values : array-like of shape (n_tests,)

    Returns
    -------
    ndarray of shape (n_tests,)
        Equal to ``scipy.stats.false_discovery_control(p, method="bh")`` on the finite
        entries; NaN where the input is NaN.

    Notes
    -----
    Benjamini & Hochberg (1995), J. R. Stat. Soc. B 57:289-300; computed by scipy.
    """
    p = np.asarray(p_values, dtype=float)
    q = np.full(p.shape, np.nan)
    finite = np.isfinite(p)
    if finite.any():
        from scipy.stats import false_discovery_control

        q[finite] = false_discovery_control(p[finite], method="bh")
    return q


def expanded_tail(level: float, n: int) -> float:
    """Tail probability of the expanded percentile interval for ``n`` resampled units.

    ``Phi(-sqrt(n / (n - 1)) * t_{1 - (1 - level) / 2, n - 1})``: the percentile
    interval with this tail on each side has the width of a t interval with the
    bootstrap's standard error corrected by ``sqrt(n / (n - 1))``, which undoes the
    narrowness of the plain percentile interval in small samples (12 informants: 0.0108
    per tail instead of 0.025).

    Notes
    -----
    Hesterberg (2015), "What teachers should know about the bootstrap", The American
    Statistician 69:371-386, section 3.
    """
    alpha = (1.0 - level) / 2.0
    from scipy.stats import norm
    from scipy.stats import t as student_t

    return float(norm.cdf(-np.sqrt(n / (n - 1)) * student_t.ppf(1.0 - alpha, n - 1)))


def bootstrap_share_ci(hits: np.ndarray, totals: np.ndarray, n_bootstrap: int,
                       rng: np.random.Generator, level: float = 0.95, expand: bool = True,
                       max_rows: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Percentile bootstrap interval of a pooled share, resampling informants.

    The share is ``sum(hits) / sum(totals)`` over the group's informants (segments with
    the theme / segments); each resample draws the group's informants with replacement.
    With ``expand`` (the default) the percentiles are taken at
    :func:`expanded_tail` instead of ``(1 - level) / 2``: with a dozen informants per
    group the plain percentile interval covers less than ``level`` (see
    ``bench/compare_sim.py``).

    Parameters
    ----------
    hits : ndarray of shape (n_informants, n_themes)
        Segments with each theme, per informant.
    totals : ndarray of shape (n_informants,)
        Segments per informant (> 0).
    n_bootstrap : int
        Resamples (0: no interval).
    rng : numpy.random.Generator
    level : float
        Coverage of the interval.
    expand : bool
        Expanded percentile interval (Hesterberg 2015) rather than the plain one.
    max_rows : int, optional
        Resamples per block (default: as many as fit :data:`BLOCK_BYTES`); the result
        does not depend on it.

    Returns
    -------
    ci_low, ci_high : ndarray of shape (n_themes,)
        NaN when ``n_bootstrap`` is 0 or there are fewer than 2 informants.

    Notes
    -----
    Percentile interval (Efron & Tibshirani 1993, *An Introduction to the Bootstrap*,
    ch. 13), expanded after Hesterberg (2015); quantiles by numpy's default linear
    interpolation.
    """
    hits = np.asarray(hits, dtype=float)
    totals = np.asarray(totals, dtype=float)
    n_inf, n_themes = hits.shape
    if n_bootstrap <= 0 or n_inf < 2:
        return np.full(n_themes, np.nan), np.full(n_themes, np.nan)
    shares = np.empty((n_bootstrap, n_themes))
    # resamples in blocks of bounded memory; rng.integers draws the same values row by row
    rows = block_rows(n_inf, 32) if max_rows is None else max_rows
    for start in range(0, n_bootstrap, rows):
        size = min(rows, n_bootstrap - start)
        draws = rng.integers(0, n_inf, size=(size, n_inf))
        draws += n_inf * np.arange(size)[:, None]
        counts = np.bincount(draws.ravel(), minlength=size * n_inf).reshape(size, n_inf)
        counts = counts.astype(float)
        # integer counts times integer hits: exact, whatever the summation order
        shares[start:start + size] = (counts @ hits) / (counts @ totals)[:, None]
    alpha = expanded_tail(level, n_inf) if expand else (1.0 - level) / 2.0
    low, high = np.quantile(shares, [alpha, 1.0 - alpha], axis=0)
    return low, high


def js_distance(p, q) -> float:
    """Jensen-Shannon distance (base 2, in [0, 1]) between two distributions.

    Parameters
    ----------
    p, q : array-like of shape (n_themes,)
        Non-negative; each is normalised to sum 1 by scipy.

    Returns
    -------
    float
        NaN when either has no mass.

    Notes
    -----
    Lin (1991), IEEE Trans. Inf. Theory 37:145-151; computed by
    ``scipy.spatial.distance.jensenshannon(p, q, base=2)``.
    """
    p = np.nan_to_num(np.asarray(p, dtype=float))
    q = np.nan_to_num(np.asarray(q, dtype=float))
    if p.sum() <= 0 or q.sum() <= 0:
        return float("nan")
    from scipy.spatial.distance import jensenshannon

    return float(jensenshannon(p, q, base=2))


def contingency_statistics(table) -> dict:
    """Chi-square test, Cramér's V and adjusted standardised residuals of a count table.

    Rows or columns without any count are left out of the test (their expected counts
    would be 0); their expected counts and residuals are NaN.

    Parameters
    ----------
    table : array-like of shape (n_rows, n_cols)
        Non-negative counts (group x theme codings).

    Returns
    -------
    dict
        ``chi_square``, ``dof``, ``p_value`` (Pearson, no continuity correction),
        ``cramers_v`` (``sqrt(chi2 / (N (min(r, c) - 1)))``), ``expected`` and
        ``adjusted_residual`` (ndarrays of the table's shape).  The scalars are NaN when
        fewer than 2 rows or columns have counts.

    Notes
    -----
    Test by ``scipy.stats.chi2_contingency(correction=False)``; Cramér (1946),
    *Mathematical Methods of Statistics*, p. 282; adjusted residuals
    ``(O - E) / sqrt(E (1 - r_i / N) (1 - c_j / N))`` after Haberman (1973), Biometrics
    29:205-220.
    """
    table = np.asarray(table, dtype=float)
    expected = np.full(table.shape, np.nan)
    residual = np.full(table.shape, np.nan)
    rows = table.sum(axis=1) > 0
    cols = table.sum(axis=0) > 0
    result = {"chi_square": np.nan, "dof": np.nan, "p_value": np.nan, "cramers_v": np.nan,
              "expected": expected, "adjusted_residual": residual}
    sub = table[np.ix_(rows, cols)]
    if sub.size == 0:
        return result
    n = sub.sum()
    row_share = sub.sum(axis=1, keepdims=True) / n
    col_share = sub.sum(axis=0, keepdims=True) / n
    sub_expected = n * row_share * col_share
    expected[np.ix_(rows, cols)] = sub_expected
    if min(sub.shape) < 2:  # a single row or column: nothing to test, residuals 0/0
        return result
    residual[np.ix_(rows, cols)] = ((sub - sub_expected)
                                    / np.sqrt(sub_expected * (1 - row_share) * (1 - col_share)))
    from scipy.stats import chi2_contingency

    chi2, p, dof, _ = chi2_contingency(sub, correction=False)
    result.update(chi_square=float(chi2), dof=int(dof), p_value=float(p),
                  cramers_v=float(np.sqrt(chi2 / (n * (min(sub.shape) - 1)))))
    return result
