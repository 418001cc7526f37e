#include "rdic/reporting/results.h"

#include <chrono>
#include <ctime>
#include <nlohmann/json.hpp>

#include "rdic/build_info.h"
#include "rdic/error.h"

namespace rdic {

namespace {

using json = nlohmann::json;

json config_to_json(const RunConfig& c) {
    return {{"conditions", c.conditions},
            {"max_tokens", c.max_tokens},
            {"temperature", c.sampling.temperature},
            {"top_k", c.sampling.top_k},
            {"top_p", c.sampling.top_p},
            {"min_p", c.sampling.min_p},
            {"seed", c.sampling.seed},
            {"system_prompt", c.system_prompt},
            {"name_topics", !c.seed_compat},
            {"seed_compat", c.seed_compat},
            {"question_wording", c.question_wording},
            {"questions", c.questions},
            {"answer_tokens", c.answer_tokens},
            {"naive", c.naive},
            {"kv_layout", c.kv_layout},
            {"clusters", c.clusters},
            {"cluster_parameters", c.cluster_parameters}};
}

json clustering_to_json(const ClusteringRecord& c) {
    json assignment = json::array();
    for (const auto& [turn, cluster] : c.assignment) {
        assignment.push_back({{"turn", turn}, {"cluster", cluster}});
    }
    return {{"method", c.method},
            {"parameters", c.parameters},
            {"ari", c.ari},
            {"nmi", c.nmi},
            {"k", c.k},
            {"time_ms", c.time_ms},
            {"assignment", assignment}};
}

json model_to_json(const ModelIdentity& m) {
    return {{"file", m.file},
            {"path", m.path},
            {"bytes", m.bytes},
            {"sha256_prefix", m.sha256_prefix},
            {"architecture", m.architecture},
            {"name", m.name}};
}

json versions_json() {
    return {{"rdic", build_info::kVersion},
            {"llama_cpp_pinned", build_info::kLlamaCppPinnedCommit},
            {"llama_cpp_python", build_info::kLlamaCppPythonVersion}};
}

}  // namespace

std::string to_json_line(const RunRecord& r) {
    json j = {{"example_id", r.example_id},
              {"file", r.file},
              {"domain", r.domain},
              {"split", r.split},
              {"condition", std::string(to_string(r.condition))},
              {"naive", r.config.naive},
              {"status", r.result ? "ok" : "error"},
              {"model", model_to_json(r.model)},
              {"config", config_to_json(r.config)},
              {"versions", versions_json()},
              {"finished_at", r.finished_at}};
    if (r.clustering) j["clustering"] = clustering_to_json(*r.clustering);
    if (!r.result) {
        j["error"] = r.error;
        return j.dump(-1, ' ', false, json::error_handler_t::replace);
    }
    const ConditionResult& c = *r.result;
    json outputs = json::array();
    for (const OutputResult& o : c.outputs) {
        outputs.push_back({{"cluster", o.cluster_id},
                           {"kind", o.kind == ClusterKind::topic ? "topic" : "synthesis"},
                           {"text", o.text},
                           {"n_tokens", o.n_tokens},
                           {"n_context_tokens", o.n_context_tokens},
                           {"stop_reason", std::string(to_string(o.stop_reason))},
                           {"kv_bytes", o.kv_bytes},
                           {"prefill_ms", o.timing.prefill_ms},
                           {"ttft_ms", o.timing.ttft_ms},
                           {"decode_tokens_per_s", o.timing.decode_tokens_per_s},
                           {"total_ms", o.timing.total_ms},
                           {"prompt_copy_share", o.prompt_copy_share}});
    }
    j["outputs"] = outputs;
    if (!c.answers.empty()) {
        json answers = json::array();
        for (const AnswerResult& a : c.answers) {
            answers.push_back({{"question", a.question_id},
                               {"text", a.text},
                               {"n_tokens", a.n_tokens},
                               {"n_context_tokens", a.n_context_tokens},
                               {"stop_reason", std::string(to_string(a.stop_reason))}});
        }
        j["answers"] = answers;
    }
    j["kv"] = {{"peak_bytes", c.kv_peak.bytes},
               {"peak_cells_full", c.kv_peak.cells_full},
               {"peak_cells_swa", c.kv_peak.cells_swa},
               {"allocated_bytes", c.kv_allocated_bytes},
               {"sessions", c.n_sessions},
               {"layout", std::string(to_string(c.kv_layout))},
               {"weights_bytes", c.weights_bytes},
               {"separate_instances_bytes", c.separate_instances_bytes()}};
    j["timing"] = {{"total_ms", c.total_ms},
                   {"prefill_ms", c.prefill_ms},
                   {"decode_ms", c.decode_ms},
                   {"decode_calls", c.n_decode_calls},
                   {"prefill_tokens", c.n_prefill_tokens},
                   {"questions_ms", c.questions_ms}};
    return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

JsonlAppender::JsonlAppender(const std::filesystem::path& file) : file_(file) {
    bool needs_newline = false;
    if (std::ifstream in(file, std::ios::binary);
        in && in.seekg(0, std::ios::end) && in.tellg() > 0) {
        in.seekg(-1, std::ios::end);
        needs_newline = in.get() != '\n';
    }
    out_.open(file, std::ios::app | std::ios::binary);
    if (out_ && needs_newline) out_ << '\n';
    if (!out_)
        throw Error(ErrorCode::file_not_found, file.string() + ": cannot open for appending");
}

void JsonlAppender::append(std::string_view line) {
    out_ << line << '\n';
    out_.flush();
    if (!out_) throw Error(ErrorCode::backend_failure, file_.string() + ": write failed");
}

std::set<std::pair<std::string, std::string>> finished_pairs(const std::filesystem::path& file,
                                                             int* n_skipped) {
    std::set<std::pair<std::string, std::string>> done;
    int skipped = 0;
    std::ifstream in(file);
    std::string line;
    while (std::getline(in, line)) {
        if (line.empty()) continue;
        const json j = json::parse(line, nullptr, /*allow_exceptions=*/false);
        if (j.is_discarded() || !j.is_object()) {
            ++skipped;
            continue;
        }
        if (j.value("status", "") == "ok") {
            done.emplace(j.value("example_id", ""), j.value("condition", ""));
        }
    }
    if (n_skipped != nullptr) *n_skipped = skipped;
    return done;
}

void write_text_file(const std::filesystem::path& file, const std::string& text) {
    std::ofstream out(file, std::ios::binary | std::ios::trunc);
    out << text;
    if (!out) throw Error(ErrorCode::file_not_found, file.string() + ": cannot write");
}

std::string config_json(const RunConfig& config, const ModelIdentity& model,
                        const std::vector<std::string>& data_files) {
    json j = {{"config", config_to_json(config)},
              {"model", model_to_json(model)},
              {"versions", versions_json()},
              {"data", data_files}};
    return j.dump(2);
}

}  // namespace rdic
