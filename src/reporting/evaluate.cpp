#include "rdic/reporting/evaluate.h"

#include <cmath>
#include <functional>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <vector>

#include "rdic/datasets/example.h"
#include "rdic/engine/model.h"
#include "rdic/error.h"
#include "rdic/evaluation/contamination.h"
#include "rdic/evaluation/copy_control.h"
#include "rdic/evaluation/model_metrics.h"
#include "rdic/evaluation/questions.h"
#include "rdic/evaluation/similarity.h"
#include "rdic/evaluation/statistics.h"
#include "rdic/isolation/openai_client.h"
#include "rdic/isolation/openai_protocol.h"
#include "rdic/model_paths.h"
#include "rdic/records/files.h"
#include "rdic/records/metric_json.h"
#include "rdic/records/metric_record.h"
#include "rdic/records/result_record.h"
#include "rdic/records/run_config.h"
#include "rdic/sha256.h"

namespace rdic {

namespace {

using json = nlohmann::json;

struct OutputRef {
    std::string example_id, file, condition, cluster, text, stop_reason;
    bool naive = false;
    int64_t n_tokens = 0;
    const Example* example = nullptr;
    const Cluster* spec = nullptr;
    std::optional<double> prompt_copy_share;  // absent in records written before it existed
};

// A fact question's reply (dataset v2).
struct AnswerRef {
    std::string example_id, condition, question_id, text;
    bool naive = false;
    const Question* question = nullptr;
};

std::string key_of(const std::string& set, const AnswerRef& a) {
    return metric_key(set, a.example_id, a.condition, a.naive, a.question_id);
}

json question_record(const AnswerRef& a) {
    const AnswerOutcome outcome = score_answer(*a.question, a.text);
    return {{"metric_set", "questions/v1"},
            {"example_id", a.example_id},
            {"condition", a.condition},
            {"naive", a.naive},
            {"question", a.question_id},
            {"kind", a.question->kind == QuestionKind::topic ? "question" : "cross"},
            {"cluster", a.question->cluster},
            {"has_lure", !a.question->lures.empty()},
            {"outcome", std::string(to_string(outcome))},
            {"correct", outcome == AnswerOutcome::correct},
            {"lure", outcome == AnswerOutcome::lure || outcome == AnswerOutcome::mixed},
            {"abstained", outcome == AnswerOutcome::abstained}};
}

// The copy control's outputs for `outputs`: per (example, cluster) one copy_own and one copy_all
// text as long as the run's outputs of that cluster are on average (in words).
std::vector<OutputRef> copy_controls(const std::vector<OutputRef>& outputs) {
    std::map<std::pair<std::string, std::string>, std::pair<double, int>> words;
    std::map<std::pair<std::string, std::string>, const OutputRef*> first;
    for (const OutputRef& o : outputs) {
        if (o.naive || is_copy_control(o.condition)) continue;
        auto& w = words[{o.file, o.cluster}];
        w.first += static_cast<double>(count_words(o.text));
        w.second += 1;
        first.emplace(std::make_pair(o.file, o.cluster), &o);
    }
    std::vector<OutputRef> out;
    for (const auto& [key, w] : words) {
        const OutputRef& o = *first.at(key);
        const auto n = static_cast<int32_t>(w.first / w.second + 0.5);
        for (const auto& [cond, source] :
             {std::pair{kCopyOwnCondition, CopySource::own_turns},
              std::pair{kCopyAllCondition, CopySource::whole_conversation}}) {
            OutputRef c = o;
            c.condition = std::string(cond);
            c.text = copy_control_text(*o.example, o.cluster, source, n);
            c.stop_reason = "copy";
            c.n_tokens = 0;
            c.prompt_copy_share.reset();
            out.push_back(std::move(c));
        }
    }
    return out;
}

std::string key_of(const std::string& set, const OutputRef& o) {
    return metric_key(set, o.example_id, o.condition, o.naive, o.cluster);
}

json base_record(const char* set, const OutputRef& o) {
    return {{"metric_set", set},
            {"example_id", o.example_id},
            {"condition", o.condition},
            {"naive", o.naive},
            {"cluster", o.cluster},
            {"kind", o.spec->kind == ClusterKind::topic ? "topic" : "synthesis"}};
}

// metrics.jsonl: one record per line, counted per metric set.
class MetricsWriter {
public:
    explicit MetricsWriter(const std::filesystem::path& file) : lines_(file) {}
    void write(const json& record, std::map<std::string, int64_t>& counts) {
        lines_.append(metric_line(record));
        ++counts[record.at("metric_set").get<std::string>()];
    }

private:
    JsonlAppender lines_;
};

json contamination_record(const OutputRef& o) {
    const OutputMetrics m = evaluate_output(*o.example, o.cluster, o.text);
    json r = base_record("contamination/v1", o);
    r.update({{"n_words", m.n_words},
              {"n_tokens", o.n_tokens},
              {"hit_token_limit", o.stop_reason == "max_tokens"},
              {"own_hits", m.own_hits},
              {"foreign_hits", m.foreign_hits},
              {"foreign_per_100_words", m.foreign_per_100_words},
              {"foreign_share", m.foreign_share},
              {"own_term_coverage", m.own_term_coverage},
              {"foreign_hits_by_cluster", m.foreign_hits_by_cluster},
              {"leaked_canaries", m.leaked_canaries},
              {"own_canaries", m.own_canaries},
              {"topic_term_coverage", m.topic_term_coverage},
              {"topic_canary_coverage", m.topic_canary_coverage}});
    if (o.prompt_copy_share) r["prompt_copy_share"] = *o.prompt_copy_share;
    return r;
}

json similarity_record(const OutputRef& o) {
    const std::string& ref = o.spec->reference_output;
    const RougeScores r = rouge(o.text, ref);
    json rec = base_record("similarity/v1", o);
    rec.update({{"rouge1", r.rouge1.f1},
                {"rouge2", r.rouge2.f1},
                {"rougeL", r.rougeL.f1},
                {"bleu", sentence_bleu(o.text, ref)},
                {"chrf", sentence_chrf(o.text, ref)},
                {"bleu_signature", bleu_signature(BleuLevel::sentence)},
                {"chrf_signature", chrf_signature()}});
    return rec;
}

json model_identity(const Model& m) {
    return {{"file", m.info().path.filename().string()},
            {"sha256_prefix", sha256_file_hex(m.info().path).substr(0, 16)},
            {"name", m.info().name}};
}

// The run's generation model: config.json's path, else its file name in the model cache.
std::filesystem::path run_model_path(const std::filesystem::path& dir) {
    const ConfigRecord c = read_config(dir / "config.json");
    if (std::filesystem::exists(c.model.path)) return c.model.path;
    return model_cache_dir() / c.model.file;
}

std::shared_ptr<const Model> load(const std::string& flag, const std::filesystem::path& dir,
                                  const EvalOptions& o) {
    const std::filesystem::path p =
        flag.empty() ? run_model_path(dir) : std::filesystem::path(flag);
    return Model::load({.path = p, .n_gpu_layers = o.n_gpu_layers});
}

std::vector<std::string> names(const Example& ex, const std::vector<std::string>& ids) {
    std::vector<std::string> out;
    for (const std::string& id : ids) {
        const Cluster* c = ex.find(id);
        out.push_back(c != nullptr && !c->name.empty() ? c->name : id);
    }
    return out;
}

JudgeItem judge_item(const OutputRef& o) {
    const Example& ex = *o.example;
    JudgeItem item;
    item.task = o.spec->task;
    item.output = o.text;
    item.synthesis = o.spec->kind == ClusterKind::synthesis;
    if (item.synthesis) {
        item.inputs = names(ex, o.spec->depends_on);
    } else {
        item.topic = o.spec->name.empty() ? o.spec->id : o.spec->name;
        for (const Cluster* t : ex.topics()) {
            if (t->id != o.spec->id) item.other_topics.push_back(t->name.empty() ? t->id : t->name);
        }
    }
    return item;
}

}  // namespace

EvalSummary evaluate_results(const std::filesystem::path& dir, const EvalOptions& options) {
    EvalSummary summary;
    const ResultsLog log = read_results(dir / "results.jsonl");
    const std::string results = printable_path(log.file);
    summary.metrics_file = dir / "metrics.jsonl";

    std::set<std::string> have;
    for (const MetricRecord& m : read_metrics(summary.metrics_file).records) {
        have.insert(m.key());
        ++summary.records_present[m.set];
    }

    // Outputs of every pair's successful record (a failure later resumed counts as its success).
    std::map<std::string, Example> examples;  // by resolved path
    std::vector<OutputRef> outputs;
    std::vector<AnswerRef> answers;
    const std::vector<const ResultRecord*> current = current_records(log);
    for (size_t i = 0; i < current.size(); ++i) {
        const ResultRecord& r = *current[i];
        if (!r.ok) {
            ++summary.skipped_records;
            continue;
        }
        ++summary.ok_records;
        const std::string file = resolve_data_file(dir, r.file).string();
        auto it = examples.find(file);
        if (it == examples.end()) {
            LoadResult lr = load_example(file);
            if (!lr.example) {
                std::string why = lr.issues.empty() ? "" : ": " + lr.issues.front().message;
                std::cerr << "rdic: eval: " << results << ": example " << r.example_id
                          << ": /file: " << printable_path(r.file.relative) << " (or "
                          << printable_path(r.file.absolute) << ") cannot be read" << why << "\n";
                ++summary.unreadable_records;
                continue;
            }
            it = examples.emplace(file, std::move(*lr.example)).first;
        }
        for (const OutputRecord& jo : r.outputs) {
            OutputRef o{.example_id = r.example_id,
                        .file = file,
                        .condition = r.condition,
                        .cluster = jo.cluster,
                        .text = jo.text,
                        .stop_reason = jo.stop_reason,
                        .naive = r.naive,
                        .n_tokens = jo.n_tokens,
                        .example = &it->second,
                        .spec = it->second.find(jo.cluster),
                        .prompt_copy_share = jo.prompt_copy_share};
            if (o.spec == nullptr) {
                // A discovered cluster (`rdic run --clusters`) that matched no labelled one has
                // no terms or reference to score against.
                ++summary.unlabelled_outputs;
                continue;
            }
            outputs.push_back(std::move(o));
        }
        for (const AnswerRecord& ja : r.answers) {
            AnswerRef a{.example_id = r.example_id,
                        .condition = r.condition,
                        .question_id = ja.question,
                        .text = ja.text,
                        .naive = r.naive,
                        .question = nullptr};
            for (const Question& q : it->second.questions) {
                if (q.id == a.question_id) a.question = &q;
            }
            if (a.question == nullptr) {
                std::cerr << "rdic: eval: " << results << ": example " << r.example_id
                          << ": /answers: question '" << a.question_id << "' is not in "
                          << printable_path(file) << "\n";
                ++summary.unreadable_records;
                continue;
            }
            answers.push_back(std::move(a));
        }
    }
    const std::vector<OutputRef> controls = copy_controls(outputs);
    summary.outputs = static_cast<int64_t>(outputs.size());
    if (summary.unlabelled_outputs > 0) {
        std::cerr << "rdic: eval: " << summary.unlabelled_outputs
                  << " outputs of discovered clusters that match no labelled cluster are not "
                     "scored\n";
    }
    MetricsWriter writer(summary.metrics_file);
    auto& written = summary.records_written;

    // Fact questions: scored against accepted answers and lures (no model).
    for (const AnswerRef& a : answers) {
        if (!have.count(key_of("questions/v1", a))) writer.write(question_record(a), written);
    }

    // Text metrics: cheap, every output and the copy control's texts.
    std::vector<const OutputRef*> text_scored;
    for (const OutputRef& o : outputs) text_scored.push_back(&o);
    for (const OutputRef& o : controls) text_scored.push_back(&o);
    for (const OutputRef* po : text_scored) {
        const OutputRef& o = *po;
        if (!have.count(key_of("contamination/v1", o))) {
            writer.write(contamination_record(o), written);
        }
        if (!o.spec->reference_output.empty() && !have.count(key_of("similarity/v1", o))) {
            writer.write(similarity_record(o), written);
        }
    }

    // Embedding similarity to the reference (outputs of clusters that have one).
    if (options.embeddings) {
        std::vector<const OutputRef*> todo;
        for (const OutputRef& o : outputs) {
            if (!o.spec->reference_output.empty() && !have.count(key_of("embedding/v1", o))) {
                todo.push_back(&o);
            }
        }
        if (!todo.empty()) {
            std::function<std::vector<float>(const std::string&)> embed;
            json identity;
            std::unique_ptr<Embedder> local;
            std::unique_ptr<OpenAiClient> remote;
            if (options.embed_url.empty()) {
                const auto model = load(options.embed_model, dir, options);
                identity = model_identity(*model);
                local = std::make_unique<Embedder>(model,
                                                   EmbedderOptions{.n_threads = options.n_threads});
                embed = [&](const std::string& t) { return local->embed(t); };
            } else {
                const BackendUrl url =
                    parse_backend_url(options.embed_url, "--embed-url", "--embed-key-file");
                remote = std::make_unique<OpenAiClient>(
                    url, OpenAiClientOptions{
                             .api_key = options.embed_api_key, .timeout_s = 120, .retry = {}});
                const std::string served =
                    options.embed_served_model.empty() ? "default" : options.embed_served_model;
                identity = {{"file", served + " at " + url.text()},
                            {"name", served},
                            {"sha256_prefix", "remote"}};
                embed = [&, url, served](const std::string& t) {
                    std::vector<float> v = parse_embedding_reply(
                        remote->request(url.embeddings_path(), embedding_body(served, t)),
                        url.text_without_path() + url.embeddings_path());
                    // L2-normalised as the in-process Embedder's vectors.
                    double n2 = 0;
                    for (float x : v) n2 += static_cast<double>(x) * x;
                    const double n = std::sqrt(n2);
                    if (n > 0) {
                        for (float& x : v) x = static_cast<float>(x / n);
                    }
                    return v;
                };
            }
            std::map<std::string, std::vector<float>> reference;  // file|cluster -> embedding
            if (options.progress) {
                std::cerr << "rdic: eval: embedding " << todo.size() << " outputs with "
                          << identity.value("file", "") << "\n";
            }
            for (const OutputRef* o : todo) {
                const std::string rk = o->file + "|" + o->cluster;
                if (!reference.count(rk)) reference[rk] = embed(o->spec->reference_output);
                json rec = base_record("embedding/v1", *o);
                rec["cosine"] = cosine(embed(o->text), reference[rk]);
                rec["embed_model"] = identity;
                rec["pooling"] = options.embed_url.empty() ? "mean" : "server";
                writer.write(rec, written);
            }
        }
    }

    // LLM judge: blind, outputs of all conditions in one seeded random order.
    if (options.judge) {
        std::vector<const OutputRef*> todo;
        for (const OutputRef& o : outputs) {
            if (!have.count(key_of("judge/v1", o))) todo.push_back(&o);
        }
        SplitMix64 rng(options.judge_seed);
        for (size_t i = todo.size(); i > 1; --i) {
            std::swap(todo[i - 1], todo[static_cast<size_t>(rng.next() % i)]);
        }
        if (!todo.empty()) {
            // The larger instruct model judges when it is installed (a model should not grade
            // its own outputs when a better one is at hand); else the run's model, and the
            // report's degenerate-judge rule says whether its scores carry information.
            std::string judge_path = options.judge_model;
            if (judge_path.empty()) judge_path = large_model_if_installed().string();
            const auto model = load(judge_path, dir, options);
            json identity = model_identity(*model);
            JudgeOptions jo;
            jo.batch = options.judge_batch;
            jo.n_threads = options.n_threads;
            jo.remote_url = options.judge_url;
            jo.remote_api_key = options.judge_api_key;
            jo.remote_model = options.judge_served_model;
            if (!options.judge_url.empty()) {
                const std::string served = options.judge_served_model.empty()
                                               ? model->info().path.filename().string()
                                               : options.judge_served_model;
                identity = {{"file", served + " at " +
                                         parse_backend_url(options.judge_url, "--judge-url",
                                                           "--judge-key-file")
                                             .text()},
                            {"name", served},
                            {"sha256_prefix", "remote"}};
            }
            Judge judge(model, jo);
            const auto batch = static_cast<size_t>(options.judge_batch);
            for (size_t b = 0; b < todo.size(); b += batch) {
                if (options.progress) {
                    std::cerr << "rdic: eval: judge " << b << "/" << todo.size() << " ("
                              << identity.value("file", "") << ")\n";
                }
                std::vector<JudgeItem> items;
                for (size_t i = b; i < std::min(todo.size(), b + batch); ++i) {
                    items.push_back(judge_item(*todo[i]));
                }
                const auto scores = judge.score(items);
                for (size_t i = 0; i < scores.size(); ++i) {
                    const JudgeScores& s = scores[i];
                    json rec = base_record("judge/v1", *todo[b + i]);
                    rec["relevance"] = s.relevance;
                    rec["coherence"] = s.coherence;
                    rec["expected_relevance"] = s.expected_relevance;
                    rec["expected_coherence"] = s.expected_coherence;
                    if (s.focus > 0) {
                        rec["focus"] = s.focus;
                        rec["expected_focus"] = s.expected_focus;
                    }
                    if (s.integration > 0) {
                        rec["integration"] = s.integration;
                        rec["expected_integration"] = s.expected_integration;
                    }
                    rec["decoder"] = options.judge_url.empty() ? "template" : "gbnf-remote";
                    rec["raw"] = s.raw;
                    rec["output_truncated"] = s.output_truncated;
                    rec["presentation_index"] = b + i;
                    rec["presentation_seed"] = options.judge_seed;
                    rec["judge_model"] = identity;
                    rec["prompt_version"] = kJudgePromptVersion;
                    writer.write(rec, written);
                }
            }
        }
    }
    return summary;
}

}  // namespace rdic
