// Fact questions (dataset v2): scoring a model's reply against accepted answers and lures, and
// the copy control (how much of an output is verbatim text of its own prompt).
//
//   rdic::AnswerOutcome o = rdic::score_answer(question, "The budget is GBP 12,400.");
//   double c = rdic::copy_share(output_text, prompt_text);   // 0..1
//
// Pure functions: no model, no I/O, thread-safe.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "rdic/datasets/example.h"

namespace rdic {

// Lower case (ASCII), thousands separators dropped, every other character that is not an ASCII
// letter or digit becomes a space, runs of spaces folded, no leading or trailing space. Bytes
// >= 0x80 (non-ASCII UTF-8) count as separators. A thousands separator is a ',' or '\'' between
// a digit and exactly three digits that no further digit follows: "1,234,567" -> "1234567",
// "1'234" -> "1234", but "3,14" -> "3 14" and "12,3456" -> "12 3456". The same rules as
// normalise() in tools/check_dataset.py for ASCII text (tests/data/questions_fixtures.json); that
// one is Unicode-aware where this is not (U+0130, U+212A, non-ASCII digits beside a separator).
std::string normalise_answer(std::string_view text);

// True when normalise_answer(answer) is non-empty and stands in normalise_answer(text) between
// word boundaries (start/end or a space on each side): "12" does not occur in "123", "IR-0419"
// occurs in "report ir 0419.".
bool answer_occurs(std::string_view answer, std::string_view text);

enum class AnswerOutcome {
    correct,    // an accepted answer occurs, no lure does
    lure,       // a lure (another topic's value) occurs, no accepted answer does
    mixed,      // both occur
    abstained,  // neither, and the reply says it does not know (see is_abstention)
    wrong,      // neither, and no abstention
};
std::string_view to_string(AnswerOutcome o);

// True when normalise_answer(reply) is empty, or contains one of these phrases between word
// boundaries (the list, in normalised form): "unknown", "not stated", "not mentioned",
// "not specified", "does not say", "doesn t say", "no information", "i don t know",
// "cannot determine", "can t determine", "not provided". So "I don't know." and "It is not
// stated." abstain; "unknowns" and "I know" do not.
bool is_abstention(std::string_view reply);

// Accepted = some entry of question.answers occurs in the reply (answer_occurs); lured = some
// answer of some entry of question.lures occurs. Cross questions have no lures and take the same
// path. A reply that abstains yet names an accepted answer is `correct`.
AnswerOutcome score_answer(const Question& question, std::string_view reply);

// Verbatim spans shorter than this many bytes do not count as copied.
inline constexpr size_t kCopyMinSpan = 25;

// Share of `output`'s bytes that lie inside a byte span of >= min_span that also occurs verbatim
// in `prompt` (case and spacing count). 0 for an empty output, or when output or prompt is
// shorter than min_span; min_span 0 counts as 1. Bytes, not characters: a UTF-8 character split
// at a span's edge counts by its bytes. O(|output| + |prompt|) expected (a hash of every
// min_span-byte window of the prompt, each hit verified byte by byte).
double copy_share(std::string_view output, std::string_view prompt, size_t min_span = kCopyMinSpan);

}  // namespace rdic
