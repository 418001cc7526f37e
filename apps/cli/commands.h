// rdic's subcommands. Each registers its options on the CLI11 app and returns the action to run.
#pragma once

#include <functional>

namespace CLI {
class App;
}

namespace rdic::cli {

using Action = std::function<int()>;  // returns the process exit status

Action add_info(CLI::App& app);
Action add_generate(CLI::App& app);
Action add_validate(CLI::App& app);
Action add_run(CLI::App& app);
Action add_eval(CLI::App& app);
Action add_cluster(CLI::App& app);

}  // namespace rdic::cli
