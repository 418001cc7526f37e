#include "rdic/records/run_config.h"

#include <fstream>
#include <set>
#include <sstream>

#include "json_fields.h"
#include "rdic/build_info.h"
#include "rdic/records/files.h"
#include "record_json.h"

namespace rdic {

namespace fs = std::filesystem;
using records_detail::Fields;
using records_detail::json;

Versions current_versions() {
    return {build_info::kVersion, build_info::kLlamaCppPinnedCommit,
            build_info::kLlamaCppPythonVersion};
}

DataFile data_file_for(const fs::path& dir, const fs::path& file) {
    const fs::path abs = fs::absolute(file).lexically_normal();
    const fs::path rel = abs.lexically_relative(fs::absolute(dir).lexically_normal());
    return {rel.empty() ? abs.string() : rel.string(), abs.string()};
}

fs::path resolve_data_file(const fs::path& dir, const DataFile& file) {
    std::error_code ec;
    const fs::path rel =
        fs::path(file.relative).is_absolute() ? fs::path(file.relative) : dir / file.relative;
    if (fs::exists(rel, ec)) return rel;
    return file.absolute;
}

namespace records_detail {

json config_json(const RunConfig& c) {
    return {{"conditions", c.conditions},
            {"max_tokens", c.max_tokens},
            {"temperature", c.sampling.temperature},
            {"top_k", c.sampling.top_k},
            {"top_p", c.sampling.top_p},
            {"min_p", c.sampling.min_p},
            {"seed", c.sampling.seed},
            {"system_prompt", c.system_prompt},
            {"seed_compat", c.seed_compat},
            {"question_wording", c.question_wording},
            {"questions", c.questions},
            {"answer_tokens", c.answer_tokens},
            {"naive", c.naive},
            {"kv_layout", c.kv_layout},
            {"clusters", c.clusters},
            {"cluster_parameters", c.cluster_parameters},
            {"backend", c.backend},
            {"together", c.together},
            {"device", c.device},
            {"draft", c.draft},
            {"draft_max", c.draft_max}};
}

RunConfig read_run_config(const Fields& f, int schema) {
    RunConfig c;
    c.conditions = f.strings("conditions");
    c.max_tokens = static_cast<int32_t>(f.integer("max_tokens", 1, 1 << 20));
    c.sampling.temperature = f.num("temperature", 0, 1e6);
    c.sampling.top_k = static_cast<int32_t>(f.integer("top_k", 0, INT32_MAX));
    c.sampling.top_p = f.num("top_p", 0, 1);
    c.sampling.min_p = f.num("min_p", 0, 1);
    c.sampling.seed = static_cast<uint32_t>(f.integer("seed", 0, UINT32_MAX));
    c.system_prompt = f.str("system_prompt");
    c.seed_compat = f.boolean("seed_compat");
    c.question_wording = f.one_of("question_wording", {"value-only", "value-or-unknown"});
    c.questions = f.boolean("questions");
    c.answer_tokens = static_cast<int32_t>(f.integer("answer_tokens", 0, 1 << 20));
    c.naive = f.boolean("naive");
    c.kv_layout = f.one_of("kv_layout", {"auto", "unified", "per_sequence"});
    c.clusters = f.str("clusters");
    c.cluster_parameters = f.string_map("cluster_parameters");
    c.backend = schema >= 2 ? f.str("backend") : "in-process";
    if (c.backend.empty()) f.bad("backend", "must not be empty (\"in-process\" or a URL)");
    c.together = schema >= 3 ? f.boolean("together") : false;  // see kRecordSchemaVersion
    if (f.has("device")) c.device = f.str("device");           // optional: see kRecordSchemaVersion
    if (f.has("draft")) c.draft = f.str("draft");
    if (f.has("draft_max")) c.draft_max = static_cast<int32_t>(f.integer("draft_max", 0, 1 << 20));
    return c;
}

json model_json(const ModelIdentity& m) {
    return {{"file", m.file},
            {"path", m.path},
            {"bytes", m.bytes},
            {"sha256_prefix", m.sha256_prefix},
            {"architecture", m.architecture},
            {"name", m.name}};
}

ModelIdentity read_model(const Fields& f) {
    ModelIdentity m;
    m.file = f.str("file");
    m.path = f.str("path");
    m.bytes = f.count("bytes");
    m.sha256_prefix = f.str("sha256_prefix");
    m.architecture = f.str("architecture");
    m.name = f.str("name");
    return m;
}

json versions_json(const Versions& v) {
    return {{"rdic", v.rdic},
            {"llama_cpp_pinned", v.llama_cpp_pinned},
            {"llama_cpp_python", v.llama_cpp_python}};
}

Versions read_versions(const Fields& f) {
    return {f.str("rdic"), f.str("llama_cpp_pinned"), f.str("llama_cpp_python")};
}

int check_schema(const Fields& f) {
    const int64_t v = f.integer("schema");
    if (v < kOldestRecordSchemaVersion || v > kRecordSchemaVersion) {
        f.bad("schema", "version " + std::to_string(v) + " is not supported (this rdic reads " +
                            std::to_string(kOldestRecordSchemaVersion) + " to " +
                            std::to_string(kRecordSchemaVersion) + ")");
    }
    return static_cast<int>(v);
}

}  // namespace records_detail

using namespace records_detail;

std::string config_to_text(const ConfigRecord& c) {
    json data = json::array();
    for (const DataFile& d : c.data)
        data.push_back({{"relative", d.relative}, {"absolute", d.absolute}});
    const json j = {{"schema", kRecordSchemaVersion},
                    {"config", config_json(c.config)},
                    {"model", model_json(c.model)},
                    {"versions", versions_json(c.versions)},
                    {"data", data}};
    return j.dump(2, ' ', false, json::error_handler_t::replace) + "\n";
}

ConfigRecord read_config(const fs::path& file) {
    const json j = read_json_file(file, "a results directory of `rdic run` holds config.json");
    const std::string where = printable_path(file);
    const Fields f(j, where, "");
    const int schema = check_schema(f);
    ConfigRecord c;
    c.config = read_run_config(f.object("config"), schema);
    c.model = read_model(f.object("model"));
    c.versions = read_versions(f.object("versions"));
    const json& data = f.array("data");
    for (size_t i = 0; i < data.size(); ++i) {
        const Fields d = f.element("data", i);
        c.data.push_back({d.str("relative"), d.str("absolute")});
    }
    return c;
}

std::vector<std::string> setting_differences(const RunConfig& a, const ModelIdentity& ma,
                                             const RunConfig& b, const ModelIdentity& mb,
                                             bool with_seed, bool with_conditions) {
    std::vector<std::string> out;
    auto differ = [&](const std::string& what, const auto& x, const auto& y) {
        if (x == y) return;
        std::ostringstream s;
        s << what << ": " << x << " vs " << y;
        out.push_back(s.str());
    };
    if (ma.sha256_prefix != mb.sha256_prefix || ma.file != mb.file) {
        out.push_back("model: " + ma.file + " (sha256 " + ma.sha256_prefix + ") vs " + mb.file +
                      " (sha256 " + mb.sha256_prefix + ")");
    }
    differ("max_tokens", a.max_tokens, b.max_tokens);
    differ("temperature", a.sampling.temperature, b.sampling.temperature);
    differ("top_k", a.sampling.top_k, b.sampling.top_k);
    differ("top_p", a.sampling.top_p, b.sampling.top_p);
    differ("min_p", a.sampling.min_p, b.sampling.min_p);
    if (with_seed) differ("seed", a.sampling.seed, b.sampling.seed);
    differ("system_prompt", "\"" + a.system_prompt + "\"", "\"" + b.system_prompt + "\"");
    differ("seed_compat", a.seed_compat, b.seed_compat);
    differ("question_wording", a.question_wording, b.question_wording);
    differ("questions", a.questions, b.questions);
    differ("answer_tokens", a.answer_tokens, b.answer_tokens);
    differ("naive", a.naive, b.naive);
    differ("backend", a.backend, b.backend);
    differ("together", a.together, b.together);
    if (!a.device.empty() && !b.device.empty()) {
        differ("device", "\"" + a.device + "\"", "\"" + b.device + "\"");
    }
    differ("kv_layout", a.kv_layout, b.kv_layout);
    differ("draft", "\"" + a.draft + "\"", "\"" + b.draft + "\"");
    differ("draft_max", a.draft_max, b.draft_max);
    differ("clusters", a.clusters, b.clusters);
    if (a.cluster_parameters != b.cluster_parameters) {
        out.push_back("cluster_parameters: " + json(a.cluster_parameters).dump() + " vs " +
                      json(b.cluster_parameters).dump());
    }
    if (with_conditions && a.conditions != b.conditions) {
        out.push_back("conditions: " + json(a.conditions).dump() + " vs " +
                      json(b.conditions).dump());
    }
    return out;
}

std::vector<std::string> resume_differences(const ConfigRecord& recorded, const ConfigRecord& now) {
    std::vector<std::string> diff =
        setting_differences(recorded.config, recorded.model, now.config, now.model, true, true);
    std::set<std::string> a, b;
    for (const DataFile& d : recorded.data) a.insert(d.absolute);
    for (const DataFile& d : now.data) b.insert(d.absolute);
    for (const std::string& f : a) {
        if (!b.count(f)) diff.push_back("data: " + printable_path(f) + " is not in this --data");
    }
    for (const std::string& f : b) {
        if (!a.count(f)) diff.push_back("data: " + printable_path(f) + " was not in the run");
    }
    return diff;
}

}  // namespace rdic
