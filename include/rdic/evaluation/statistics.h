// Paired statistics for comparing two conditions example by example: mean difference with a
// seeded percentile-bootstrap interval, Wilcoxon signed-rank and paired t tests, Cohen's d_z,
// Holm's step-down adjustment, a non-inferiority test and aggregation over seeds. Pure functions
// of numbers: no model, no I/O, no shared state (every function is thread-safe). The tests and p
// values match scipy 1.17.1 (tests/data/stats_fixtures.json, made by tools/make_stats_fixtures.py;
// docs/evaluation.md says how closely).
//
//   std::vector<double> semantic = ..., baseline = ...;  // one value per example, same order
//   rdic::PairedComparison c = rdic::compare_paired(semantic, baseline, {.seed = 7});
//   c.mean_difference, c.bootstrap.lower, c.bootstrap.upper;  // semantic - baseline, 95% CI
//   c.wilcoxon.p_value, c.t_test.p_value, c.cohens_dz.value;  // NaN + reason when undefined
//   std::vector<double> adjusted = rdic::holm(p_values_of_the_family);
//   rdic::NonInferiority ni = rdic::non_inferiority(semantic, baseline, 0.05, 0.05);
//
// Undefined results are values, not exceptions: the number is NaN and `undefined_reason` says
// why (fewer than 2 pairs, all differences zero, zero variance). Invalid input throws
// rdic::Error(ErrorCode::invalid_argument) naming the function and the offending value: lengths
// that differ, NaN or infinite data, options out of range.
#pragma once

#include <cstdint>
#include <limits>
#include <span>
#include <string>
#include <vector>

namespace rdic {

inline constexpr double kUndefinedStat = std::numeric_limits<double>::quiet_NaN();
constexpr int32_t kDefaultBootstrapResamples = 10'000;
constexpr uint64_t kDefaultBootstrapSeed = 20250101;

// SplitMix64 (Steele, Lea & Flood 2014): 64-bit state, one 64-bit output per step. Chosen because
// its every output is defined by integer arithmetic alone, so a seed gives the same stream on
// every platform and standard library (std::uniform_int_distribution does not). An object is a
// stream: use one per thread.
class SplitMix64 {
public:
    explicit SplitMix64(uint64_t seed) : state_(seed) {}
    uint64_t next();
    // Uniform in [0, n), n >= 1: outputs below 2^64 mod n are rejected and drawn again, so every
    // index is exactly equally likely (no modulo bias). Throws invalid_argument for n == 0.
    uint64_t uniform_index(uint64_t n);

private:
    uint64_t state_;
};

// An effect size that may be undefined for the data at hand.
struct EffectSize {
    double value = kUndefinedStat;
    std::string undefined_reason;  // empty when `value` is defined
    bool defined() const { return undefined_reason.empty(); }
};

enum class Alternative { two_sided, greater, less };

struct BootstrapInterval {
    double lower = kUndefinedStat;  // percentile bounds of the bootstrap distribution of mean(d)
    double upper = kUndefinedStat;
    double confidence = 0;    // two-sided level, e.g. 0.95 -> the 2.5th and 97.5th percentiles
    int32_t n_resamples = 0;  // resamples drawn
    uint64_t seed = 0;        // SplitMix64 seed
    std::string undefined_reason;
    bool defined() const { return undefined_reason.empty(); }
};

enum class WilcoxonMethod {
    none,         // undefined (see undefined_reason)
    exact,        // exact null distribution of R+ (n <= 50, no ties, no zero differences)
    permutation,  // all 2^n sign flips enumerated (n <= 13 with ties or zeros)
    normal,       // normal approximation with tie correction, no continuity correction
};

struct WilcoxonTest {
    double statistic = kUndefinedStat;  // min(R+, R-), as scipy reports it for a two-sided test
    double r_plus = kUndefinedStat;     // sum of the ranks of |d| over positive differences
    double r_minus = kUndefinedStat;    // ... over negative differences
    double z = kUndefinedStat;          // (R+ - mean) / sd, only for the normal method
    int64_t n_nonzero = 0;  // pairs that enter the ranking (zero differences are dropped)
    int64_t n_zero = 0;
    bool has_ties = false;  // equal |d| among the nonzero differences
    WilcoxonMethod method = WilcoxonMethod::none;
    double p_value = kUndefinedStat;  // two-sided
    std::string undefined_reason;
    bool defined() const { return undefined_reason.empty(); }
};

struct TTest {
    double t = kUndefinedStat;   // (mean(d) - null_mean) / (sd(d) / sqrt(n)); +-inf for constant d
    double df = kUndefinedStat;  // n - 1
    Alternative alternative = Alternative::two_sided;
    double p_value = kUndefinedStat;
    std::string undefined_reason;
    bool defined() const { return undefined_reason.empty(); }
};

struct PairedOptions {
    int32_t n_resamples = kDefaultBootstrapResamples;  // bootstrap resamples, >= 1
    uint64_t seed = kDefaultBootstrapSeed;             // bootstrap PRNG seed
    double confidence = 0.95;                          // two-sided CI level, in (0, 1)
};

struct PairedComparison {
    int64_t n = 0;  // pairs
    double mean_a = kUndefinedStat;
    double mean_b = kUndefinedStat;
    double mean_difference = kUndefinedStat;  // mean(a - b)
    BootstrapInterval bootstrap;              // percentile interval of mean(a - b)
    WilcoxonTest wilcoxon;                    // scipy.stats.wilcoxon(a, b) with its defaults
    TTest t_test;                             // scipy.stats.ttest_rel(a, b), two-sided
    EffectSize cohens_dz;                     // mean(d) / sd(d), sd with n - 1 in the denominator
};

// Everything above for a (e.g. semantic) against b (a baseline), paired by index; d = a - b.
// Undefined parts: n < 2 (t test, d_z, bootstrap; Wilcoxon is defined for one nonzero pair, p = 1,
// as in scipy), all differences zero (t test, d_z; Wilcoxon p = 1 for n <= 13, undefined above,
// as in scipy), all differences equal (d_z; the t test gives t = +-inf, p = 0, as scipy does when
// the variance is exactly zero). Throws invalid_argument if the lengths differ, a value is NaN or
// infinite, or an option is out of range.
PairedComparison compare_paired(std::span<const double> a, std::span<const double> b,
                                const PairedOptions& options = {});

// The pieces of compare_paired, on the differences d themselves.
WilcoxonTest wilcoxon_signed_rank(std::span<const double> d);
// One-sample t test of mean(d) against null_mean (scipy.stats.ttest_1samp).
TTest t_test(std::span<const double> d, double null_mean = 0,
             Alternative alternative = Alternative::two_sided);
EffectSize cohens_dz(std::span<const double> d);
BootstrapInterval bootstrap_mean_interval(std::span<const double> d,
                                          const PairedOptions& options = {});
// The bootstrap distribution itself: n_resamples means of n draws with replacement, sorted.
std::vector<double> bootstrap_means(std::span<const double> d, int32_t n_resamples, uint64_t seed);
// Quantile q in [0, 1] of sorted values, linear between order statistics (numpy's default):
// h = q (m - 1), value = x[floor h] + (h - floor h)(x[floor h + 1] - x[floor h]).
double quantile_of_sorted(std::span<const double> sorted, double q);

// Holm's step-down adjusted p-values, in the input order: the k-th smallest p (k = 0..m-1) is
// multiplied by m - k, the results are made non-decreasing in that order and capped at 1 (the
// same values as statsmodels multipletests(method='holm')). A NaN p (a test that was undefined)
// stays NaN and still counts in the family size m, as if its p were 1 (conservative). Throws
// invalid_argument for a p outside [0, 1].
std::vector<double> holm(std::span<const double> p);

enum class NonInferiorityVerdict {
    non_inferior,  // both the t test and the bootstrap bound reject H0
    not_shown,     // at least one of them does not
    undefined,     // the t test is undefined (see undefined_reason)
};

struct NonInferiority {
    double margin = kUndefinedStat;  // > 0; H0: mean(a - b) <= -margin, H1: mean(a - b) > -margin
    double alpha = kUndefinedStat;   // one-sided level
    int64_t n = 0;
    double mean_difference = kUndefinedStat;
    TTest t_test;  // one-sided paired t test of H0 (Alternative::greater)
    double bootstrap_lower = kUndefinedStat;  // one-sided (1 - alpha) lower bound: alpha-quantile
                                              // of the bootstrap means
    bool t_test_rejects = false;              // t_test.p_value < alpha
    bool bootstrap_rejects = false;           // bootstrap_lower > -margin
    NonInferiorityVerdict verdict = NonInferiorityVerdict::undefined;
    std::string undefined_reason;
};

// Is a (e.g. semantic synthesis) no worse than b by more than `margin`? Throws invalid_argument
// unless margin > 0 and finite and alpha is in (0, 0.5), and for the input errors of
// compare_paired. The bootstrap uses options.seed and options.n_resamples.
NonInferiority non_inferiority(std::span<const double> a, std::span<const double> b, double margin,
                               double alpha, const PairedOptions& options = {});

// Runs with several seeds: values[i][s] is example i's value under seed s.
struct SeedSummary {
    int64_t n_examples = 0;
    int64_t n_seeds = 0;
    std::vector<double> mean;    // per example: mean over seeds (the value to compare)
    std::vector<double> spread;  // per example: best minus worst (max - min) over seeds
    double mean_of_means = kUndefinedStat;
    double mean_spread = kUndefinedStat;  // mean over examples of spread
    double max_spread = kUndefinedStat;
};

// Throws invalid_argument for no examples, an example with no values, examples with different
// numbers of seeds, or a NaN/infinite value (naming the example and seed index).
SeedSummary aggregate_seeds(std::span<const std::vector<double>> values);

// Distribution functions (exposed for their tests).
double normal_cdf(double z);
// Student t CDF with df > 0 degrees of freedom (not necessarily an integer), from the regularized
// incomplete beta function: P(T <= t). Throws invalid_argument unless df > 0 and finite.
double student_t_cdf(double t, double df);
// I_x(a, b) for a, b > 0, x in [0, 1] (continued fraction). Throws invalid_argument otherwise.
double regularized_incomplete_beta(double a, double b, double x);

}  // namespace rdic
