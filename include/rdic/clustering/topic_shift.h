// Topic-shift cues: does a message announce that it starts a new matter ("Second thing,
// completely separate: ...", "Different topic. ...", "Switching to something else entirely")?
// A lexical feature of the online routers (TurnRouterOptions::shift_cues): people say so when
// they change subject, and the embeddings of a small model do not see it.
//
//   if (rdic::starts_new_topic("Separately, sales leadership wants ...")) ...   // true
//
// The rule: at the start of the message (after any punctuation), case-insensitive, one of
//   another|different <matter noun> ("another issue", "different project"), separate(ly),
//   switching, in parallel, an ordinal (second, third, fourth, fifth, sixth; "the second
//   headache"), next topic/item/issue/area/project/thing or "next,", last topic/area/item/issue,
//   one more / other topic|issue|matter|project, new topic, unrelated, on a different/separate/
//   unrelated ..., something else/different.
// Written from the dev split's messages only (docs/routing.md: 42 of the 45 topic openings after
// the first message, no false cue; on test 37 of 51); "finally"/"lastly"/"also" are not cues (on
// dev 13 of 14 such messages continue their matter). Pure; microseconds. tools/route_sweep.py holds
// the same pattern for offline sweeps.
#pragma once

#include <string_view>

namespace rdic {

bool starts_new_topic(std::string_view text);

}  // namespace rdic
