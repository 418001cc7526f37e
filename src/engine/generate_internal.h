// Generator's per-request state, shared by generate.cpp (plain steps) and speculative.cpp.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <random>
#include <vector>

#include "rdic/engine/generate.h"
#include "rdic/text_stream.h"

namespace rdic {

struct Generator::Slot {
    using Clock = std::chrono::steady_clock;
    Slot(GenerationRequest r, const Model* model)
        : request(std::move(r)), sampler(request.sampling, model), text(request.stop) {}
    GenerationRequest request;
    Sampler sampler;
    TextStream text;
    GenerationResult result;
    Tokens refeed;  // a fresh fork's last token, decoded again to get its logits
    int32_t step = 0;
    bool cancelled = false;
    TokenId next{};
    Clock::time_point added{};
    Clock::time_point first_token;
    Clock::time_point last_token;

    // Speculative decoding only.
    bool spec_started = false;      // the fields below are set up
    bool speculate = false;         // has a draft sequence (no grammar)
    Sequence draft_seq;             // in the draft session: the target's tokens, maybe fewer
    int32_t n_kv = 0;               // tokens the target sequence keeps (what plain decoding holds)
    std::vector<float> logits;      // the target's logits for the next token, when has_logits
    bool has_logits = false;        // false: read Session::last_logits
    std::optional<TokenId> forced;  // next token already chosen by a rejection's resample
    std::mt19937_64 rng;            // acceptance draws of sampled decoding
    Tokens drafted;                 // this step's proposals
    std::vector<std::vector<float>> draft_probs;  // their draft distributions (sampled only)
};

}  // namespace rdic
