// Paired statistics against scipy 1.17.1 (tests/data/stats_fixtures.json, written by
// tools/make_stats_fixtures.py) and against known answers.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "rdic/error.h"
#include "rdic/evaluation/statistics.h"

namespace rdic {
namespace {

using nlohmann::json;

// Agreement reached with scipy (docs/evaluation.md reports the measured maxima).
constexpr double kPValueRelTol = 1e-12;     // t-test and normal-approximation Wilcoxon p-values
constexpr double kStatisticRelTol = 1e-12;  // t, |z|, d_z, t distribution values up to df 1e4
// The incomplete beta continued fraction loses digits for very large df (measured against 50-digit
// mpmath: 3e-12 at df = 1e5, 1.2e-11 at df = 1e6); paired tests have df = n - 1.
constexpr double kLargeDfRelTol = 1e-11;
constexpr double kLargeDf = 1e4;
constexpr double kMeanTol = 1e-15;  // absolute, means of values in [0, 5]
// scipy's bootstrap draws with its own PRNG: its interval and ours differ by Monte-Carlo error,
// about 0.04 standard errors of the mean for 10,000 resamples (sd of the difference of two 2.5%
// quantile estimates), plus one lattice step for integer-valued differences.
constexpr double kBootstrapMcTolInSe = 0.15;

const json& fixtures() {
    static const json j = [] {
        const std::string path = std::string(RDIC_TEST_DATA_DIR) + "/stats_fixtures.json";
        std::ifstream in(path);
        if (!in) throw std::runtime_error("cannot open " + path);
        return json::parse(in);
    }();
    return j;
}

// Fixture numbers: null is NaN, "inf"/"-inf" are infinities.
double num(const json& v) {
    if (v.is_null()) return std::numeric_limits<double>::quiet_NaN();
    if (v.is_string()) {
        return v.get<std::string>() == "inf" ? std::numeric_limits<double>::infinity()
                                             : -std::numeric_limits<double>::infinity();
    }
    return v.get<double>();
}

std::vector<double> vec(const json& v) {
    return v.get<std::vector<double>>();
}

// Relative difference; 0 when both are the same NaN/infinity, infinite when only one is.
double rel_diff(double actual, double expected) {
    if (std::isnan(actual) || std::isnan(expected)) {
        return std::isnan(actual) && std::isnan(expected) ? 0 : INFINITY;
    }
    if (actual == expected) return 0;
    if (std::isinf(actual) || std::isinf(expected)) return INFINITY;
    return std::fabs(actual - expected) / std::max(std::fabs(expected), 1e-300);
}

struct MaxError {
    double value = 0;
    std::string where;
    void add(double e, const std::string& w) {
        if (e > value || std::isnan(e)) {
            value = e;
            where = w;
        }
    }
};

// ---- agreement with scipy, per paired case -----------------------------------------------------

TEST(StatisticsFixtures, CoverTheCasesTheBriefAsksFor) {
    const json& cases = fixtures().at("paired");
    EXPECT_GE(cases.size(), 40u);
    int exact = 0, permutation = 0, normal = 0, identical = 0, n_two = 0, n_120 = 0;
    for (const json& c : cases) {
        const std::string m = c.at("wilcoxon").at("method");
        exact += m == "exact";
        permutation += m == "permutation";
        normal += m == "normal";
        identical += c.at("kind") == "identical";
        n_two += c.at("n") == 2;
        n_120 += c.at("n") == 120;
    }
    EXPECT_GE(exact, 5);
    EXPECT_GE(permutation, 5);
    EXPECT_GE(normal, 5);
    EXPECT_GE(identical, 2);
    EXPECT_GE(n_two, 2);
    EXPECT_GE(n_120, 2);
    EXPECT_EQ(fixtures().at("scipy"), "1.17.1");
}

TEST(StatisticsFixtures, MeansAndEffectSizeMatchNumpy) {
    MaxError mean_err, dz_err;
    for (const json& c : fixtures().at("paired")) {
        const std::string name = c.at("name");
        const std::vector<double> a = vec(c.at("a")), b = vec(c.at("b"));
        const PairedComparison r = compare_paired(a, b);
        EXPECT_EQ(r.n, c.at("n").get<int64_t>()) << name;
        for (auto [got, key] : {std::pair{r.mean_a, "mean_a"}, std::pair{r.mean_b, "mean_b"},
                                std::pair{r.mean_difference, "mean_difference"}}) {
            const double e = std::fabs(got - num(c.at(key)));
            mean_err.add(e, name + " " + key);
            EXPECT_LE(e, kMeanTol) << name << " " << key;
        }
        const double dz = num(c.at("cohens_dz"));
        if (std::isnan(dz)) {
            EXPECT_FALSE(r.cohens_dz.defined()) << name;
            EXPECT_TRUE(std::isnan(r.cohens_dz.value)) << name;
            EXPECT_FALSE(r.cohens_dz.undefined_reason.empty()) << name;
        } else {
            ASSERT_TRUE(r.cohens_dz.defined()) << name << ": " << r.cohens_dz.undefined_reason;
            // d_z = 0 exactly when the mean difference is 0; elsewhere relative.
            const double e =
                dz == 0 ? std::fabs(r.cohens_dz.value) : rel_diff(r.cohens_dz.value, dz);
            dz_err.add(e, name);
            EXPECT_LE(e, kStatisticRelTol) << name << " d_z " << r.cohens_dz.value << " vs " << dz;
        }
    }
    std::printf("[ measured ] means: max abs diff %.3g (%s); d_z: max rel diff %.3g (%s)\n",
                mean_err.value, mean_err.where.c_str(), dz_err.value, dz_err.where.c_str());
}

TEST(StatisticsFixtures, WilcoxonMatchesScipyIncludingItsChoiceOfMethod) {
    MaxError p_err, z_err;
    int exact_bitwise = 0;
    for (const json& c : fixtures().at("paired")) {
        const std::string name = c.at("name");
        const json& w = c.at("wilcoxon");
        const WilcoxonTest r = compare_paired(vec(c.at("a")), vec(c.at("b"))).wilcoxon;
        const std::string method = w.at("method");
        const double p = num(w.at("pvalue"));
        EXPECT_EQ(r.n_zero, w.at("n_zero").get<int64_t>()) << name;
        EXPECT_EQ(r.statistic, num(w.at("statistic"))) << name;  // half-integers: exact
        if (std::isnan(p)) {
            // scipy: all differences zero and n > 13 -> NaN.
            EXPECT_FALSE(r.defined()) << name;
            EXPECT_TRUE(std::isnan(r.p_value)) << name;
            EXPECT_EQ(r.method, WilcoxonMethod::none) << name;
            continue;
        }
        ASSERT_TRUE(r.defined()) << name << ": " << r.undefined_reason;
        const WilcoxonMethod expected_method = method == "exact" ? WilcoxonMethod::exact
                                               : method == "permutation"
                                                   ? WilcoxonMethod::permutation
                                                   : WilcoxonMethod::normal;
        EXPECT_EQ(r.method, expected_method) << name << " (scipy used " << method << ")";
        if (method == "normal") {
            const double e = rel_diff(r.p_value, p);
            p_err.add(e, name);
            EXPECT_LE(e, kPValueRelTol) << name << " p " << r.p_value << " vs " << p;
            const double ez = rel_diff(std::fabs(r.z), num(w.at("abs_z")));
            z_err.add(ez, name);
            EXPECT_LE(ez, kStatisticRelTol) << name;
        } else {
            // Counts over 2^n outcomes are exact in both implementations: bit-identical.
            EXPECT_EQ(r.p_value, p) << name << " (" << method << ")";
            exact_bitwise += r.p_value == p;
        }
    }
    std::printf(
        "[ measured ] wilcoxon: exact/permutation p bit-identical in %d cases; normal p max rel "
        "diff %.3g (%s), |z| %.3g\n",
        exact_bitwise, p_err.value, p_err.where.c_str(), z_err.value);
}

TEST(StatisticsFixtures, PairedTTestMatchesScipy) {
    MaxError p_err, t_err;
    for (const json& c : fixtures().at("paired")) {
        const std::string name = c.at("name");
        const json& t = c.at("ttest_rel");
        const TTest r = compare_paired(vec(c.at("a")), vec(c.at("b"))).t_test;
        EXPECT_EQ(r.df, t.at("df").get<double>()) << name;
        const double p = num(t.at("pvalue"));
        const double stat = num(t.at("statistic"));
        if (std::isnan(p)) {
            EXPECT_FALSE(r.defined()) << name;
            EXPECT_TRUE(std::isnan(r.p_value)) << name;
            continue;
        }
        ASSERT_TRUE(r.defined()) << name << ": " << r.undefined_reason;
        const double et = std::fabs(stat) < 1e-12 ? std::fabs(r.t) : rel_diff(r.t, stat);
        const double ep = rel_diff(r.p_value, p);
        t_err.add(et, name);
        p_err.add(ep, name);
        EXPECT_LE(et, kStatisticRelTol) << name << " t " << r.t << " vs " << stat;
        EXPECT_LE(ep, kPValueRelTol) << name << " p " << r.p_value << " vs " << p;
    }
    std::printf("[ measured ] ttest_rel: p max rel diff %.3g (%s); t max rel diff %.3g (%s)\n",
                p_err.value, p_err.where.c_str(), t_err.value, t_err.where.c_str());
}

TEST(StatisticsFixtures, BootstrapReplaysBitForBitAndAgreesWithScipyWithinMonteCarloError) {
    MaxError mc, mc_continuous;
    int cases = 0;
    for (const json& c : fixtures().at("paired")) {
        const std::string name = c.at("name");
        const json& mine = c.at("bootstrap_rdic");
        const json& sp = c.at("bootstrap_scipy");
        PairedOptions o;
        o.seed = mine.at("seed");
        o.n_resamples = mine.at("n_resamples");
        const BootstrapInterval ci = compare_paired(vec(c.at("a")), vec(c.at("b")), o).bootstrap;
        ASSERT_TRUE(ci.defined()) << name;
        // The script replays the same PRNG, draws, sums and quantile rule in Python.
        EXPECT_EQ(ci.lower, num(mine.at("low"))) << name;
        EXPECT_EQ(ci.upper, num(mine.at("high"))) << name;
        const double se = num(sp.at("standard_error_of_mean"));
        const double tol = kBootstrapMcTolInSe * se + num(sp.at("lattice_step"));
        for (auto [got, key] : {std::pair{ci.lower, "low"}, std::pair{ci.upper, "high"}}) {
            const double diff = std::fabs(got - num(sp.at(key)));
            EXPECT_LE(diff, tol) << name << " " << key << ": " << got << " vs scipy "
                                 << num(sp.at(key)) << " (se " << se << ")";
            if (se > 0) mc.add(diff / se, name + " " + key);
            if (se > 0 && num(sp.at("lattice_step")) == 0) {
                mc_continuous.add(diff / se, name + " " + key);
            }
        }
        ++cases;
    }
    std::printf(
        "[ measured ] bootstrap vs scipy.stats.bootstrap: max |diff| %.3g standard errors (%s) "
        "over %d cases; %.3g (%s) where d is not integer-valued\n",
        mc.value, mc.where.c_str(), cases, mc_continuous.value, mc_continuous.where.c_str());
}

TEST(StatisticsFixtures, StudentTDistributionMatchesScipy) {
    MaxError err, err_large;
    for (const json& v : fixtures().at("t_distribution")) {
        const double t = v.at("t"), df = v.at("df");
        const double cdf = student_t_cdf(t, df);
        const double sf = student_t_cdf(-t, df);
        const std::string where = "t=" + std::to_string(t) + " df=" + std::to_string(df) + " (" +
                                  v.at("source").get<std::string>() + ")";
        const double tol = df > kLargeDf ? kLargeDfRelTol : kStatisticRelTol;
        MaxError& e = df > kLargeDf ? err_large : err;
        e.add(rel_diff(cdf, num(v.at("cdf"))), where + " cdf");
        e.add(rel_diff(sf, num(v.at("sf"))), where + " sf");
        EXPECT_LE(rel_diff(cdf, num(v.at("cdf"))), tol) << where;
        EXPECT_LE(rel_diff(sf, num(v.at("sf"))), tol) << where;
    }
    std::printf(
        "[ measured ] student t cdf/sf: max rel diff %.3g (%s) for df <= 1e4; %.3g (%s) above; "
        "%zu points\n",
        err.value, err.where.c_str(), err_large.value, err_large.where.c_str(),
        fixtures().at("t_distribution").size());
}

TEST(StatisticsFixtures, HolmMatchesTheDefinition) {
    for (const json& f : fixtures().at("holm")) {
        const std::vector<double> got = holm(vec(f.at("p")));
        const std::vector<double> expected = vec(f.at("adjusted"));
        ASSERT_EQ(got.size(), expected.size());
        for (size_t i = 0; i < got.size(); ++i) {
            EXPECT_DOUBLE_EQ(got[i], expected[i]) << f.at("name") << " [" << i << "]";
        }
    }
}

TEST(StatisticsFixtures, NonInferiorityMatchesOneSidedScipy) {
    for (const json& c : fixtures().at("non_inferiority")) {
        const std::string name = c.at("name");
        PairedOptions o;
        o.seed = c.at("seed");
        const NonInferiority r =
            non_inferiority(vec(c.at("a")), vec(c.at("b")), c.at("margin"), c.at("alpha"), o);
        ASSERT_NE(r.verdict, NonInferiorityVerdict::undefined) << name << r.undefined_reason;
        EXPECT_EQ(r.t_test.alternative, Alternative::greater);
        EXPECT_LE(rel_diff(r.t_test.t, num(c.at("t"))), kStatisticRelTol) << name;
        EXPECT_LE(rel_diff(r.t_test.p_value, num(c.at("pvalue"))), kPValueRelTol)
            << name << " " << r.t_test.p_value << " vs " << num(c.at("pvalue"));
        EXPECT_EQ(r.bootstrap_lower, num(c.at("bootstrap_lower_rdic"))) << name;
        const double se = num(c.at("standard_error_of_mean"));
        EXPECT_LE(std::fabs(r.bootstrap_lower - num(c.at("bootstrap_lower_scipy"))),
                  kBootstrapMcTolInSe * se + num(c.at("lattice_step")))
            << name;
        EXPECT_EQ(r.verdict == NonInferiorityVerdict::non_inferior,
                  c.at("non_inferior").get<bool>())
            << name;
    }
}

TEST(StatisticsFixtures, SplitMix64StreamAndIndexDraws) {
    const json& p = fixtures().at("prng");
    SplitMix64 rng(0);
    // The first output for seed 0 is SplitMix64's published value 0xe220a8397b1dcdaf.
    EXPECT_EQ(rng.next(), 0xe220a8397b1dcdafULL);
    SplitMix64 again(0);
    for (const json& v : p.at("splitmix64_seed0")) {
        EXPECT_EQ(again.next(), std::stoull(v.get<std::string>()));
    }
    SplitMix64 idx(p.at("index_seed").get<uint64_t>());
    for (const json& v : p.at("index_n7")) EXPECT_EQ(idx.uniform_index(7), v.get<uint64_t>());
}

TEST(SplitMix64Test, UniformIndexRejectsTheBiasedLowOutputs) {
    // n = 2^63 + 1: 2^64 mod n = 2^63 - 1, so raw outputs below that (about half) are redrawn.
    const uint64_t n = (uint64_t{1} << 63) + 1;
    const uint64_t threshold = (uint64_t{1} << 63) - 1;
    SplitMix64 draws(42), raw(42);
    int redrawn = 0;
    for (int i = 0; i < 50; ++i) {
        uint64_t x = raw.next();
        while (x < threshold) {
            x = raw.next();
            ++redrawn;
        }
        EXPECT_EQ(draws.uniform_index(n), x % n) << i;
    }
    EXPECT_GT(redrawn, 10);
    SplitMix64 one(1);
    for (int i = 0; i < 10; ++i) EXPECT_EQ(one.uniform_index(1), 0u);
    EXPECT_THROW(one.uniform_index(0), Error);
}

// ---- bootstrap properties ----------------------------------------------------------------------

std::vector<double> noisy(size_t n, uint64_t seed, double shift) {
    SplitMix64 rng(seed);
    std::vector<double> v(n);
    for (double& x : v) x = shift + static_cast<double>(rng.next() >> 11) * 0x1p-53 - 0.5;
    return v;
}

TEST(Bootstrap, SameSeedSameIntervalOtherSeedOtherInterval) {
    const std::vector<double> d = noisy(40, 1, 0.1);
    const BootstrapInterval x = bootstrap_mean_interval(d, {.seed = 5});
    const BootstrapInterval y = bootstrap_mean_interval(d, {.seed = 5});
    const BootstrapInterval z = bootstrap_mean_interval(d, {.seed = 6});
    EXPECT_EQ(x.lower, y.lower);
    EXPECT_EQ(x.upper, y.upper);
    EXPECT_NE(x.lower, z.lower);
    EXPECT_NE(x.upper, z.upper);
    EXPECT_EQ(x.seed, 5u);
    EXPECT_EQ(x.n_resamples, kDefaultBootstrapResamples);
    EXPECT_LT(x.lower, x.upper);
    const double mean = compare_paired(d, std::vector<double>(40, 0.0)).mean_difference;
    EXPECT_LT(x.lower, mean);
    EXPECT_GT(x.upper, mean);
}

TEST(Bootstrap, ConstantDifferencesGiveThatConstant) {
    for (double c : {0.0, 1.0, 0.1, -0.3, 1e-7}) {
        const std::vector<double> d(25, c);
        const BootstrapInterval ci = bootstrap_mean_interval(d);
        ASSERT_TRUE(ci.defined());
        EXPECT_EQ(ci.lower, c);
        EXPECT_EQ(ci.upper, c);
    }
    // Through compare_paired: a - b is exactly 0.25 in every pair (binary fractions).
    const PairedComparison r =
        compare_paired(std::vector<double>{0.75, 1.0, 1.25}, std::vector<double>{0.5, 0.75, 1.0});
    EXPECT_EQ(r.bootstrap.lower, 0.25);
    EXPECT_EQ(r.bootstrap.upper, 0.25);
    EXPECT_EQ(r.mean_difference, 0.25);
}

TEST(Bootstrap, IntervalShrinksWithMorePairs) {
    const auto width = [](size_t n) {
        const BootstrapInterval ci = bootstrap_mean_interval(noisy(n, 3, 0.0));
        return ci.upper - ci.lower;
    };
    const double w10 = width(10), w40 = width(40), w160 = width(160);
    EXPECT_LT(w40, w10);
    EXPECT_LT(w160, w40);
    // ~1/sqrt(n): 16 times the pairs, about a quarter of the width.
    EXPECT_NEAR(w160 / w10, 0.25, 0.1);
}

TEST(Bootstrap, ConfidenceLevelWidensTheInterval) {
    const std::vector<double> d = noisy(30, 4, 0.0);
    const BootstrapInterval c90 = bootstrap_mean_interval(d, {.confidence = 0.90});
    const BootstrapInterval c99 = bootstrap_mean_interval(d, {.confidence = 0.99});
    EXPECT_LT(c99.lower, c90.lower);
    EXPECT_GT(c99.upper, c90.upper);
}

TEST(Bootstrap, QuantileIsLinearBetweenOrderStatistics) {
    const std::vector<double> x = {1, 2, 4, 8};
    EXPECT_EQ(quantile_of_sorted(x, 0), 1);
    EXPECT_EQ(quantile_of_sorted(x, 1), 8);
    EXPECT_DOUBLE_EQ(quantile_of_sorted(x, 0.5), 3);            // h = 1.5
    EXPECT_DOUBLE_EQ(quantile_of_sorted(x, 0.9), 4 + 0.7 * 4);  // h = 2.7
}

// ---- known answers and edge cases --------------------------------------------------------------

TEST(Wilcoxon, ExactKnownAnswers) {
    // Five positive differences, no ties: R+ = 15 is the largest of 2^5 outcomes: p = 2/32.
    const WilcoxonTest w = wilcoxon_signed_rank(std::vector<double>{0.1, 0.2, 0.3, 0.4, 0.5});
    EXPECT_EQ(w.method, WilcoxonMethod::exact);
    EXPECT_EQ(w.r_plus, 15);
    EXPECT_EQ(w.r_minus, 0);
    EXPECT_EQ(w.p_value, 0.0625);
    // One pair: p = 1 (scipy's exact distribution of n = 1).
    EXPECT_EQ(wilcoxon_signed_rank(std::vector<double>{2.0}).p_value, 1.0);
}

TEST(Wilcoxon, TiesAndZerosSwitchMethods) {
    // A tie among |d| with n <= 13: all 2^n sign flips.
    const WilcoxonTest tie = wilcoxon_signed_rank(std::vector<double>{1, -1, 2, 3, 4});
    EXPECT_EQ(tie.method, WilcoxonMethod::permutation);
    EXPECT_TRUE(tie.has_ties);
    EXPECT_EQ(tie.r_minus, 1.5);  // ranks 1.5, 1.5, 3, 4, 5
    // A zero with n = 14: the normal approximation.
    std::vector<double> d = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, -13};
    const WilcoxonTest zero = wilcoxon_signed_rank(d);
    EXPECT_EQ(zero.method, WilcoxonMethod::normal);
    EXPECT_EQ(zero.n_zero, 1);
    EXPECT_EQ(zero.n_nonzero, 13);
    // More than 50 pairs: always normal, even without ties.
    std::vector<double> big(51);
    for (size_t i = 0; i < big.size(); ++i) big[i] = static_cast<double>(i + 1);
    EXPECT_EQ(wilcoxon_signed_rank(big).method, WilcoxonMethod::normal);
}

TEST(PairedEdgeCases, NoPairsOnePairAllZeroConstant) {
    const std::vector<double> none;
    const PairedComparison r0 = compare_paired(none, none);
    EXPECT_EQ(r0.n, 0);
    EXPECT_TRUE(std::isnan(r0.mean_difference));
    EXPECT_FALSE(r0.wilcoxon.defined());
    EXPECT_FALSE(r0.t_test.defined());
    EXPECT_FALSE(r0.bootstrap.defined());
    EXPECT_FALSE(r0.cohens_dz.defined());

    const PairedComparison r1 = compare_paired(std::vector<double>{0.8}, std::vector<double>{0.5});
    EXPECT_DOUBLE_EQ(r1.mean_difference, 0.3);
    EXPECT_EQ(r1.t_test.undefined_reason, "fewer than 2 pairs");
    EXPECT_TRUE(std::isnan(r1.t_test.p_value));
    EXPECT_FALSE(r1.bootstrap.defined());
    EXPECT_TRUE(std::isnan(r1.bootstrap.lower));
    EXPECT_FALSE(r1.cohens_dz.defined());
    EXPECT_EQ(r1.wilcoxon.p_value, 1.0);  // as scipy
    EXPECT_FALSE(
        compare_paired(std::vector<double>{0.5}, std::vector<double>{0.5}).wilcoxon.defined());

    // All differences zero: no t, no d_z; Wilcoxon p = 1 up to 13 pairs, undefined above.
    const std::vector<double> v12(12, 0.4), v20(20, 0.4);
    const PairedComparison z12 = compare_paired(v12, v12);
    EXPECT_EQ(z12.mean_difference, 0);
    EXPECT_EQ(z12.t_test.undefined_reason, "all differences are zero");
    EXPECT_EQ(z12.cohens_dz.undefined_reason, "all differences are zero");
    EXPECT_EQ(z12.wilcoxon.p_value, 1.0);
    EXPECT_EQ(z12.bootstrap.lower, 0);
    EXPECT_EQ(z12.bootstrap.upper, 0);
    const PairedComparison z20 = compare_paired(v20, v20);
    EXPECT_FALSE(z20.wilcoxon.defined());
    EXPECT_NE(z20.wilcoxon.undefined_reason.find("all differences are zero"), std::string::npos);

    // Every difference exactly 0.25: t = +inf, p = 0; d_z undefined (zero variance).
    const PairedComparison c = compare_paired(std::vector<double>{0.75, 1.0, 1.25, 1.5},
                                              std::vector<double>{0.5, 0.75, 1.0, 1.25});
    EXPECT_EQ(c.t_test.t, INFINITY);
    EXPECT_EQ(c.t_test.p_value, 0);
    EXPECT_EQ(c.cohens_dz.undefined_reason, "all differences are equal (zero variance)");
    EXPECT_TRUE(std::isnan(c.cohens_dz.value));
    // Differences equal only up to rounding (0.7 - 0.5 != 0.8 - 0.6) are not constant: a finite
    // t, computed from the rounding noise, as scipy does.
    EXPECT_TRUE(std::isfinite(
        compare_paired(std::vector<double>{0.7, 0.8, 0.9}, std::vector<double>{0.5, 0.6, 0.7})
            .t_test.t));
    const TTest down = t_test(std::vector<double>(5, -2.0));
    EXPECT_EQ(down.t, -INFINITY);
    EXPECT_EQ(down.p_value, 0);
    EXPECT_EQ(t_test(std::vector<double>(5, -2.0), 0, Alternative::greater).p_value, 1);
    EXPECT_EQ(t_test(std::vector<double>(5, -2.0), 0, Alternative::less).p_value, 0);
}

TEST(PairedEdgeCases, BadInputNamesTheProblem) {
    const std::vector<double> three = {1, 2, 3}, two = {1, 2};
    try {
        compare_paired(three, two);
        FAIL() << "lengths differ";
    } catch (const Error& e) {
        EXPECT_EQ(e.code(), ErrorCode::invalid_argument);
        EXPECT_NE(std::string(e.what()).find("a has 3 values but b has 2"), std::string::npos)
            << e.what();
    }
    const std::vector<double> with_nan = {1, std::nan(""), 3};
    try {
        compare_paired(three, with_nan);
        FAIL() << "NaN accepted";
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("b[1] is nan"), std::string::npos) << e.what();
    }
    EXPECT_THROW(compare_paired(three, three, {.n_resamples = 0}), Error);
    EXPECT_THROW(compare_paired(three, three, {.confidence = 1.0}), Error);
    EXPECT_THROW(student_t_cdf(1.0, 0.0), Error);
    EXPECT_THROW(regularized_incomplete_beta(1, 1, 1.5), Error);
}

TEST(Distributions, ClosedForms) {
    const double pi = 3.14159265358979323846;
    for (double t : {-30.0, -2.0, -0.3, -1e-9, 0.0, 1e-9, 0.7, 4.0, 100.0}) {
        EXPECT_NEAR(student_t_cdf(t, 1), 0.5 + std::atan(t) / pi, 1e-15) << t;  // Cauchy
        EXPECT_NEAR(student_t_cdf(t, 2), 0.5 + t / (2 * std::sqrt(2 + t * t)), 1e-15) << t;
    }
    EXPECT_EQ(student_t_cdf(INFINITY, 5), 1);
    EXPECT_EQ(student_t_cdf(-INFINITY, 5), 0);
    for (double x : {0.0, 0.1, 0.5, 0.93, 1.0}) {
        EXPECT_NEAR(regularized_incomplete_beta(1, 1, x), x, 1e-15);
        EXPECT_NEAR(regularized_incomplete_beta(3, 1, x), x * x * x, 1e-15);
        EXPECT_NEAR(regularized_incomplete_beta(1, 4, x), 1 - std::pow(1 - x, 4), 1e-15);
    }
    EXPECT_NEAR(regularized_incomplete_beta(7.5, 7.5, 0.5), 0.5, 1e-14);
    EXPECT_NEAR(regularized_incomplete_beta(400, 400, 0.5), 0.5, 1e-13);
    EXPECT_NEAR(normal_cdf(1.959963984540054), 0.975, 1e-15);
    EXPECT_EQ(normal_cdf(0), 0.5);
}

// ---- Holm ---------------------------------------------------------------------------------------

TEST(Holm, KnownAnswers) {
    // By hand: sorted 0.005, 0.01, 0.03, 0.04 times 4, 3, 2, 1 = 0.02, 0.03, 0.06, 0.04 -> the
    // last is raised to 0.06 (monotone).
    const std::vector<double> adj = holm(std::vector<double>{0.01, 0.04, 0.03, 0.005});
    ASSERT_EQ(adj.size(), 4u);
    EXPECT_DOUBLE_EQ(adj[0], 0.03);
    EXPECT_DOUBLE_EQ(adj[1], 0.06);
    EXPECT_DOUBLE_EQ(adj[2], 0.06);
    EXPECT_DOUBLE_EQ(adj[3], 0.02);
    EXPECT_EQ(holm(std::vector<double>{0.4, 0.5}), (std::vector<double>{0.8, 0.8}));  // monotone
    EXPECT_EQ(holm(std::vector<double>{0.6, 0.9}), (std::vector<double>{1.0, 1.0}));  // capped
    EXPECT_TRUE(holm(std::vector<double>{}).empty());
    EXPECT_EQ(holm(std::vector<double>{0.2}), (std::vector<double>{0.2}));
}

TEST(Holm, UndefinedTestsStayUndefinedButCountInTheFamily) {
    const std::vector<double> adj = holm(std::vector<double>{0.01, std::nan(""), 0.02});
    EXPECT_DOUBLE_EQ(adj[0], 0.03);  // m = 3, not 2
    EXPECT_TRUE(std::isnan(adj[1]));
    EXPECT_DOUBLE_EQ(adj[2], 0.04);
    try {
        holm(std::vector<double>{0.1, 1.5});
        FAIL() << "p > 1 accepted";
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("p[1] is 1.5"), std::string::npos) << e.what();
    }
    EXPECT_THROW(holm(std::vector<double>{-0.1}), Error);
}

// ---- non-inferiority and seeds -----------------------------------------------------------------

TEST(NonInferiority, ConstructedData) {
    // Semantic slightly better than baseline: non-inferior at a 0.05 margin.
    const std::vector<double> base = noisy(60, 10, 0.6);
    std::vector<double> better(base), worse(base);
    const std::vector<double> jitter = noisy(60, 11, 0.0);
    for (size_t i = 0; i < base.size(); ++i) {
        better[i] = base[i] + 0.01 + 0.05 * jitter[i];
        worse[i] = base[i] - 0.10 + 0.05 * jitter[i];
    }
    const NonInferiority ok = non_inferiority(better, base, 0.05, 0.05);
    EXPECT_EQ(ok.verdict, NonInferiorityVerdict::non_inferior);
    EXPECT_TRUE(ok.t_test_rejects);
    EXPECT_TRUE(ok.bootstrap_rejects);
    EXPECT_GT(ok.bootstrap_lower, -0.05);
    EXPECT_LT(ok.t_test.p_value, 1e-6);
    // Worse by 0.10 on average: not non-inferior at 0.05, but it is at a margin of 0.2.
    const NonInferiority bad = non_inferiority(worse, base, 0.05, 0.05);
    EXPECT_EQ(bad.verdict, NonInferiorityVerdict::not_shown);
    EXPECT_FALSE(bad.t_test_rejects);
    EXPECT_LT(bad.bootstrap_lower, -0.05);
    EXPECT_FALSE(bad.bootstrap_rejects);
    EXPECT_GT(bad.t_test.p_value, 0.5);
    EXPECT_EQ(non_inferiority(worse, base, 0.2, 0.05).verdict, NonInferiorityVerdict::non_inferior);
    // Exactly at the margin with no variance: t = 0/0.
    const std::vector<double> at_margin(10, 0.5), shifted(10, 0.75);
    const NonInferiority edge = non_inferiority(at_margin, shifted, 0.25, 0.05);
    EXPECT_EQ(edge.verdict, NonInferiorityVerdict::undefined);
    EXPECT_FALSE(edge.undefined_reason.empty());
    EXPECT_THROW(non_inferiority(better, base, 0.0, 0.05), Error);
    EXPECT_THROW(non_inferiority(better, base, 0.05, 0.5), Error);
}

TEST(NonInferiority, VerdictNeedsTheBootstrapToo) {
    // 29 pairs 0.02 better and one 1.5 worse: the t test (normal theory) rejects H0 at a margin
    // of 0.12, but the bootstrap sees that 3 or more draws of the outlier happen in more than 5%
    // of resamples (mean 0.02 - 3 * 1.52 / 30 = -0.132 < -0.12), so the verdict is not shown.
    std::vector<double> b(30, 0.5), a(30, 0.52);
    a[7] = 0.5 - 1.5;
    const NonInferiority r = non_inferiority(a, b, 0.12, 0.05);
    EXPECT_TRUE(r.t_test_rejects) << r.t_test.p_value;
    EXPECT_FALSE(r.bootstrap_rejects) << r.bootstrap_lower;
    EXPECT_NEAR(r.bootstrap_lower, 0.02 - 3 * 1.52 / 30, 1e-12);
    EXPECT_EQ(r.verdict, NonInferiorityVerdict::not_shown);
}

TEST(AggregateSeeds, MeansAndSpreads) {
    const std::vector<std::vector<double>> v = {{0.5, 0.7, 0.6}, {1.0, 1.0, 1.0}, {0.0, 0.3, 0.9}};
    const SeedSummary s = aggregate_seeds(v);
    EXPECT_EQ(s.n_examples, 3);
    EXPECT_EQ(s.n_seeds, 3);
    EXPECT_DOUBLE_EQ(s.mean[0], 0.6);
    EXPECT_EQ(s.mean[1], 1.0);
    EXPECT_DOUBLE_EQ(s.mean[2], 0.4);
    EXPECT_DOUBLE_EQ(s.spread[0], 0.2);
    EXPECT_EQ(s.spread[1], 0.0);
    EXPECT_DOUBLE_EQ(s.spread[2], 0.9);
    EXPECT_DOUBLE_EQ(s.mean_spread, (0.2 + 0.0 + 0.9) / 3);
    EXPECT_DOUBLE_EQ(s.max_spread, 0.9);
    EXPECT_DOUBLE_EQ(s.mean_of_means, (0.6 + 1.0 + 0.4) / 3);

    const std::vector<std::vector<double>> ragged = {{1, 2}, {1}};
    try {
        aggregate_seeds(ragged);
        FAIL() << "ragged accepted";
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("example 1 has 1 seeds but example 0 has 2"),
                  std::string::npos)
            << e.what();
    }
    const std::vector<std::vector<double>> with_inf = {{1, 2}, {1, INFINITY}};
    EXPECT_THROW(aggregate_seeds(with_inf), Error);
    EXPECT_THROW(aggregate_seeds(std::vector<std::vector<double>>{}), Error);
}

}  // namespace
}  // namespace rdic
