#!/usr/bin/env python3
"""Writes tests/data/stats_fixtures.json: scipy's answers for rdic's paired statistics.

    ~/.cache/rdic/venv-*/bin/python tools/make_stats_fixtures.py [--out PATH]

The C++ side is src/evaluation/statistics.cpp; tests/unit/test_statistics.cpp reads this file.
Everything here is deterministic (numpy PCG64 and scipy resampling with fixed seeds), so running
the script again with the pinned scipy/numpy (tools/requirements.txt) gives the same file.

What is stored, per paired case (a = semantic, b = baseline, d = a - b):
  * scipy.stats.wilcoxon(a, b) with its defaults, and which of its three p-value methods the
    defaults picked (re-checked by calling it again with that method named explicitly);
  * scipy.stats.ttest_rel(a, b);
  * Cohen's d_z = mean(d) / std(d, ddof=1);
  * scipy.stats.bootstrap(method='percentile') of mean(d), 10,000 resamples (its own PRNG, so the
    C++ interval can only agree within Monte-Carlo error), with the standard error of mean(d);
  * the interval rdic's own bootstrap must give, replayed here step by step (SplitMix64, the same
    rejection draw of indices, the same summation order and quantile rule), so the C++ must
    agree to rounding.
Plus: Holm families (computed here from the definition, checked on a hand example), Student t
CDF values (scipy.stats.t), non-inferiority cases (one-sided scipy.stats.ttest_1samp) and the
first SplitMix64 outputs.
"""
import argparse
import json
import math
import os
import sys

import numpy as np
import scipy
from scipy import stats

N_RESAMPLES = 10_000
CONFIDENCE = 0.95
# rdic's default bootstrap seed (kDefaultBootstrapSeed in include/rdic/evaluation/statistics.h).
RDIC_SEED = 20250101

MASK64 = (1 << 64) - 1


# ---- rdic's bootstrap, replayed (must match statistics.cpp operation for operation) ------------

class SplitMix64:
    def __init__(self, seed):
        self.state = seed & MASK64

    def next(self):
        self.state = (self.state + 0x9E3779B97F4A7C15) & MASK64
        z = self.state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK64
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK64
        return z ^ (z >> 31)

    def index(self, n):
        # Uniform in [0, n): reject the lowest 2^64 mod n outputs so the rest divide evenly.
        threshold = ((1 << 64) - n) % n
        while True:
            x = self.next()
            if x >= threshold:
                return x % n


def rdic_bootstrap_means(d, n_resamples, seed):
    rng = SplitMix64(seed)
    n = len(d)
    shift = d[0]
    dev = [float(x) - shift for x in d]
    means = []
    for _ in range(n_resamples):
        s = 0.0
        for _ in range(n):
            s += dev[rng.index(n)]
        means.append(shift + s / n)
    means.sort()
    return means


def rdic_quantile(sorted_values, q):
    h = q * (len(sorted_values) - 1)
    i = math.floor(h)
    if i + 1 >= len(sorted_values):
        return sorted_values[-1]
    lo, hi = sorted_values[i], sorted_values[i + 1]
    return lo + (h - i) * (hi - lo)


# ---- helpers ------------------------------------------------------------------------------------

def num(x):
    """JSON has no NaN/inf: NaN -> null, +-inf -> "inf"/"-inf"; finite floats keep all digits."""
    x = float(x)
    if math.isnan(x):
        return None
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    return x


def wilcoxon_method(d):
    """The method scipy.stats.wilcoxon's method='auto' picks (read from scipy/stats/_wilcoxon.py)."""
    n = len(d)
    nonzero = np.abs(d[d != 0])
    has_ties = len(np.unique(nonzero)) < len(nonzero)
    n_zero = int(np.count_nonzero(d == 0))
    if n > 50:
        return "normal"
    if not has_ties and n_zero == 0:
        return "exact"
    if n <= 13:
        return "permutation"
    return "normal"


def lattice_step(d):
    """Spacing of the values a resample mean can take when d is integer-valued (1/n), else 0: two
    bootstraps with different PRNGs can land one step apart on such a lattice."""
    return 1.0 / len(d) if all(float(x).is_integer() for x in d) else 0.0


def same(x, y):
    return (math.isnan(x) and math.isnan(y)) or x == y


def holm(p):
    """Holm step-down adjusted p-values, from the definition: sort ascending, multiply the k-th
    smallest (k = 0..m-1) by m - k, make the sequence non-decreasing, cap at 1."""
    m = len(p)
    order = sorted(range(m), key=lambda i: (p[i], i))
    adjusted = [0.0] * m
    running = 0.0
    for k, i in enumerate(order):
        running = max(running, (m - k) * p[i])
        adjusted[i] = min(1.0, running)
    return adjusted


# ---- the paired cases ---------------------------------------------------------------------------

def make_cases():
    cases = []

    def add(name, a, b, kind):
        cases.append({"name": name, "kind": kind, "a": [float(x) for x in a],
                      "b": [float(x) for x in b]})

    seed = 1000
    for n in [2, 3, 4, 5, 6, 8, 10, 12, 13, 14, 16, 20, 25, 30, 40, 49, 50, 51, 60, 80, 100, 120]:
        seed += 1
        rng = np.random.default_rng(seed)
        b = rng.normal(0.55, 0.12, n)
        a = b + rng.normal(0.04, 0.08, n)
        add(f"normal_n{n}", a, b, "normal")
    for n in [7, 15, 35, 50, 70, 120]:
        seed += 1
        rng = np.random.default_rng(seed)
        b = rng.normal(0.5, 0.1, n)
        a = b + (rng.lognormal(0.0, 0.9, n) - 1.3) * 0.1  # right-skewed differences
        add(f"skewed_n{n}", a, b, "skewed")
    for n in [5, 9, 13, 14, 20, 30, 50, 51, 90, 120]:
        seed += 1
        rng = np.random.default_rng(seed)
        b = rng.integers(1, 6, n)  # 1..5 ratings: ties and zero differences
        a = np.clip(b + rng.integers(-1, 3, n), 1, 5)
        add(f"likert_n{n}", a, b, "integer")
    for n in [10, 24, 48, 75, 120]:
        seed += 1
        rng = np.random.default_rng(seed)
        b = np.round(rng.uniform(0.2, 0.8, n), 2)  # scores with two decimals
        a = np.round(np.clip(b + rng.normal(0.02, 0.05, n), 0, 1), 2)
        add(f"rounded_n{n}", a, b, "rounded")
    for n in [4, 13, 20, 60]:
        seed += 1
        rng = np.random.default_rng(seed)
        b = rng.normal(0.5, 0.1, n)
        add(f"identical_n{n}", b, b, "identical")
    for n in [12, 30, 64]:
        seed += 1
        rng = np.random.default_rng(seed)
        b = rng.normal(0.5, 0.1, n)
        a = b + rng.normal(0.01, 0.05, n)
        a[n // 3] += 3.0  # one outlier difference
        add(f"outlier_n{n}", a, b, "outlier")
    for n in [6, 20]:
        seed += 1
        rng = np.random.default_rng(seed)
        b = rng.integers(0, 10, n).astype(float)
        add(f"constant_shift_n{n}", b + 1.0, b, "constant")
    add("mostly_zero_n13", [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 3, 5, 2],
        [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 1, 6, 2.5], "zeros")
    rng = np.random.default_rng(seed + 1)
    b = rng.integers(0, 4, 40).astype(float)
    a = b.copy()
    a[:5] += [1, -2, 3, 1, 2]
    add("mostly_zero_n40", a, b, "zeros")
    add("two_pairs", [1.0, 0.5], [0.0, 1.0], "small")
    add("two_pairs_tied", [3.0, 1.0], [2.0, 0.0], "small")
    return cases


def describe_case(case):
    a = np.array(case["a"])
    b = np.array(case["b"])
    d = a - b
    n = len(d)
    out = dict(case)
    out["n"] = n
    out["mean_a"] = num(np.mean(a))
    out["mean_b"] = num(np.mean(b))
    out["mean_difference"] = num(np.mean(d))

    method = wilcoxon_method(d)
    w = stats.wilcoxon(a, b)
    named = {"exact": "exact", "normal": "asymptotic",
             "permutation": stats.PermutationMethod()}[method]
    w_named = stats.wilcoxon(a, b, method=named)
    assert same(float(w.pvalue), float(w_named.pvalue)), (case["name"], method)
    wil = {"statistic": num(w.statistic), "pvalue": num(w.pvalue), "method": method,
           "n_zero": int(np.count_nonzero(d == 0))}
    if method == "normal":
        wil["abs_z"] = num(abs(stats.wilcoxon(a, b, method="asymptotic").zstatistic))
    out["wilcoxon"] = wil

    t = stats.ttest_rel(a, b)
    out["ttest_rel"] = {"statistic": num(t.statistic), "pvalue": num(t.pvalue), "df": int(t.df)}

    sd = np.std(d, ddof=1)
    out["cohens_dz"] = num(np.mean(d) / sd) if sd > 0 else None

    boot = stats.bootstrap((d,), np.mean, n_resamples=N_RESAMPLES, confidence_level=CONFIDENCE,
                           method="percentile", rng=np.random.default_rng(7))
    out["bootstrap_scipy"] = {"low": num(boot.confidence_interval.low),
                              "high": num(boot.confidence_interval.high),
                              "standard_error_of_mean": num(sd / math.sqrt(n)),
                              "lattice_step": lattice_step(d),
                              "n_resamples": N_RESAMPLES, "confidence": CONFIDENCE}
    means = rdic_bootstrap_means(list(d), N_RESAMPLES, RDIC_SEED)
    q = (1 - CONFIDENCE) / 2
    out["bootstrap_rdic"] = {"seed": RDIC_SEED, "n_resamples": N_RESAMPLES,
                             "low": num(rdic_quantile(means, q)),
                             "high": num(rdic_quantile(means, 1 - q))}
    return out


# ---- non-inferiority ----------------------------------------------------------------------------

def non_inferiority_cases(paired):
    by_name = {c["name"]: c for c in paired}
    specs = [("normal_n30", 0.05, 0.05), ("normal_n30", 0.01, 0.05), ("normal_n120", 0.02, 0.05),
             ("skewed_n35", 0.05, 0.025), ("likert_n50", 0.5, 0.05), ("rounded_n48", 0.03, 0.05),
             ("identical_n20", 0.02, 0.05), ("outlier_n30", 0.05, 0.10)]
    # A clearly worse semantic condition: must not be declared non-inferior.
    rng = np.random.default_rng(4242)
    b = rng.normal(0.6, 0.1, 40)
    a = b - 0.08 + rng.normal(0, 0.03, 40)
    extra = {"name": "worse_n40", "a": [float(x) for x in a], "b": [float(x) for x in b]}
    out = []
    for name, margin, alpha in specs + [("worse_n40", 0.03, 0.05)]:
        case = extra if name == "worse_n40" else by_name[name]
        a = np.array(case["a"])
        b = np.array(case["b"])
        d = a - b
        t = stats.ttest_1samp(d, -margin, alternative="greater")
        boot = stats.bootstrap((d,), np.mean, n_resamples=N_RESAMPLES,
                               confidence_level=1 - alpha, alternative="greater",
                               method="percentile", rng=np.random.default_rng(11))
        means = rdic_bootstrap_means(list(d), N_RESAMPLES, RDIC_SEED)
        lower = rdic_quantile(means, alpha)
        t_rejects = bool(t.pvalue < alpha)
        boot_rejects = bool(lower > -margin)
        out.append({"name": f"{name}_margin{margin}_alpha{alpha}", "a": case["a"],
                    "b": case["b"], "margin": margin, "alpha": alpha,
                    "t": num(t.statistic), "pvalue": num(t.pvalue),
                    "bootstrap_lower_scipy": num(boot.confidence_interval.low),
                    "standard_error_of_mean": num(np.std(d, ddof=1) / math.sqrt(len(d))),
                    "lattice_step": lattice_step(d),
                    "bootstrap_lower_rdic": num(lower), "seed": RDIC_SEED,
                    "non_inferior": t_rejects and boot_rejects})
    return out


# ---- Holm ---------------------------------------------------------------------------------------

def holm_families(paired):
    hand_p = [0.01, 0.04, 0.03, 0.005]
    hand_expected = [0.03, 0.06, 0.06, 0.02]  # worked by hand: 4*0.005, 3*0.01, 2*0.03, max(0.06, 1*0.04)
    got = holm(hand_p)
    assert all(abs(x - y) < 1e-15 for x, y in zip(got, hand_expected)), got
    families = [{"name": "hand", "p": hand_p, "adjusted": got}]
    edge = {
        "single": [0.3],
        "capped": [0.6, 0.7, 0.8, 0.9],
        "ties": [0.01, 0.01, 0.01],
        "zero_and_one": [0.0, 1.0, 0.5],
        "tiny": [1e-300, 1e-20, 0.004, 0.2, 0.03],
        "monotone_needed": [0.001, 0.2, 0.011, 0.012, 0.013],
    }
    for name, p in edge.items():
        families.append({"name": name, "p": p, "adjusted": holm(p)})
    # "semantic vs each other condition": families of four comparisons from the paired cases.
    for test in ["wilcoxon", "ttest_rel"]:
        ps = [c[test]["pvalue"] for c in paired if c[test]["pvalue"] is not None]
        for k in range(0, len(ps) - 3, 4):
            p = ps[k:k + 4]
            families.append({"name": f"{test}_{k // 4}", "p": p, "adjusted": holm(p)})
    rng = np.random.default_rng(99)
    for m in [2, 7, 12, 30]:
        p = [float(x) for x in rng.uniform(0, 0.1, m) ** 2]
        families.append({"name": f"random_m{m}", "p": p, "adjusted": holm(p)})
    return families


# ---- Student t ----------------------------------------------------------------------------------

def t_closed_form_tail(t, df):
    """P(T > |t|) in closed form for df = 1 (Cauchy) and df = 2, written without cancellation."""
    t = abs(t)
    if df == 1:
        return math.atan2(1.0, t) / math.pi
    s = math.sqrt(2.0 + t * t)
    return 1.0 / (s * (s + t))


def t_cdf_grid():
    """scipy.stats.t values; for df = 1 and 2 the closed forms instead, because scipy 1.17.1 is
    inaccurate there near t = 0 (t.cdf(1e-8, 1) = 0.500000004743187; the exact value is
    0.5 + atan(1e-8)/pi = 0.5000000031830989)."""
    ts = [-100.0, -40.0, -10.0, -5.0, -3.0, -2.0, -1.0, -0.5, -0.1, -1e-8, 0.0, 1e-8, 0.1, 0.5,
          1.0, 1.96, 2.0, 2.5, 3.0, 5.0, 10.0, 40.0, 100.0]
    dfs = [1, 1.5, 2, 3, 4, 5, 7, 10, 12.5, 19, 29, 49, 59, 99, 119, 500, 1000, 1e4, 1e5]
    out = []
    worst_scipy = 0.0
    for df in dfs:
        for t in ts:
            cdf = float(stats.t.cdf(t, df))
            sf = float(stats.t.sf(t, df))
            source = "scipy"
            if df in (1, 2):
                tail = t_closed_form_tail(t, df)
                exact_cdf, exact_sf = (tail, 1 - tail) if t < 0 else (1 - tail, tail)
                for got, exact in ((cdf, exact_cdf), (sf, exact_sf)):
                    worst_scipy = max(worst_scipy, abs(got - exact) / exact)
                cdf, sf, source = exact_cdf, exact_sf, "closed form"
            if cdf == 0.0 or sf == 0.0:
                continue  # underflow: nothing to compare relatively
            out.append({"t": t, "df": df, "cdf": cdf, "sf": sf, "source": source})
    print(f"scipy.stats.t vs closed forms (df 1, 2): max rel diff {worst_scipy:.3g}",
          file=sys.stderr)
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "..", "tests",
                                                      "data", "stats_fixtures.json"))
    args = parser.parse_args()

    import warnings
    warnings.simplefilter("ignore")  # scipy warns on degenerate data (identical samples)

    paired = [describe_case(c) for c in make_cases()]
    rng = SplitMix64(0)
    prng = {"splitmix64_seed0": [str(rng.next()) for _ in range(4)]}
    rng = SplitMix64(RDIC_SEED)
    prng["index_seed"] = RDIC_SEED
    prng["index_n7"] = [rng.index(7) for _ in range(20)]
    fixtures = {
        "generator": "tools/make_stats_fixtures.py",
        "scipy": scipy.__version__,
        "numpy": np.__version__,
        "paired": paired,
        "non_inferiority": non_inferiority_cases(paired),
        "holm": holm_families(paired),
        "t_distribution": t_cdf_grid(),
        "prng": prng,
    }
    with open(args.out, "w", encoding="utf-8") as f:
        json.dump(fixtures, f, indent=1, allow_nan=False)
        f.write("\n")
    methods = {}
    for c in paired:
        methods[c["wilcoxon"]["method"]] = methods.get(c["wilcoxon"]["method"], 0) + 1
    print(f"{args.out}: {len(paired)} paired cases (wilcoxon methods {methods}), "
          f"{len(fixtures['non_inferiority'])} non-inferiority, {len(fixtures['holm'])} Holm "
          f"families, {len(fixtures['t_distribution'])} t values", file=sys.stderr)


if __name__ == "__main__":
    main()
