#include "rdic/records/result_record.h"

#include <map>

#include "json_fields.h"
#include "rdic/isolation/plan.h"
#include "rdic/records/files.h"
#include "record_json.h"

namespace rdic {

using records_detail::Fields;
using records_detail::json;

namespace {

json clustering_json(const ClusteringRecord& c) {
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

ClusteringRecord read_clustering(const Fields& f) {
    ClusteringRecord c;
    c.method = f.str("method");
    c.parameters = f.string_map("parameters");
    c.ari = f.num("ari", -1, 1);
    c.nmi = f.num("nmi", 0, 1);
    c.k = static_cast<int32_t>(f.integer("k", 0, INT32_MAX));
    c.time_ms = f.num("time_ms", 0);
    const json& a = f.array("assignment");
    for (size_t i = 0; i < a.size(); ++i) {
        const Fields e = f.element("assignment", i);
        c.assignment.emplace_back(static_cast<int32_t>(e.integer("turn", 0, INT32_MAX)),
                                  e.str("cluster"));
    }
    return c;
}

constexpr int64_t kMaxTokens = INT32_MAX;

// Schema 2 writes null for a value the engine did not report; schema 1 always has it.
bool is_null(const Fields& f, const std::string& key) {
    return f.has(key) && f.at(key).is_null();
}

OutputRecord read_output(const Fields& f, int schema) {
    OutputRecord o;
    o.cluster = f.str("cluster");
    o.kind = f.one_of("kind", {"topic", "synthesis"});
    o.text = f.str("text");
    o.n_tokens = static_cast<int32_t>(f.integer("n_tokens", 0, kMaxTokens));
    o.n_context_tokens = static_cast<int32_t>(f.integer("n_context_tokens", 0, kMaxTokens));
    o.stop_reason = f.str("stop_reason");
    if (schema < 2 || !is_null(f, "kv_bytes")) o.kv_bytes = f.count("kv_bytes");
    if (schema >= 2 && f.has("cached_tokens") && !is_null(f, "cached_tokens")) {
        o.cached_tokens = f.integer("cached_tokens", 0, kMaxTokens);
    }
    o.prefill_ms = f.num("prefill_ms", 0);
    o.ttft_ms = f.num("ttft_ms", 0);
    o.decode_tokens_per_s = f.num("decode_tokens_per_s", 0);
    o.total_ms = f.num("total_ms", 0);
    if (f.has("prompt_copy_share")) o.prompt_copy_share = f.num("prompt_copy_share", 0, 1);
    return o;
}

AnswerRecord read_answer(const Fields& f) {
    AnswerRecord a;
    a.question = f.str("question");
    a.text = f.str("text");
    a.n_tokens = static_cast<int32_t>(f.integer("n_tokens", 0, kMaxTokens));
    a.n_context_tokens = static_cast<int32_t>(f.integer("n_context_tokens", 0, kMaxTokens));
    a.stop_reason = f.str("stop_reason");
    return a;
}

}  // namespace

std::string result_to_line(const ResultRecord& r) {
    using namespace records_detail;
    json j = {{"schema", kRecordSchemaVersion},
              {"example_id", r.example_id},
              {"file", r.file.relative},
              {"file_absolute", r.file.absolute},
              {"domain", r.domain},
              {"split", r.split},
              {"condition", r.condition},
              {"naive", r.naive},
              {"status", r.ok ? "ok" : "error"},
              {"model", model_json(r.model)},
              {"config", config_json(r.config)},
              {"versions", versions_json(r.versions)},
              {"finished_at", r.finished_at}};
    if (r.clustering) j["clustering"] = clustering_json(*r.clustering);
    if (!r.ok) {
        j["error"] = r.error;
        return j.dump(-1, ' ', false, json::error_handler_t::replace);
    }
    j["together_with"] = r.together_with;
    json outputs = json::array();
    for (const OutputRecord& o : r.outputs) {
        json out = {{"cluster", o.cluster},
                    {"kind", o.kind},
                    {"text", o.text},
                    {"n_tokens", o.n_tokens},
                    {"n_context_tokens", o.n_context_tokens},
                    {"stop_reason", o.stop_reason},
                    {"kv_bytes", o.kv_bytes ? json(*o.kv_bytes) : json(nullptr)},
                    {"prefill_ms", o.prefill_ms},
                    {"ttft_ms", o.ttft_ms},
                    {"decode_tokens_per_s", o.decode_tokens_per_s},
                    {"total_ms", o.total_ms}};
        if (o.prompt_copy_share) out["prompt_copy_share"] = *o.prompt_copy_share;
        if (o.cached_tokens) out["cached_tokens"] = *o.cached_tokens;
        outputs.push_back(std::move(out));
    }
    json answers = json::array();
    for (const AnswerRecord& a : r.answers) {
        answers.push_back({{"question", a.question},
                           {"text", a.text},
                           {"n_tokens", a.n_tokens},
                           {"n_context_tokens", a.n_context_tokens},
                           {"stop_reason", a.stop_reason}});
    }
    j["outputs"] = outputs;
    j["answers"] = answers;
    if (r.kv) {
        const KvRecord& kv = *r.kv;
        j["kv"] = {{"peak_bytes", kv.peak_bytes},
                   {"peak_cells_full", kv.peak_cells_full},
                   {"peak_cells_swa", kv.peak_cells_swa},
                   {"allocated_bytes", kv.allocated_bytes},
                   {"sessions", kv.sessions},
                   {"layout", kv.layout},
                   {"weights_bytes", kv.weights_bytes},
                   {"separate_instances_bytes", kv.separate_instances_bytes}};
    } else {
        j["kv"] = nullptr;
    }
    const TimingRecord& t = r.timing;
    j["timing"] = {{"total_ms", t.total_ms},
                   {"prefill_ms", t.prefill_ms},
                   {"decode_ms", t.decode_ms},
                   {"decode_calls", t.decode_calls},
                   {"prefill_tokens", t.prefill_tokens},
                   {"questions_ms", t.questions_ms}};
    if (t.cached_prompt_tokens) j["timing"]["cached_prompt_tokens"] = *t.cached_prompt_tokens;
    if (t.speculation) {
        j["timing"]["speculation"] = {{"drafted", t.speculation->drafted},
                                      {"accepted", t.speculation->accepted},
                                      {"draft_calls", t.speculation->draft_calls},
                                      {"draft_ms", t.speculation->draft_ms}};
    }
    return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

ResultRecord parse_result_line(const std::string& line, const std::string& where) {
    using namespace records_detail;
    const json j = parse_line(line, where);
    const Fields f(j, where, "");
    const int schema = check_schema(f);
    ResultRecord r;
    r.example_id = f.str("example_id");
    if (r.example_id.empty()) f.bad("example_id", "must not be empty");
    r.file = {f.str("file"), f.str("file_absolute")};
    r.domain = f.str("domain");
    r.split = f.str("split");
    r.condition = f.str("condition");
    if (r.condition.empty()) f.bad("condition", "must not be empty");
    r.naive = f.boolean("naive");
    r.ok = f.one_of("status", {"ok", "error"}) == "ok";
    r.model = read_model(f.object("model"));
    r.config = read_run_config(f.object("config"), schema);
    r.versions = read_versions(f.object("versions"));
    r.finished_at = f.str("finished_at");
    if (f.has("clustering")) r.clustering = read_clustering(f.object("clustering"));
    if (!r.ok) {
        r.error = f.str("error");
        return r;
    }
    if (schema >= 3) r.together_with = f.strings("together_with");  // else alone: 1, 2 ran so
    const json& outputs = f.array("outputs");
    // A control (no_conversation) generates no outputs, only answers.
    if (outputs.empty() && !is_control_condition(r.condition)) {
        f.bad("outputs", "a successful record has at least one output");
    }
    for (size_t i = 0; i < outputs.size(); ++i) {
        r.outputs.push_back(read_output(f.element("outputs", i), schema));
    }
    const json& answers = f.array("answers");
    for (size_t i = 0; i < answers.size(); ++i) {
        r.answers.push_back(read_answer(f.element("answers", i)));
    }
    if (schema < 2 || !is_null(f, "kv")) {
        const Fields kv = f.object("kv");
        KvRecord k;
        k.peak_bytes = kv.count("peak_bytes");
        k.peak_cells_full = kv.integer("peak_cells_full", 0);
        k.peak_cells_swa = kv.integer("peak_cells_swa", 0);
        k.allocated_bytes = kv.count("allocated_bytes");
        k.sessions = static_cast<int32_t>(kv.integer("sessions", 0, INT32_MAX));
        k.layout = kv.one_of("layout", {"unified", "per_sequence"});
        k.weights_bytes = kv.count("weights_bytes");
        k.separate_instances_bytes = kv.count("separate_instances_bytes");
        r.kv = k;
    }
    const Fields t = f.object("timing");
    r.timing.total_ms = t.num("total_ms", 0);
    r.timing.prefill_ms = t.num("prefill_ms", 0);
    r.timing.decode_ms = t.num("decode_ms", 0);
    r.timing.decode_calls = static_cast<int32_t>(t.integer("decode_calls", 0, INT32_MAX));
    r.timing.prefill_tokens = t.integer("prefill_tokens", 0);
    r.timing.questions_ms = t.num("questions_ms", 0);
    if (schema >= 2 && t.has("cached_prompt_tokens") && !is_null(t, "cached_prompt_tokens")) {
        r.timing.cached_prompt_tokens = t.integer("cached_prompt_tokens", 0);
    }
    if (schema >= 2 && t.has("speculation") && !is_null(t, "speculation")) {
        const Fields sp = t.object("speculation");
        SpeculationRecord s;
        s.drafted = sp.integer("drafted", 0);
        s.accepted = sp.integer("accepted", 0, s.drafted);
        s.draft_calls = static_cast<int32_t>(sp.integer("draft_calls", 0, INT32_MAX));
        s.draft_ms = sp.num("draft_ms", 0);
        r.timing.speculation = s;
    }
    return r;
}

ResultsLog read_results(const std::filesystem::path& file) {
    const JsonlContent content = read_jsonl(file);
    ResultsLog log;
    log.file = file;
    log.torn_tail = content.torn_tail;
    const std::string name = printable_path(file);
    for (const JsonlLine& l : content.lines) {
        log.records.push_back(parse_result_line(l.text, name + ":" + std::to_string(l.number)));
        log.line_numbers.push_back(l.number);
    }
    return log;
}

std::vector<const ResultRecord*> current_records(const ResultsLog& log) {
    struct Slot {
        size_t first_seen = 0;
        int64_t ok_index = -1, last_failure = -1;
    };
    std::map<std::tuple<std::string, std::string, bool>, Slot> pairs;
    std::vector<std::tuple<std::string, std::string, bool>> order;
    for (size_t i = 0; i < log.records.size(); ++i) {
        const ResultRecord& r = log.records[i];
        const auto key = std::make_tuple(r.example_id, r.condition, r.naive);
        auto [it, fresh] = pairs.try_emplace(key);
        if (fresh) {
            it->second.first_seen = i;
            order.push_back(key);
        }
        Slot& s = it->second;
        if (!r.ok) {
            s.last_failure = static_cast<int64_t>(i);
            continue;
        }
        if (s.ok_index >= 0) {
            throw Error(ErrorCode::corrupt_file,
                        printable_path(log.file) + ":" + std::to_string(log.line_numbers[i]) +
                            ": /example_id: pair (" + r.example_id + ", " + r.condition +
                            (r.naive ? ", naive" : "") + ") already succeeded on line " +
                            std::to_string(log.line_numbers[static_cast<size_t>(s.ok_index)]) +
                            " (two writers on one directory?); keep one of the two lines");
        }
        s.ok_index = static_cast<int64_t>(i);
    }
    std::vector<const ResultRecord*> out;
    for (const auto& key : order) {
        const Slot& s = pairs.at(key);
        const int64_t i = s.ok_index >= 0 ? s.ok_index : s.last_failure;
        out.push_back(&log.records[static_cast<size_t>(i)]);
    }
    return out;
}

}  // namespace rdic
