#include "rdic/records/metric_record.h"

#include <map>

#include "json_fields.h"
#include "rdic/records/files.h"
#include "rdic/records/metric_json.h"
#include "record_json.h"

namespace rdic {

using records_detail::Fields;
using records_detail::json;

namespace {

const std::vector<std::string> kSets = {"contamination/v1", "similarity/v1", "embedding/v1",
                                        "judge/v1", "questions/v1"};

// "topic" for "topic.chrf": the record kind a catalog row applies to.
bool applies_to(const MetricDef& m, const std::string& kind) {
    const std::string id = m.id;
    return id.size() > kind.size() && id.compare(0, kind.size(), kind) == 0 &&
           id[kind.size()] == '.';
}

std::string model_text(const Fields& m) {
    return m.str("file") + " (sha256 " + m.str("sha256_prefix") + "...)";
}

}  // namespace

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
    for (const MetricDef& m : metric_catalog()) {
        if (r.set != m.set || !applies_to(m, r.kind)) continue;
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
        if (m.take == MetricTake::none || m.label[0] == '\0') continue;
        if (m.only_if[0] != '\0' && !f.boolean(m.only_if)) continue;
        r.values.emplace_back(m.id, v);
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
