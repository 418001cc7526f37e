// rdic command-line entry point: parses arguments, runs one subcommand, and turns any error
// into one line on stderr and a non-zero exit status (codes listed in --help).
#include <CLI/CLI.hpp>
#include <cstdio>
#include <iostream>

#include "commands.h"
#include "rdic/build_info.h"
#include "rdic/engine/model.h"
#include "rdic/error.h"

int main(int argc, char** argv) {
    CLI::App app{"rdic: semantic KV-cache isolation for multi-topic LLM conversations"};
    app.footer(
        "Exit status: 0 ok, 1 unexpected error, 2 invalid argument, 3 file not found,\n"
        "4 corrupt file, 5 unsupported model, 6 out of memory, 7 context overflow,\n"
        "8 history lost, 9 backend failure, 10 upstream failure (--backend URL).\n"
        "Models are looked up in $RDIC_MODELS (default ~/.cache/rdic/models).");
    app.require_subcommand(0, 1);
    bool show_version = false;
    app.add_flag("--version", show_version, "Print rdic's and llama.cpp's versions");

    std::vector<std::pair<CLI::App*, rdic::cli::Action>> commands;
    auto* info = app.add_subcommand("info", "Show a model's architecture and KV-cache costs");
    commands.emplace_back(info, rdic::cli::add_info(*info));
    auto* gen = app.add_subcommand("generate", "Generate text from a prompt");
    commands.emplace_back(gen, rdic::cli::add_generate(*gen));
    auto* run = app.add_subcommand("run", "Run the isolation experiment (conditions x examples)");
    commands.emplace_back(run, rdic::cli::add_run(*run));
    auto* ev = app.add_subcommand("eval", "Metrics of every output of a results directory");
    commands.emplace_back(ev, rdic::cli::add_eval(*ev));
    auto* rep = app.add_subcommand("report", "Statistics and reports (md, html, csv, json)");
    commands.emplace_back(rep, rdic::cli::add_report(*rep));
    auto* clu = app.add_subcommand("cluster", "Cluster the turns of examples; ARI/NMI vs labels");
    commands.emplace_back(clu, rdic::cli::add_cluster(*clu));
    auto* val = app.add_subcommand("validate", "Check dataset files");
    commands.emplace_back(val, rdic::cli::add_validate(*val));
    auto* models =
        app.add_subcommand("models", "List the known models, installed or not, and where");
    commands.emplace_back(models, rdic::cli::add_models(*models));
    auto* bench = app.add_subcommand("bench", "Time the experiment's workload (JSON + tables)");
    commands.emplace_back(bench, rdic::cli::add_bench(*bench));

    auto* serve =
        app.add_subcommand("serve", "OpenAI-compatible server with per-topic KV sessions");
    commands.emplace_back(serve, rdic::cli::add_serve(*serve));

    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        return app.exit(e) == 0 ? 0 : rdic::exit_code(rdic::ErrorCode::invalid_argument);
    }
    if (show_version) {
        std::cout << "rdic " << rdic::build_info::kVersion << "\n"
                  << "llama.cpp " << rdic::llama_cpp_version() << " (pinned "
                  << rdic::build_info::kLlamaCppPinnedCommit << " via llama-cpp-python "
                  << rdic::build_info::kLlamaCppPythonVersion << ")\n"
                  << "build " << rdic::build_info::kBuildType << "\n";
        for (const std::string& d : rdic::compute_devices()) std::cout << "device " << d << "\n";
        return 0;
    }
    try {
        for (auto& [sub, action] : commands) {
            if (sub->parsed()) return action();
        }
        std::cout << app.help();
        return 0;
    } catch (const rdic::Error& e) {
        std::fflush(stdout);
        std::cerr << "rdic: error: " << e.what() << "\n";
        return rdic::exit_code(e.code());
    } catch (const std::exception& e) {
        std::fflush(stdout);
        std::cerr << "rdic: error: " << e.what() << "\n";
        return 1;
    }
}
