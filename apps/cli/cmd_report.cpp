// `rdic report --results DIR [DIR...] --format md|html|csv|json [--out FILE]`: the statistics of
// one run, or of several runs of the same experiment under different seeds. See
// rdic/reporting/report.h and docs/evaluation.md.
#include <CLI/CLI.hpp>
#include <iostream>

#include "commands.h"
#include "rdic/error.h"
#include "rdic/records/files.h"
#include "rdic/reporting/report.h"

namespace rdic::cli {

namespace {

struct ReportArgs {
    std::vector<std::string> results;
    std::string format = "md";
    std::string out;
    ReportOptions options;
};

}  // namespace

std::string render(const Report& r, const std::string& format) {
    if (format == "md") return render_markdown(r);
    if (format == "html") return render_html(r);
    if (format == "csv") return render_csv(r);
    if (format == "json") return render_json(r);
    throw Error(ErrorCode::invalid_argument, "--format: '" + format + "' is not md|html|csv|json");
}

Action add_report(CLI::App& app) {
    auto a = std::make_shared<ReportArgs>();
    app.add_option("--results", a->results,
                   "Results directories (several = the same experiment under several seeds)")
        ->required();
    app.add_option("--format", a->format, "md, html, csv (tidy) or json")
        ->check(CLI::IsMember({"md", "html", "csv", "json"}));
    app.add_option("--out", a->out, "Write to this file instead of standard output");
    CLI::Option* reference =
        app.add_option("--reference", a->options.reference,
                       "Condition compared against every other (default: semantic)");
    app.add_flag("--allow-mixed", a->options.allow_mixed,
                 "Report directories whose model or settings differ (not only the seed) "
                 "together; the report says so");
    app.add_option("--bootstrap-seed", a->options.seed, "Seed of the bootstrap resampling");
    app.add_option("--resamples", a->options.n_resamples, "Bootstrap resamples")
        ->check(CLI::Range(100, 1000000));
    return [a, reference] {
        a->options.require_reference = reference->count() > 0;
        std::vector<std::filesystem::path> dirs(a->results.begin(), a->results.end());
        const std::string text = render(build_report(dirs, a->options), a->format);
        if (a->out.empty()) {
            std::cout << text;
        } else {
            write_file_atomic(a->out, text);
            std::cerr << "rdic: report: " << a->out << "\n";
        }
        return 0;
    };
}

}  // namespace rdic::cli
