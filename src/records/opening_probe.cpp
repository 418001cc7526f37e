// The reader of opening probe files (include/rdic/records/opening_probe.h).
#include "rdic/records/opening_probe.h"

#include <cmath>

#include "json_fields.h"
#include "rdic/error.h"
#include "rdic/printable.h"

namespace rdic {

using namespace records_detail;

OpeningProbe read_opening_probe(const std::filesystem::path& file) {
    const json j = read_json_file(file, "an opening probe file");
    const std::string where = printable_path(file);
    const Fields f(j, where, "");
    OpeningProbe p;
    p.file = where;
    if (f.str("format") != kOpeningProbeFormat) {
        f.bad("format",
              "must be \"" + std::string(kOpeningProbeFormat) + "\", is " + f.at("format").dump());
    }
    const Fields m = f.object("model");
    p.model_name = m.str("name");
    p.model_description = m.str("description");
    p.model_n_params = m.count("n_params");
    p.n_embd = static_cast<int32_t>(m.integer("n_embd", 1, 1 << 20));
    const Fields e = f.object("embedding");
    p.pooling = e.one_of("pooling", {"last"});
    p.embedding_template = e.str("template");
    if (p.embedding_template.find("{text}") == std::string::npos) {
        e.bad("template", "must contain {text}");
    }
    p.threshold = f.num("threshold", 0, 1);
    if (p.threshold <= 0 || p.threshold >= 1) f.bad("threshold", "must be in (0, 1)");
    p.bias = f.num("bias");
    const json& w = f.array("weights");
    if (w.size() != static_cast<size_t>(p.n_embd)) {
        f.bad("weights", "must hold model.n_embd = " + std::to_string(p.n_embd) +
                             " numbers, holds " + std::to_string(w.size()));
    }
    p.weights.reserve(w.size());
    for (size_t i = 0; i < w.size(); ++i) {
        if (!w[i].is_number() || !std::isfinite(w[i].get<double>())) {
            fail(where, "/weights/" + std::to_string(i),
                 "must be a finite number, is " + w[i].dump());
        }
        p.weights.push_back(w[i].get<double>());
    }
    if (f.has("context")) {
        const Fields c = f.object("context");
        p.has_context = true;
        p.weight_max_cosine = c.num("max_cosine");
        p.weight_previous_cosine = c.num("previous_cosine");
    }
    const Fields t = f.object("training");
    p.training_data = t.str("data");
    p.training_examples = static_cast<int64_t>(t.count("examples"));
    p.training_turns = static_cast<int64_t>(t.count("turns"));
    p.training_openings = static_cast<int64_t>(t.count("openings"));
    p.training_lambda = t.num("lambda", 0);
    return p;
}

double opening_probability(const OpeningProbe& probe, const std::vector<float>& v,
                           double max_cosine, double previous_cosine) {
    if (v.size() != probe.weights.size()) {
        throw Error(ErrorCode::invalid_argument,
                    probe.file + ": the probe has " + std::to_string(probe.weights.size()) +
                        " weights, the vector " + std::to_string(v.size()) + " elements");
    }
    double z = probe.bias;
    if (probe.has_context) {
        z += probe.weight_max_cosine * max_cosine + probe.weight_previous_cosine * previous_cosine;
    }
    for (size_t i = 0; i < v.size(); ++i) z += probe.weights[i] * static_cast<double>(v[i]);
    return 1 / (1 + std::exp(-z));
}

}  // namespace rdic
