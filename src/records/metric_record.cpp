#include "rdic/records/metric_record.h"

#include <set>
#include <sstream>

#include "json_fields.h"
#include "rdic/records/files.h"
#include "rdic/records/metric_json.h"
#include "record_json.h"

namespace rdic {

using records_detail::Fields;
using records_detail::json;

namespace {

constexpr double kInf = 1e300;
constexpr const char* kOutputs = "topic,synthesis";

const std::vector<MetricField> kFields = {
    // contamination/v1: every output (and the copy control's texts).
    {"contamination/v1", "n_words", kOutputs, true, MetricTake::value, 0, kInf, "n_words", ""},
    {"contamination/v1", "hit_token_limit", kOutputs, true, MetricTake::flag, 0, 1,
     "hit_token_limit", ""},
    {"contamination/v1", "prompt_copy_share", kOutputs, false, MetricTake::value, 0, 1,
     "copy_share", ""},
    {"contamination/v1", "foreign_per_100_words", "topic", true, MetricTake::value, 0, kInf,
     "foreign_per_100_words", ""},
    {"contamination/v1", "foreign_share", "topic", true, MetricTake::value, 0, 1, "foreign_share",
     ""},
    {"contamination/v1", "leaked_canaries", "topic", true, MetricTake::count, 0, 0,
     "leaked_canaries", ""},
    {"contamination/v1", "leaked_canaries", "topic", true, MetricTake::nonempty, 0, 0,
     "leaking_output", ""},
    {"contamination/v1", "own_term_coverage", "topic", true, MetricTake::value, 0, 1,
     "own_term_coverage", ""},
    {"contamination/v1", "topic_term_coverage", "synthesis", true, MetricTake::mean, 0, 1,
     "term_coverage", ""},
    {"contamination/v1", "topic_canary_coverage", "synthesis", true, MetricTake::mean, 0, 1,
     "canary_coverage", ""},
    // similarity/v1: outputs whose cluster has a reference.
    {"similarity/v1", "rouge1", kOutputs, true, MetricTake::value, 0, 1, "rouge1", ""},
    {"similarity/v1", "rouge2", kOutputs, true, MetricTake::value, 0, 1, "rouge2", ""},
    {"similarity/v1", "rougeL", kOutputs, true, MetricTake::value, 0, 1, "rougeL", ""},
    {"similarity/v1", "bleu", kOutputs, true, MetricTake::value, 0, 100, "bleu", ""},
    {"similarity/v1", "chrf", kOutputs, true, MetricTake::value, 0, 100, "chrf", ""},
    // embedding/v1
    {"embedding/v1", "cosine", kOutputs, true, MetricTake::value, -1, 1, "embed_cosine", ""},
    // judge/v1: scores 1-5 (0: the judge gave none), expectations over the judge's distribution.
    {"judge/v1", "relevance", kOutputs, true, MetricTake::value, 0, 5, "judge_relevance", ""},
    {"judge/v1", "coherence", kOutputs, true, MetricTake::value, 0, 5, "judge_coherence", ""},
    {"judge/v1", "focus", "topic", false, MetricTake::value, 0, 5, "judge_focus", ""},
    {"judge/v1", "integration", "synthesis", false, MetricTake::value, 0, 5, "judge_integration",
     ""},
    {"judge/v1", "expected_relevance", kOutputs, false, MetricTake::value, 0, 5,
     "judge_expected_relevance", ""},
    {"judge/v1", "expected_coherence", kOutputs, false, MetricTake::value, 0, 5,
     "judge_expected_coherence", ""},
    {"judge/v1", "expected_focus", "topic", false, MetricTake::value, 0, 5, "judge_expected_focus",
     ""},
    {"judge/v1", "expected_integration", "synthesis", false, MetricTake::value, 0, 5,
     "judge_expected_integration", ""},
    // questions/v1: one record per reply to a fact question.
    {"questions/v1", "correct", "question,cross", true, MetricTake::flag, 0, 1, "correct", ""},
    {"questions/v1", "abstained", "question", true, MetricTake::flag, 0, 1, "abstained", ""},
    {"questions/v1", "has_lure", "question", true, MetricTake::none, 0, 1, "", ""},
    {"questions/v1", "lure", "question", true, MetricTake::flag, 0, 1, "lure", "has_lure"},
};

const std::vector<std::string> kSets = {"contamination/v1", "similarity/v1", "embedding/v1",
                                        "judge/v1", "questions/v1"};

bool has_kind(const char* kinds, const std::string& kind) {
    std::stringstream ss(kinds);
    std::string k;
    while (std::getline(ss, k, ',')) {
        if (k == kind) return true;
    }
    return false;
}

std::string model_text(const Fields& m) {
    return m.str("file") + " (sha256 " + m.str("sha256_prefix") + "...)";
}

}  // namespace

const std::vector<MetricField>& metric_fields() {
    return kFields;
}

const std::vector<std::string>& metric_sets() {
    return kSets;
}

std::string metric_key(const std::string& set, const std::string& example_id,
                       const std::string& condition, bool naive, const std::string& item) {
    return set + "|" + example_id + "|" + condition + "|" + (naive ? "naive|" : "") + item;
}

std::string MetricRecord::key() const {
    return metric_key(set, example_id, condition, naive, item);
}

MetricRecord parse_metric_line(const std::string& line, const std::string& where) {
    using namespace records_detail;
    const json j = parse_line(line, where);
    const Fields f(j, where, "");
    (void)check_schema(f);
    MetricRecord r;
    r.set = f.str("metric_set");
    bool known = false;
    for (const std::string& s : kSets) known = known || s == r.set;
    if (!known) {
        std::string list;
        for (const std::string& s : kSets) list += (list.empty() ? "" : ", ") + s;
        f.bad("metric_set", "unknown metric set \"" + r.set + "\" (known: " + list + ")");
    }
    r.example_id = f.str("example_id");
    r.condition = f.str("condition");
    r.naive = f.boolean("naive");
    const bool question = r.set == "questions/v1";
    r.kind = question ? f.one_of("kind", {"question", "cross"})
                      : f.one_of("kind", {"topic", "synthesis"});
    r.item = question ? f.str("question") : f.str("cluster");
    for (const MetricField& m : kFields) {
        if (r.set != m.set || !has_kind(m.kinds, r.kind)) continue;
        if (!f.has(m.field)) {
            if (m.required) f.at(m.field);  // throws: missing
            continue;
        }
        double v = 0;
        switch (m.take) {
            case MetricTake::value:
            case MetricTake::none:
                if (f.at(m.field).is_boolean()) {
                    v = f.boolean(m.field) ? 1 : 0;
                } else {
                    v = f.num(m.field, m.lo, m.hi);
                }
                break;
            case MetricTake::flag:
                v = f.boolean(m.field) ? 1 : 0;
                break;
            case MetricTake::count:
            case MetricTake::nonempty: {
                const size_t n = f.strings(m.field).size();
                v = m.take == MetricTake::count ? static_cast<double>(n) : (n > 0 ? 1 : 0);
                break;
            }
            case MetricTake::mean: {
                const auto values = f.number_map(m.field, m.lo, m.hi);
                if (values.empty()) continue;
                double sum = 0;
                for (const auto& [k, x] : values) sum += x;
                v = sum / static_cast<double>(values.size());
                break;
            }
        }
        if (m.take == MetricTake::none || m.metric[0] == '\0') continue;
        if (m.only_if[0] != '\0' && !f.boolean(m.only_if)) continue;
        r.values.emplace_back(r.kind + "." + m.metric, v);
    }
    if (r.set == "embedding/v1") {
        r.provenance_key = "embedding model";
        r.provenance = model_text(f.object("embed_model"));
    } else if (r.set == "judge/v1") {
        r.provenance_key = "judge model";
        r.provenance = model_text(f.object("judge_model")) + ", prompt " + f.str("prompt_version") +
                       ", presentation seed " + std::to_string(f.integer("presentation_seed", 0));
    }
    return r;
}

MetricsLog read_metrics(const std::filesystem::path& file) {
    MetricsLog log;
    std::error_code ec;
    if (!std::filesystem::exists(file, ec) && !std::filesystem::is_symlink(file, ec)) return log;
    const JsonlContent content = read_jsonl(file);
    log.torn_tail = content.torn_tail;
    const std::string name = printable_path(file);
    std::map<std::string, int64_t> seen;
    for (const JsonlLine& l : content.lines) {
        const std::string where = name + ":" + std::to_string(l.number);
        MetricRecord r = parse_metric_line(l.text, where);
        const auto [it, fresh] = seen.emplace(r.key(), l.number);
        if (!fresh) {
            records_detail::fail(where, "/metric_set",
                                 "record " + r.key() + " is already on line " +
                                     std::to_string(it->second) +
                                     " (two writers on one directory?); keep one of the two");
        }
        log.records.push_back(std::move(r));
    }
    return log;
}

std::string metric_line(nlohmann::json record) {
    record["schema"] = kRecordSchemaVersion;
    std::string line = record.dump(-1, ' ', false, json::error_handler_t::replace);
    try {
        parse_metric_line(line, "metric record being written");
    } catch (const Error& e) {
        throw Error(ErrorCode::invalid_argument, e.what());
    }
    return line;
}

}  // namespace rdic
