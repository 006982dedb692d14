"""Simulation of the group comparison (issue 6 acceptance): power, type-I error, coverage.

Each dataset has 2 groups x 12 informants x 20 informant segments and 6 themes.  Each
informant's rate of a theme is drawn from a beta distribution whose mean is the group's
rate and a + b = 10; each segment then carries each theme independently with the
informant's rate.  The datasets go through the real code (``compare.group_tests`` and
``compare.theme_distribution`` on a segments table), so the figures are those of
``themepipe run``.

- power: theme 0 planted at 0.40 vs 0.10 (the other five at 0.25 in both groups); the
  share of 200 datasets where its BH q-value across the 6 themes is < 0.05 (target >= 90%);
- type-I error: every theme at 0.25 in both groups; the share of 1000 datasets where
  theme 0's p-value is < 0.05 (target <= 6.5%; the mean over all 6 themes is shown too);
- coverage: theme 0 at 0.10 in one group and 0.40 in the other; the share of 500
  datasets where the 95% bootstrap interval of ``share_segments`` covers the group's beta
  mean (target 90-98% at each mean).

    python bench/compare_sim.py [--permutations 999] [--bootstrap 999] [--seed 0]
                                [--power-datasets 200] [--null-datasets 1000]
                                [--coverage-datasets 500]

The defaults use 999 permutations and 999 bootstrap resamples (``themepipe run`` uses
``compare.permutations: 5000`` and ``compare.bootstrap: 2000``) to keep the run to about a
minute on 2 cores; the output says which numbers were used.
"""

from __future__ import annotations

import argparse
import shlex
import sys
import time

import numpy as np
import pandas as pd

from themepipe.compare import group_tests, theme_distribution
from themepipe.stats import permutation_test

GROUPS = ("kelompok_a", "kelompok_b")
THEMES = [f"tema_{k}" for k in range(6)]
N_INFORMANTS, N_SEGMENTS, CONCENTRATION = 12, 20, 10.0


# the ';'-joined theme cell of each of the 2^6 combinations of themes
CELLS = np.array([";".join(t for k, t in enumerate(THEMES) if code >> k & 1) or "none"
                  for code in range(2 ** len(THEMES))], dtype=object)


def simulate(rng: np.random.Generator, means: np.ndarray) -> pd.DataFrame:
    """One dataset as a segments table; ``means`` has shape (n_groups, n_themes)."""
    frames = []
    for g, group in enumerate(GROUPS):
        a = means[g] * CONCENTRATION
        rates = rng.beta(a, CONCENTRATION - a, size=(N_INFORMANTS, len(THEMES)))
        hits = rng.random((N_INFORMANTS, N_SEGMENTS, len(THEMES))) < rates[:, None, :]
        codes = (hits * (1 << np.arange(len(THEMES)))).sum(axis=2).ravel()
        frames.append(pd.DataFrame({
            "informant_id": np.repeat([f"{group}_{i:02d}" for i in range(N_INFORMANTS)],
                                      N_SEGMENTS),
            "group": group, "gold_themes": CELLS[codes]}))
    frame = pd.concat(frames, ignore_index=True)
    frame["role"] = "informant"
    return frame


def power(rng, n_datasets, n_permutations) -> float:
    means = np.full((2, len(THEMES)), 0.25)
    means[:, 0] = (0.40, 0.10)
    hits = 0
    for k in range(n_datasets):
        comparison, _ = group_tests(simulate(rng, means), THEMES, "group", GROUPS,
                                    n_permutations, random_state=k)
        hits += comparison.set_index("theme").loc[THEMES[0], "q_value"] < 0.05
    return hits / n_datasets


def type_one(rng, n_datasets, n_permutations) -> tuple[float, float]:
    means = np.full((2, len(THEMES)), 0.25)
    first, every = 0, 0
    for k in range(n_datasets):
        comparison, _ = group_tests(simulate(rng, means), THEMES, "group", GROUPS,
                                    n_permutations, random_state=k)
        rejected = comparison.set_index("theme").loc[THEMES, "p_value"].to_numpy() < 0.05
        first += rejected[0]
        every += rejected.sum()
    return first / n_datasets, every / (n_datasets * len(THEMES))


def coverage(rng, n_datasets, n_bootstrap) -> dict[float, float]:
    means = np.full((2, len(THEMES)), 0.25)
    means[:, 0] = (0.10, 0.40)
    covered = np.zeros(2)
    for k in range(n_datasets):
        dist = theme_distribution(simulate(rng, means), THEMES, "group", GROUPS,
                                  n_bootstrap, random_state=k)
        rows = dist[dist["theme"] == THEMES[0]].set_index("group").loc[list(GROUPS)]
        covered += ((rows["ci_low"] <= means[:, 0]) & (means[:, 0] <= rows["ci_high"])
                    ).to_numpy()
    return {float(m): c / n_datasets for m, c in zip(means[:, 0], covered)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--permutations", type=int, default=999)
    parser.add_argument("--bootstrap", type=int, default=999)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--power-datasets", type=int, default=200)
    parser.add_argument("--null-datasets", type=int, default=1000)
    parser.add_argument("--coverage-datasets", type=int, default=500)
    args = parser.parse_args()
    print("$ python " + " ".join(shlex.quote(a) for a in sys.argv))
    print(f"2 groups x {N_INFORMANTS} informants x {N_SEGMENTS} segments, {len(THEMES)} "
          f"themes, beta rates with a+b={CONCENTRATION:g}; {args.permutations} "
          f"permutations, {args.bootstrap} bootstrap resamples (run defaults: 5000 and "
          f"2000), seed {args.seed}")
    shares = np.random.default_rng(0).uniform(size=(32, 6))
    labels = np.arange(32) % 6
    start = time.perf_counter()
    permutation_test(shares, labels, 6, 5000, np.random.default_rng(0))
    print(f"speed: 5000 permutations x 6 themes on 32 informants in 6 groups: "
          f"{time.perf_counter() - start:.3f} s")
    rng = np.random.default_rng(args.seed)
    start = time.perf_counter()
    rate = power(rng, args.power_datasets, args.permutations)
    print(f"power: planted theme (0.40 vs 0.10) q < 0.05 in {rate:.1%} of "
          f"{args.power_datasets} datasets (target >= 90%) "
          f"[{'ok' if rate >= 0.90 else 'FAIL'}]  ({time.perf_counter() - start:.0f} s)")
    start = time.perf_counter()
    first, every = type_one(rng, args.null_datasets, args.permutations)
    print(f"type-I error: equal means (0.25) p < 0.05 in {first:.1%} of "
          f"{args.null_datasets} datasets (target <= 6.5%) "
          f"[{'ok' if first <= 0.065 else 'FAIL'}]; mean over the 6 null themes "
          f"{every:.1%}  ({time.perf_counter() - start:.0f} s)")
    start = time.perf_counter()
    covered = coverage(rng, args.coverage_datasets, args.bootstrap)
    verdict = all(0.90 <= c <= 0.98 for c in covered.values())
    print("coverage: 95% bootstrap interval of share_segments covers the beta mean in "
          + ", ".join(f"{c:.1%} at {m:.2f}" for m, c in covered.items())
          + f" of {args.coverage_datasets} datasets (target 90-98%) "
          f"[{'ok' if verdict else 'FAIL'}]  ({time.perf_counter() - start:.0f} s)")


if __name__ == "__main__":
    main()
