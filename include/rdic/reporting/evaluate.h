// `rdic eval`: metrics of every output of a results directory, without regenerating anything.
//
//   rdic::EvalOptions o;                 // judge and embeddings on, with the run's own model
//   rdic::EvalSummary s = rdic::evaluate_results("results/2026-11-26-0300", o);
//
// Reads DIR/results.jsonl (and DIR/config.json for the generation model) and appends one JSON
// record per (metric set, example, condition, output) to DIR/metrics.jsonl:
//   contamination/v1  foreign terms, canary leaks, own-term and synthesis coverage, length
//   similarity/v1     ROUGE-1/2/L F1, BLEU, chrF against the cluster's reference output
//   embedding/v1      cosine similarity of output and reference embeddings (+ embedding model)
//   judge/v1          LLM judge scores 1-5 (+ judge model, prompt version, presentation order)
//   questions/v1      fact questions (dataset v2): correct, lure, abstained per reply
// Outputs are also scored for the copy control (contamination and similarity of copy_own and
// copy_all texts, rdic/evaluation/copy_control.h) as pseudo-conditions.
// Records already present are not computed again, so an interrupted eval resumes where it
// stopped, and a later eval with a judge adds judge records to an earlier one's. Records are
// flushed as they are produced.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>

namespace rdic {

struct EvalOptions {
    bool judge = true;
    bool embeddings = true;
    std::string judge_model;  // GGUF path; "" = the large model if installed, else the run's
    std::string embed_model;  // GGUF path; "" = the generation model of the run
    // Embeddings from an OpenAI-compatible /v1/embeddings instead (llama-server --embeddings,
    // vLLM --task embed): its base URL ("" = in-process), API key and served model name. The
    // record's embed_model names the URL and model ("sha256_prefix": "remote").
    std::string embed_url;
    std::string embed_api_key;
    std::string embed_served_model;
    // The judge on an OpenAI-compatible engine (JudgeOptions::remote_url; llama-server's
    // "grammar" field): "" = in-process. judge_model still gives the tokenizer and template.
    std::string judge_url;
    std::string judge_api_key;
    std::string judge_served_model;
    uint64_t judge_seed = 1;  // presentation order of the outputs
    int32_t judge_batch = 8;
    int32_t n_gpu_layers = -1;
    int32_t n_threads = 0;
    bool progress = true;  // progress lines on stderr
};

struct EvalSummary {
    std::map<std::string, int64_t> records_written;  // per metric set
    std::map<std::string, int64_t> records_present;  // already there before this call
    int64_t outputs = 0;                             // outputs found in results.jsonl
    int64_t ok_records = 0;       // pairs with a successful record (one per pair)
    int64_t skipped_records = 0;  // pairs whose record is a failure
    // Successful records that could not be scored: their example file is missing or no longer
    // holds their clusters or questions. `rdic eval` exits non-zero when there are any.
    int64_t unreadable_records = 0;
    int64_t unlabelled_outputs = 0;  // outputs of discovered clusters matching no labelled one
    std::filesystem::path metrics_file;
};

// Reads DIR/results.jsonl and DIR/metrics.jsonl through rdic/records (a bad record throws
// corrupt_file naming file, line and field). Throws file_not_found when DIR/results.jsonl cannot be
// read. Example files are found relative to DIR first (rdic/records/run_config.h), so eval works
// from any working directory. Examples that cannot be read are reported on stderr and counted in
// unreadable_records. The caller holds DIR's ResultsDirLock.
EvalSummary evaluate_results(const std::filesystem::path& dir, const EvalOptions& options);

}  // namespace rdic
