// rdic's subcommands. Each registers its options on the CLI11 app and returns the action to run.
#pragma once

#include <functional>
#include <string>

#include "rdic/reporting/report.h"

namespace CLI {
class App;
}
namespace rdic {
struct EvalOptions;
}  // namespace rdic

namespace rdic::cli {

using Action = std::function<int()>;  // returns the process exit status

Action add_info(CLI::App& app);
Action add_generate(CLI::App& app);
Action add_validate(CLI::App& app);
Action add_run(CLI::App& app);
Action add_eval(CLI::App& app);
Action add_report(CLI::App& app);
Action add_bench(CLI::App& app);
Action add_cluster(CLI::App& app);
Action add_models(CLI::App& app);
Action add_serve(CLI::App& app);

// Shared by eval/report and run (which evaluates and reports at the end): evaluates DIR, prints
// the main table, and returns the report it was taken from.
Report evaluate_and_summarise(const std::string& dir, const EvalOptions& options);
std::string render(const Report& report, const std::string& format);  // md|html|csv|json

}  // namespace rdic::cli
