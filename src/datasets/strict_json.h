// What the dataset rules forbid in JSON that the parser accepts (internal to src/datasets): a key
// repeated within one object (the parser would keep the last silently) and a NUL character,
// escaped as \u0000, in a key or string (docs/dataset.md: no NUL).
#pragma once

#include <optional>
#include <string>

namespace rdic {

struct StrictJsonProblem {
    std::string pointer;  // RFC 6901, of the repeated key or the string
    std::string message;
};

// The first such problem of `text`, or nullopt (also for malformed JSON: the parser reports it).
std::optional<StrictJsonProblem> strict_json_problem(const std::string& text);

}  // namespace rdic
