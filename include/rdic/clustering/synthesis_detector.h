// Synthesis-turn detection: which turns ask to combine or integrate the topics (they go to the
// synthesis cluster, which receives the topic outputs instead of being clustered with them).
//
//   std::vector<rdic::SynthesisCue> cues = rdic::detect_synthesis_turns(turn_texts);
//   if (cues[i].is_synthesis) ... cues[i].rule says why ("combine+plural", ...)
//
// Lexical rules on the lower-cased text, whole words, in conversation order:
//   combine   a combining verb ("combine", "integrate", "merge", "consolidate", "synthesise", or
//             "pull/bring/put/tie/draw ... together", "together into") AND a plural reference to
//             the topics ("all", "both", "everything", "the two/three/four/five/six", "these");
//   document  "one"/"single" + a document noun within a few words ("one report", "a single
//             update") AND a plural reference as above ("that's all four. ... one report");
//   follow-up the previous turn was a synthesis turn AND this one continues it: it starts with
//             "add", "also", "finish", "close", "end", "conclude", "include", "write that", or it
//             makes a plural reference / says "each" ("add a section on how the three interact").
// What it cannot see: a synthesis request phrased without any of these words ("what do these
// have in common?" is caught, "and overall?" is not), and a topic turn right after a synthesis
// turn that starts with "also"/"add" (taken as a follow-up). docs/clustering.md has the measured
// precision and recall. No model; microseconds per turn.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace rdic {

struct SynthesisCue {
    bool is_synthesis = false;
    std::string rule;  // "combine", "document", "follow-up", or "" when not synthesis
};

// One turn; `previous_is_synthesis` enables the follow-up rule.
SynthesisCue detect_synthesis_turn(std::string_view text, bool previous_is_synthesis);
// Every turn of a conversation, in order.
std::vector<SynthesisCue> detect_synthesis_turns(const std::vector<std::string>& texts);

}  // namespace rdic
