#include "rdic/isolation/backend.h"

namespace rdic {

namespace {

class InProcessBackend final : public Backend {
public:
    InProcessBackend(std::shared_ptr<const Model> model, ExecutorOptions options)
        : model_(std::move(model)), options_(std::move(options)) {}
    std::string identity() const override { return "in-process"; }
    ConditionResult run(const Example& example, const Plan& plan) override {
        return run_condition(model_, example, plan, options_);
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
