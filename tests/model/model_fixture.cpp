#include "model_fixture.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <stdexcept>

#include "rdic/build_info.h"
#include "rdic/model_paths.h"

namespace rdic::test {

namespace {
std::shared_ptr<const Model> load_cached(const std::filesystem::path& p) {
    if (!std::filesystem::exists(p)) {
        throw std::runtime_error(p.string() + " is missing: run ./scripts/setup.sh");
    }
    return Model::load({.path = p});
}
}  // namespace

std::filesystem::path gemma_path() {
    return model_cache_dir() / build_info::kGemmaModelFile;
}
std::filesystem::path smollm_path() {
    return model_cache_dir() / build_info::kSmolModelFile;
}

std::shared_ptr<const Model> gemma() {
    static const std::shared_ptr<const Model> m = load_cached(gemma_path());
    return m;
}

std::shared_ptr<const Model> smollm() {
    static const std::shared_ptr<const Model> m = load_cached(smollm_path());
    return m;
}

std::shared_ptr<const Model> qwen05() {
    static const std::shared_ptr<const Model> m =
        load_cached(model_cache_dir() / build_info::kDefaultModelFile);
    return m;
}

bool on_gpu(const Model& model) {
    for (const std::string& d : model.info().layer_device) {
        if (d.rfind("CPU", 0) != 0) return true;
    }
    return false;
}

Tolerance tolerance(const Model& model) {
    if (!on_gpu(model)) return {};
    return {.exact = false, .kl_nats = 0.1, .logp = 1.5, .near_tie_logits = 0.75f};
}

namespace {
std::vector<double> log_softmax(const std::vector<float>& l) {
    const float mx = *std::max_element(l.begin(), l.end());
    double z = 0;
    for (float x : l) z += std::exp(double{x} - mx);
    std::vector<double> out(l.size());
    for (size_t i = 0; i < l.size(); ++i) out[i] = double{l[i]} - mx - std::log(z);
    return out;
}
}  // namespace

Comparison expect_same_decode(const Trace& reference, const Trace& other, const Tolerance& tol,
                              bool exact) {
    Comparison c;
    const size_t n = std::min(reference.logits.size(), other.logits.size());
    EXPECT_EQ(reference.logits.size(), other.logits.size());
    for (size_t step = 0; step < n; ++step) {
        const auto& lr = reference.logits[step];
        const auto& lo = other.logits[step];
        if (exact && lr != lo) {
            float worst = 0;
            for (size_t v = 0; v < lr.size(); ++v)
                worst = std::max(worst, std::fabs(lr[v] - lo[v]));
            ADD_FAILURE() << "logits differ at step " << step << " (max |dlogit| " << worst << ")";
            c.max_abs_logit_diff = worst;
            return c;
        }
        const auto pr = log_softmax(lr), po = log_softmax(lo);
        double kl = 0, dlp = 0;
        float dl = 0;
        for (size_t v = 0; v < pr.size(); ++v) {
            kl += std::exp(pr[v]) * (pr[v] - po[v]);
            if (pr[v] > std::log(1e-3)) dlp = std::max(dlp, std::fabs(pr[v] - po[v]));
            dl = std::max(dl, std::fabs(lr[v] - lo[v]));
        }
        c.max_kl_nats = std::max(c.max_kl_nats, kl);
        c.max_logp_diff = std::max(c.max_logp_diff, dlp);
        c.max_abs_logit_diff = std::max(c.max_abs_logit_diff, dl);
        if (step < reference.tokens.size() && step < other.tokens.size() &&
            reference.tokens[step] != other.tokens[step]) {
            std::vector<float> top = lr;
            std::partial_sort(top.begin(), top.begin() + 2, top.end(), std::greater<>());
            EXPECT_FALSE(exact) << "exact decodes chose different tokens at step " << step;
            EXPECT_LT(top[0] - top[1], tol.near_tie_logits)
                << "greedy token differs at step " << step << " without a near-tie";
            break;
        }
        ++c.n_equal_steps;
    }
    EXPECT_LE(c.max_kl_nats, tol.kl_nats);
    EXPECT_LE(c.max_logp_diff, tol.logp);
    return c;
}

const char* const kClusterPrompts[3] = {
    "Incident report for the payments service: at 02:14 the primary PostgreSQL node ran out of "
    "disk space, replication to the standby stopped, and the on-call engineer decided to",
    "Our quarterly marketing budget review: the social media campaign cost 42,000 euros and "
    "brought 1,300 new subscribers, while the podcast sponsorship",
    "Recipe notes for the sourdough bread: mix 500 g of flour with 350 g of water, rest for an "
    "hour, then add the starter and salt. After the first fold",
};

}  // namespace rdic::test
