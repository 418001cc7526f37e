// Paired statistics. Where scipy defines the answer, the rules below are scipy 1.17.1's, read
// from scipy/stats/_wilcoxon.py, _morestats.py, _stats_py.py and _resampling.py; the fixtures
// in tests/data/stats_fixtures.json hold its numbers.
//
// This file is compiled with -ffp-contract=off (CMakeLists.txt): no fused multiply-adds, so the
// bootstrap's arithmetic, and with it every interval, is the same on every platform.
#include "rdic/evaluation/statistics.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <numbers>
#include <string_view>

#include "rdic/error.h"

namespace rdic {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();

// scipy.stats.wilcoxon's method='auto': the exact distribution up to this many pairs...
constexpr int64_t kWilcoxonExactMaxN = 50;
// ...and, with ties or zeros, the permutation test when 2^n sign flips fit in its default 9,999
// resamples (so it enumerates them all and is exact).
constexpr int64_t kWilcoxonPermutationMaxN = 13;

// Incomplete beta continued fraction: stop when a step changes the value by less than this.
constexpr double kBetaTolerance = std::numeric_limits<double>::epsilon();
constexpr int kBetaMaxIterations = 10'000;
constexpr double kLentzTiny = 1e-300;
// Below this argument log-gamma is shifted up with Gamma(z + 1) = z Gamma(z) first.
constexpr double kStirlingMinArg = 10.0;

constexpr const char* kReasonTooFew = "fewer than 2 pairs";
constexpr const char* kReasonAllZero = "all differences are zero";
constexpr const char* kReasonZeroVariance = "all differences are equal (zero variance)";

std::string format_double(double x) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.17g", x);
    return buf;
}

[[noreturn]] void invalid(std::string_view where, const std::string& what) {
    throw Error(ErrorCode::invalid_argument, std::string(where) + ": " + what);
}

void require_finite(std::string_view where, std::string_view name, std::span<const double> x) {
    for (size_t i = 0; i < x.size(); ++i) {
        if (!std::isfinite(x[i])) {
            invalid(where, std::string(name) + "[" + std::to_string(i) + "] is " +
                               format_double(x[i]) + "; every value must be finite");
        }
    }
}

void require_pairs(std::string_view where, std::span<const double> a, std::span<const double> b) {
    if (a.size() != b.size()) {
        invalid(where, "a has " + std::to_string(a.size()) + " values but b has " +
                           std::to_string(b.size()) + "; pairs must align by example");
    }
    require_finite(where, "a", a);
    require_finite(where, "b", b);
}

void require_options(std::string_view where, const PairedOptions& o) {
    if (o.n_resamples < 1) {
        invalid(where, "n_resamples is " + std::to_string(o.n_resamples) + "; must be >= 1");
    }
    if (!(o.confidence > 0 && o.confidence < 1)) {
        invalid(where, "confidence is " + format_double(o.confidence) + "; must be in (0, 1)");
    }
}

std::vector<double> differences(std::span<const double> a, std::span<const double> b) {
    std::vector<double> d(a.size());
    for (size_t i = 0; i < a.size(); ++i) d[i] = a[i] - b[i];
    return d;
}

bool all_equal(std::span<const double> x) {
    return std::all_of(x.begin(), x.end(), [&](double v) { return v == x[0]; });
}

// Neumaier's compensated sum: the error stays at rounding of the result, not of each step.
class CompensatedSum {
public:
    void add(double x) {
        const double t = sum_ + x;
        if (std::fabs(sum_) >= std::fabs(x)) {
            compensation_ += (sum_ - t) + x;
        } else {
            compensation_ += (x - t) + sum_;
        }
        sum_ = t;
    }
    double value() const { return sum_ + compensation_; }

private:
    double sum_ = 0;
    double compensation_ = 0;
};

// Mean as x[0] + mean(x - x[0]): exact for constant data (whose mean then equals the value, not a
// rounding of n * value / n), and accurate when the spread is small next to the magnitude.
double mean_of(std::span<const double> x) {
    if (x.empty()) return kNaN;
    CompensatedSum s;
    for (double v : x) s.add(v - x[0]);
    return x[0] + s.value() / static_cast<double>(x.size());
}

// Sample variance with n - 1 in the denominator (corrected two-pass); n >= 2.
double variance_of(std::span<const double> x, double mean) {
    CompensatedSum squares;
    CompensatedSum deviations;
    for (double v : x) {
        squares.add((v - mean) * (v - mean));
        deviations.add(v - mean);
    }
    const double n = static_cast<double>(x.size());
    const double var = (squares.value() - deviations.value() * deviations.value() / n) / (n - 1);
    return std::max(var, 0.0);
}

// ---- special functions ------------------------------------------------------------------------

// log Gamma(z) - ((z - 1/2) log z - z + log(2 pi)/2) for z >= kStirlingMinArg: the Stirling
// series sum B_2k / (2k (2k - 1) z^(2k-1)), k = 1..7; the next term is below 1e-17 at z = 10.
double stirling_tail(double z) {
    const double r = 1.0 / z;
    const double r2 = r * r;
    constexpr double c[] = {1.0 / 12,   -1.0 / 360,      1.0 / 1260, -1.0 / 1680,
                            1.0 / 1188, -691.0 / 360360, 1.0 / 156};
    double sum = 0;
    for (int k = 6; k >= 0; --k) sum = sum * r2 + c[k];
    return sum * r;
}

constexpr double kHalfLog2Pi = 0.91893853320467274178;  // log(2 pi) / 2

// log Gamma(z), z > 0, without std::lgamma (which writes the global signgam on POSIX).
double log_gamma(double z) {
    double product = 1;
    while (z < kStirlingMinArg) {
        product *= z;
        z += 1;
    }
    return (z - 0.5) * std::log(z) - z + kHalfLog2Pi + stirling_tail(z) - std::log(product);
}

// log B(a, b) = log Gamma(a) + log Gamma(b) - log Gamma(a + b), arranged so that the large
// log-gamma values cancel analytically instead of in floating point.
double log_beta(double a, double b) {
    if (a > b) std::swap(a, b);  // a <= b
    if (b < kStirlingMinArg) return log_gamma(a) + log_gamma(b) - log_gamma(a + b);
    const double s = a + b;
    if (a < kStirlingMinArg) {
        // log Gamma(b) - log Gamma(a + b) from the Stirling form of both.
        const double diff = -(b - 0.5) * std::log1p(a / b) - a * std::log(s) + a +
                            stirling_tail(b) - stirling_tail(s);
        return log_gamma(a) + diff;
    }
    return kHalfLog2Pi - (a - 0.5) * std::log1p(b / a) - (b - 0.5) * std::log1p(a / b) -
           0.5 * std::log(s) + stirling_tail(a) + stirling_tail(b) - stirling_tail(s);
}

// I_x(a, b) by its continued fraction (Abramowitz & Stegun 26.5.8), evaluated with the modified
// Lentz method. y = 1 - x is passed separately so that callers who know it exactly keep its
// precision (the t distribution near t = 0 needs y, not 1 - x).
double incomplete_beta(double a, double b, double x, double y) {
    if (x <= 0) return 0;
    if (y <= 0) return 1;
    // The fraction converges quickly for x below the mean of Beta(a+1, b+1); above it, use
    // I_x(a, b) = 1 - I_y(b, a).
    if (x > (a + 1) / (a + b + 2)) return 1 - incomplete_beta(b, a, y, x);

    const double log_x = x < 0.5 ? std::log(x) : std::log1p(-y);
    const double log_y = y < 0.5 ? std::log(y) : std::log1p(-x);
    const double front = std::exp(a * log_x + b * log_y - log_beta(a, b)) / a;

    // 1 / (1 + d1 / (1 + d2 / (1 + ...))), with
    //   d(2m+1) = -(a + m)(a + b + m) x / ((a + 2m)(a + 2m + 1)),
    //   d(2m)   = m (b - m) x / ((a + 2m - 1)(a + 2m)).
    double f = 1;
    double c = 1;
    double dd = 0;
    for (int j = 1; j <= kBetaMaxIterations; ++j) {
        const int m = j / 2;
        double coef;
        if (j % 2 == 1) {
            coef = -(a + m) * (a + b + m) * x / ((a + 2 * m) * (a + 2 * m + 1));
        } else {
            coef = m * (b - m) * x / ((a + 2 * m - 1) * (a + 2 * m));
        }
        dd = 1 + coef * dd;
        if (std::fabs(dd) < kLentzTiny) dd = kLentzTiny;
        c = 1 + coef / c;
        if (std::fabs(c) < kLentzTiny) c = kLentzTiny;
        dd = 1 / dd;
        const double delta = c * dd;
        f *= delta;
        if (std::fabs(delta - 1) < kBetaTolerance) break;
    }
    return front / f;
}

// P(T > |t|) for Student's t with df degrees of freedom: I_x(df/2, 1/2) / 2, x = df/(df + t^2).
double student_t_tail(double t, double df) {
    const double t2 = t * t;
    if (t2 == 0) return 0.5;
    if (std::isinf(t2)) return 0;
    const double denom = df + t2;
    return 0.5 * incomplete_beta(df / 2, 0.5, df / denom, t2 / denom);
}

double student_t_sf(double t, double df) {
    if (std::isnan(t)) return kNaN;
    const double tail = student_t_tail(t, df);
    return t > 0 ? tail : 1 - tail;
}

// ---- Wilcoxon ---------------------------------------------------------------------------------

// Two-sided p from the exact null distribution of R+ over n pairs without ties or zeros: the
// number of subsets of {1..n} with each rank sum, in integers (at most 2^50 for n = 50), so the
// result is count / 2^n with no rounding, exactly what scipy's halving recursion produces.
double wilcoxon_exact_p(int64_t n, double r_plus) {
    const int64_t max_sum = n * (n + 1) / 2;
    std::vector<uint64_t> count(static_cast<size_t>(max_sum) + 1, 0);
    count[0] = 1;
    int64_t reach = 0;
    for (int64_t rank = 1; rank <= n; ++rank) {
        reach += rank;
        for (int64_t s = reach; s >= rank; --s) count[s] += count[s - rank];
    }
    const auto k_floor = static_cast<int64_t>(std::floor(r_plus));
    const auto k_ceil = static_cast<int64_t>(std::ceil(r_plus));
    uint64_t at_least = 0;  // R+ >= floor(r_plus)
    uint64_t at_most = 0;   // R+ <= ceil(r_plus)
    for (int64_t s = 0; s <= max_sum; ++s) {
        if (s >= k_floor) at_least += count[s];
        if (s <= k_ceil) at_most += count[s];
    }
    const double total = std::ldexp(1.0, static_cast<int>(n));
    const double p = 2 * static_cast<double>(std::min(at_least, at_most)) / total;
    return std::min(p, 1.0);
}

// Two-sided p of scipy's permutation test: every sign assignment of the nonzero differences
// (each zero difference doubles every count, which cancels in the ratio). Ranks are multiples
// of 1/2, so doubled ranks are integers and the comparisons are exact.
double wilcoxon_permutation_p(const std::vector<int64_t>& doubled_ranks, int64_t observed_doubled) {
    const size_t k = doubled_ranks.size();
    const uint64_t n_flips = uint64_t{1} << k;
    uint64_t at_most = 0;
    uint64_t at_least = 0;
    for (uint64_t mask = 0; mask < n_flips; ++mask) {
        int64_t s = 0;
        for (size_t i = 0; i < k; ++i) {
            if (mask & (uint64_t{1} << i)) s += doubled_ranks[i];
        }
        if (s <= observed_doubled) ++at_most;
        if (s >= observed_doubled) ++at_least;
    }
    const double p =
        2 * static_cast<double>(std::min(at_most, at_least)) / static_cast<double>(n_flips);
    return std::min(p, 1.0);
}

}  // namespace

// ---- public -----------------------------------------------------------------------------------

uint64_t SplitMix64::next() {
    state_ += 0x9E3779B97F4A7C15ULL;
    uint64_t z = state_;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

uint64_t SplitMix64::uniform_index(uint64_t n) {
    if (n == 0) invalid("SplitMix64::uniform_index", "n must be >= 1");
    const uint64_t threshold = (0 - n) % n;  // 2^64 mod n
    for (;;) {
        const uint64_t x = next();
        if (x >= threshold) return x % n;
    }
}

double normal_cdf(double z) {
    return 0.5 * std::erfc(-z / std::numbers::sqrt2);
}

double student_t_cdf(double t, double df) {
    if (!(df > 0) || !std::isfinite(df)) {
        invalid("student_t_cdf", "df is " + format_double(df) + "; must be > 0 and finite");
    }
    return student_t_sf(-t, df);
}

double regularized_incomplete_beta(double a, double b, double x) {
    if (!(a > 0) || !(b > 0) || !std::isfinite(a) || !std::isfinite(b) || !(x >= 0 && x <= 1)) {
        invalid("regularized_incomplete_beta",
                "needs a > 0, b > 0 and x in [0, 1]; got a = " + format_double(a) +
                    ", b = " + format_double(b) + ", x = " + format_double(x));
    }
    return incomplete_beta(a, b, x, 1 - x);
}

WilcoxonTest wilcoxon_signed_rank(std::span<const double> d) {
    require_finite("wilcoxon_signed_rank", "d", d);
    WilcoxonTest w;
    const auto n = static_cast<int64_t>(d.size());
    if (n == 0) {
        w.undefined_reason = "no pairs";
        return w;
    }
    // Zero differences are dropped (zero_method='wilcox'); the rest are ranked by |d| with
    // average ranks for ties.
    std::vector<size_t> order;
    for (size_t i = 0; i < d.size(); ++i) {
        if (d[i] != 0) order.push_back(i);
    }
    w.n_nonzero = static_cast<int64_t>(order.size());
    w.n_zero = n - w.n_nonzero;
    std::stable_sort(order.begin(), order.end(),
                     [&](size_t i, size_t j) { return std::fabs(d[i]) < std::fabs(d[j]); });
    std::vector<int64_t> doubled_rank(d.size(), 0);  // 2 * rank, an integer
    double tie_term = 0;                             // sum of t^3 - t over tie groups
    for (size_t g = 0; g < order.size();) {
        size_t e = g + 1;
        while (e < order.size() && std::fabs(d[order[e]]) == std::fabs(d[order[g]])) ++e;
        const auto first = static_cast<int64_t>(g) + 1;  // ranks first..last share their mean
        const auto last = static_cast<int64_t>(e);
        for (size_t k = g; k < e; ++k) doubled_rank[order[k]] = first + last;
        const auto t = static_cast<double>(e - g);
        if (e - g > 1) w.has_ties = true;
        tie_term += t * t * t - t;
        g = e;
    }
    int64_t plus2 = 0;
    int64_t minus2 = 0;
    for (size_t i = 0; i < d.size(); ++i) {
        if (d[i] > 0) plus2 += doubled_rank[i];
        if (d[i] < 0) minus2 += doubled_rank[i];
    }
    w.r_plus = static_cast<double>(plus2) / 2;
    w.r_minus = static_cast<double>(minus2) / 2;
    w.statistic = std::min(w.r_plus, w.r_minus);

    if (n > kWilcoxonExactMaxN) {
        w.method = WilcoxonMethod::normal;
    } else if (!w.has_ties && w.n_zero == 0) {
        w.method = WilcoxonMethod::exact;
    } else if (n <= kWilcoxonPermutationMaxN) {
        w.method = WilcoxonMethod::permutation;
    } else {
        w.method = WilcoxonMethod::normal;
    }

    switch (w.method) {
        case WilcoxonMethod::exact:
            w.p_value = wilcoxon_exact_p(n, w.r_plus);
            break;
        case WilcoxonMethod::permutation: {
            if (n < 2) {
                // scipy's permutation test refuses a single observation.
                w.method = WilcoxonMethod::none;
                w.undefined_reason = std::string(kReasonTooFew) + " and the one is zero";
                break;
            }
            std::vector<int64_t> ranks;
            for (size_t i = 0; i < d.size(); ++i) {
                if (d[i] != 0) ranks.push_back(doubled_rank[i]);
            }
            w.p_value = wilcoxon_permutation_p(ranks, plus2);
            break;
        }
        case WilcoxonMethod::normal: {
            if (w.n_nonzero == 0) {
                w.method = WilcoxonMethod::none;
                w.undefined_reason = std::string(kReasonAllZero) +
                                     " (no normal approximation; exact only for n <= 13)";
                break;
            }
            // Same operations as scipy: mean n(n+1)/4, variance (n(n+1)(2n+1) - ties/2) / 24.
            const auto count = static_cast<double>(w.n_nonzero);
            const double mean = count * (count + 1.) * 0.25;
            const double se =
                std::sqrt((count * (count + 1.) * (2. * count + 1.) - tie_term / 2) / 24);
            w.z = (w.r_plus - mean) / se;
            w.p_value = std::erfc(std::fabs(w.z) / std::numbers::sqrt2);
            break;
        }
        case WilcoxonMethod::none:
            break;
    }
    return w;
}

TTest t_test(std::span<const double> d, double null_mean, Alternative alternative) {
    require_finite("t_test", "d", d);
    if (!std::isfinite(null_mean)) {
        invalid("t_test", "null_mean is " + format_double(null_mean) + "; must be finite");
    }
    TTest r;
    r.alternative = alternative;
    const auto n = static_cast<int64_t>(d.size());
    if (n < 2) {
        r.undefined_reason = kReasonTooFew;
        if (n == 1) r.df = 0;
        return r;
    }
    r.df = static_cast<double>(n - 1);
    if (all_equal(d)) {
        // Zero variance: t is +-inf unless the mean equals the null value (0/0). scipy gives the
        // same whenever its computed variance is exactly zero.
        if (d[0] == null_mean) {
            r.undefined_reason =
                d[0] == 0 ? kReasonAllZero : "all differences equal the null value";
            return r;
        }
        r.t = d[0] > null_mean ? kInf : -kInf;
    } else {
        const double mean = mean_of(d);
        const double se = std::sqrt(variance_of(d, mean) / static_cast<double>(n));
        r.t = (mean - null_mean) / se;
    }
    switch (alternative) {
        case Alternative::two_sided:
            r.p_value = 2 * student_t_tail(r.t, r.df);
            break;
        case Alternative::greater:
            r.p_value = student_t_sf(r.t, r.df);
            break;
        case Alternative::less:
            r.p_value = student_t_sf(-r.t, r.df);
            break;
    }
    return r;
}

EffectSize cohens_dz(std::span<const double> d) {
    require_finite("cohens_dz", "d", d);
    EffectSize e;
    if (d.size() < 2) {
        e.undefined_reason = kReasonTooFew;
    } else if (all_equal(d)) {
        e.undefined_reason = d[0] == 0 ? kReasonAllZero : kReasonZeroVariance;
    } else {
        const double mean = mean_of(d);
        e.value = mean / std::sqrt(variance_of(d, mean));
    }
    return e;
}

std::vector<double> bootstrap_means(std::span<const double> d, int32_t n_resamples, uint64_t seed) {
    require_finite("bootstrap_means", "d", d);
    if (d.empty()) invalid("bootstrap_means", "no values to resample");
    if (n_resamples < 1) {
        invalid("bootstrap_means",
                "n_resamples is " + std::to_string(n_resamples) + "; must be >= 1");
    }
    // Each resample mean is d[0] + (sum of the drawn d[i] - d[0]) / n, summed in draw order:
    // exact for constant d, and the order of every operation is fixed (tools/
    // make_stats_fixtures.py replays it bit for bit).
    const size_t n = d.size();
    std::vector<double> deviation(n);
    for (size_t i = 0; i < n; ++i) deviation[i] = d[i] - d[0];
    SplitMix64 rng(seed);
    std::vector<double> means(static_cast<size_t>(n_resamples));
    for (double& m : means) {
        double sum = 0;
        for (size_t j = 0; j < n; ++j) sum += deviation[rng.uniform_index(n)];
        m = d[0] + sum / static_cast<double>(n);
    }
    std::sort(means.begin(), means.end());
    return means;
}

double quantile_of_sorted(std::span<const double> sorted, double q) {
    if (sorted.empty()) invalid("quantile_of_sorted", "no values");
    if (!(q >= 0 && q <= 1)) {
        invalid("quantile_of_sorted", "q is " + format_double(q) + "; must be in [0, 1]");
    }
    const double h = q * static_cast<double>(sorted.size() - 1);
    const auto i = static_cast<size_t>(std::floor(h));
    if (i + 1 >= sorted.size()) return sorted.back();
    return sorted[i] + (h - static_cast<double>(i)) * (sorted[i + 1] - sorted[i]);
}

BootstrapInterval bootstrap_mean_interval(std::span<const double> d, const PairedOptions& options) {
    require_options("bootstrap_mean_interval", options);
    require_finite("bootstrap_mean_interval", "d", d);
    BootstrapInterval ci;
    ci.confidence = options.confidence;
    ci.n_resamples = options.n_resamples;
    ci.seed = options.seed;
    if (d.size() < 2) {
        ci.undefined_reason = kReasonTooFew;
        return ci;
    }
    const std::vector<double> means = bootstrap_means(d, options.n_resamples, options.seed);
    const double tail = (1 - options.confidence) / 2;  // as scipy: alpha, then 1 - alpha
    ci.lower = quantile_of_sorted(means, tail);
    ci.upper = quantile_of_sorted(means, 1 - tail);
    return ci;
}

PairedComparison compare_paired(std::span<const double> a, std::span<const double> b,
                                const PairedOptions& options) {
    require_pairs("compare_paired", a, b);
    require_options("compare_paired", options);
    const std::vector<double> d = differences(a, b);
    PairedComparison c;
    c.n = static_cast<int64_t>(d.size());
    c.mean_a = mean_of(a);
    c.mean_b = mean_of(b);
    c.mean_difference = mean_of(d);
    c.bootstrap = bootstrap_mean_interval(d, options);
    c.wilcoxon = wilcoxon_signed_rank(d);
    c.t_test = t_test(d);
    c.cohens_dz = cohens_dz(d);
    return c;
}

std::vector<double> holm(std::span<const double> p) {
    const size_t m = p.size();
    for (size_t i = 0; i < m; ++i) {
        if (!std::isnan(p[i]) && !(p[i] >= 0 && p[i] <= 1)) {
            invalid("holm", "p[" + std::to_string(i) + "] is " + format_double(p[i]) +
                                "; p-values must be in [0, 1] (or NaN for an undefined test)");
        }
    }
    // Ascending p, NaN (read as 1) last; ties keep input order, which cannot change the result.
    std::vector<size_t> order(m);
    for (size_t i = 0; i < m; ++i) order[i] = i;
    const auto key = [&](size_t i) { return std::isnan(p[i]) ? 1.0 : p[i]; };
    std::stable_sort(order.begin(), order.end(),
                     [&](size_t i, size_t j) { return key(i) < key(j); });
    std::vector<double> adjusted(m, kNaN);
    double running = 0;
    for (size_t k = 0; k < m; ++k) {
        const size_t i = order[k];
        running = std::max(running, static_cast<double>(m - k) * key(i));
        if (!std::isnan(p[i])) adjusted[i] = std::min(running, 1.0);
    }
    return adjusted;
}

NonInferiority non_inferiority(std::span<const double> a, std::span<const double> b, double margin,
                               double alpha, const PairedOptions& options) {
    constexpr std::string_view where = "non_inferiority";
    require_pairs(where, a, b);
    require_options(where, options);
    if (!(margin > 0) || !std::isfinite(margin)) {
        invalid(where, "margin is " + format_double(margin) + "; must be > 0 and finite");
    }
    if (!(alpha > 0 && alpha < 0.5)) {
        invalid(where, "alpha is " + format_double(alpha) + "; must be in (0, 0.5)");
    }
    const std::vector<double> d = differences(a, b);
    NonInferiority r;
    r.margin = margin;
    r.alpha = alpha;
    r.n = static_cast<int64_t>(d.size());
    r.mean_difference = mean_of(d);
    r.t_test = t_test(d, -margin, Alternative::greater);
    if (!r.t_test.defined()) {
        r.undefined_reason = r.t_test.undefined_reason;
        return r;
    }
    r.bootstrap_lower =
        quantile_of_sorted(bootstrap_means(d, options.n_resamples, options.seed), alpha);
    r.t_test_rejects = r.t_test.p_value < alpha;
    r.bootstrap_rejects = r.bootstrap_lower > -margin;
    r.verdict = r.t_test_rejects && r.bootstrap_rejects ? NonInferiorityVerdict::non_inferior
                                                        : NonInferiorityVerdict::not_shown;
    return r;
}

SeedSummary aggregate_seeds(std::span<const std::vector<double>> values) {
    constexpr std::string_view where = "aggregate_seeds";
    if (values.empty()) invalid(where, "no examples");
    SeedSummary s;
    s.n_examples = static_cast<int64_t>(values.size());
    s.n_seeds = static_cast<int64_t>(values[0].size());
    for (size_t i = 0; i < values.size(); ++i) {
        const std::vector<double>& v = values[i];
        if (v.empty()) invalid(where, "example " + std::to_string(i) + " has no values");
        if (static_cast<int64_t>(v.size()) != s.n_seeds) {
            invalid(where, "example " + std::to_string(i) + " has " + std::to_string(v.size()) +
                               " seeds but example 0 has " + std::to_string(s.n_seeds) +
                               "; every example needs a value for every seed");
        }
        require_finite(where, "values[" + std::to_string(i) + "]", v);
        const auto [lo, hi] = std::minmax_element(v.begin(), v.end());
        s.mean.push_back(mean_of(v));
        s.spread.push_back(*hi - *lo);
    }
    s.mean_of_means = mean_of(s.mean);
    s.mean_spread = mean_of(s.spread);
    s.max_spread = *std::max_element(s.spread.begin(), s.spread.end());
    return s;
}

}  // namespace rdic
