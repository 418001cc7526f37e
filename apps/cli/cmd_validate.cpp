// `rdic validate FILE|DIR...`: checks dataset files; one line per problem (file, JSON pointer,
// reason); exit 0 when all are valid, 1 otherwise.
#include <CLI/CLI.hpp>
#include <iostream>
#include <map>

#include "cli_common.h"
#include "commands.h"
#include "rdic/datasets/example.h"

namespace rdic::cli {

namespace {

struct ValidateArgs {
    std::vector<std::string> paths;
    std::string model;
    int64_t context = 8192;
    bool check_context = false;
};

int run_validate(const ValidateArgs& args) {
    std::vector<Issue> issues;
    std::vector<std::filesystem::path> in(args.paths.begin(), args.paths.end());
    const auto files = expand_data_paths(in, &issues);
    ValidationOptions opt;
    std::shared_ptr<const Model> model;
    if (args.check_context || !args.model.empty()) {
        model = load_model(args.model, 0);
        opt.max_context = args.context;
        opt.count_tokens = [&](const std::string& s) {
            return static_cast<int64_t>(model->tokenize(s, true, false).size());
        };
    }
    std::map<std::string, std::filesystem::path> ids;
    size_t n_valid = 0;
    for (const auto& f : files) {
        LoadResult r = load_example(f, opt);
        if (r.example && !r.example->id.empty()) {
            auto [it, fresh] = ids.emplace(r.example->id, f);
            if (!fresh) {
                r.issues.push_back({f, "/id",
                                    "example id \"" + r.example->id + "\" is also used by " +
                                        it->second.string()});
            }
        }
        if (r.issues.empty()) ++n_valid;
        issues.insert(issues.end(), r.issues.begin(), r.issues.end());
    }
    for (const Issue& i : issues) std::cout << i.to_string() << "\n";
    std::cerr << files.size() << " files, " << n_valid << " valid, " << issues.size()
              << " problems\n";
    return issues.empty() ? 0 : 1;
}

}  // namespace

Action add_validate(CLI::App& app) {
    auto args = std::make_shared<ValidateArgs>();
    app.add_option("paths", args->paths, "Dataset files or directories")->required();
    app.add_option("--model", args->model,
                   "Also check that every example fits the context (tokenizer of this model)");
    app.add_flag("--check-context", args->check_context,
                 "Check the context fit with the default model");
    app.add_option("--context", args->context, "Context size in tokens for the fit check");
    return [args] { return run_validate(*args); };
}

}  // namespace rdic::cli
