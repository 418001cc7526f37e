// JSON of the parts config.json and results.jsonl records share (internal to src/records).
#pragma once

#include "json_fields.h"
#include "rdic/records/run_config.h"

namespace rdic::records_detail {

json config_json(const RunConfig& c);
// `schema`: the version of the record it is read from (1: no "backend", always in-process;
// 1 and 2: no "together", every condition ran alone).
RunConfig read_run_config(const Fields& f, int schema);
json model_json(const ModelIdentity& m);
ModelIdentity read_model(const Fields& f);
json versions_json(const Versions& v);
Versions read_versions(const Fields& f);
// "schema" must be in [kOldestRecordSchemaVersion, kRecordSchemaVersion]; returns it.
int check_schema(const Fields& f);

}  // namespace rdic::records_detail
