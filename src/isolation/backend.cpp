#include "rdic/isolation/backend.h"

#include <map>

namespace rdic {

std::vector<ConditionResult> Backend::run_together(
    const Example& example, std::span<const Plan> plans,
    const std::function<void(const std::string&)>& /*note*/) {
    std::vector<ConditionResult> out;
    out.reserve(plans.size());
    for (const Plan& plan : plans) out.push_back(run(example, plan));
    return out;
}

namespace {

class InProcessBackend final : public Backend {
public:
    InProcessBackend(std::shared_ptr<const Model> model, ExecutorOptions options)
        : model_(std::move(model)), options_(std::move(options)) {}
    std::string identity() const override { return "in-process"; }
    std::string device() const override { return model_->info().device; }
    ConditionResult run(const Example& example, const Plan& plan) override {
        return run_condition(model_, example, plan, options_);
    }
    bool runs_together() const override { return !options_.naive; }

    // Plans of one KV layout run together (a plan's layout is what it gets alone, so its tokens
    // see the same kernels' batch shapes as alone, and its record's kv.layout is unchanged).
    std::vector<ConditionResult> run_together(
        const Example& example, std::span<const Plan> plans,
        const std::function<void(const std::string&)>& note) override {
        if (!runs_together()) return Backend::run_together(example, plans, note);
        std::map<KvLayout, std::vector<size_t>> groups;
        for (size_t i = 0; i < plans.size(); ++i) {
            groups[batched_layout(plans[i], options_)].push_back(i);
        }
        std::vector<ConditionResult> out(plans.size());
        for (const auto& [layout, which] : groups) {
            std::vector<Plan> group;
            for (size_t i : which) group.push_back(plans[i]);
            std::string why = group.size() > 1 ? check_together(model_, example, group, options_)
                                               : std::string("alone");
            if (why.empty()) {
                std::vector<ConditionResult> r =
                    run_conditions_together(model_, example, group, options_);
                for (size_t k = 0; k < which.size(); ++k) out[which[k]] = std::move(r[k]);
                continue;
            }
            if (group.size() > 1 && note) {
                note(example.id + ": " + condition_names(group) + " run one by one: " + why);
            }
            for (size_t i : which) out[i] = run(example, plans[i]);
        }
        return out;
    }

private:
    std::shared_ptr<const Model> model_;
    ExecutorOptions options_;
};

}  // namespace

std::unique_ptr<Backend> make_in_process_backend(std::shared_ptr<const Model> model,
                                                 ExecutorOptions options) {
    return std::make_unique<InProcessBackend>(std::move(model), std::move(options));
}

}  // namespace rdic
