// What the engine measured, as results.jsonl's plain records (rdic/records/result_record.h).
// The only place that turns engine types into records; reading and writing the records needs no
// engine (rdic/records/).
//
//   rdic::ResultRecord r = rdic::make_result_record(condition_result);   // ok = true
//   r.example_id = ...;                                                   // the caller's part
#pragma once

#include "rdic/engine/model.h"
#include "rdic/engine/sampler.h"
#include "rdic/isolation/executor.h"
#include "rdic/records/result_record.h"

namespace rdic {

// Outputs, answers, KV and timing of `result`; ok = true, condition and naive set. The
// identifying fields (example, file, model, config, clustering, finished_at) are left to the
// caller.
ResultRecord make_result_record(const ConditionResult& result);

// The model's identity for records (hashes the file: reads it once).
ModelIdentity model_identity(const Model& model);

SamplingConfig sampling_config(const SamplerOptions& options);

}  // namespace rdic
