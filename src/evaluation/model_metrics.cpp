#include "rdic/evaluation/model_metrics.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <nlohmann/json.hpp>

#include "rdic/engine/chat.h"
#include "rdic/engine/generate.h"
#include "rdic/engine/session.h"
#include "rdic/error.h"
#include "rdic/isolation/openai_client.h"
#include "rdic/isolation/openai_protocol.h"

namespace rdic {

namespace {

constexpr const char* kJudgeSystem =
    "You are an impartial grader of assistant responses. You grade exactly the criteria asked, "
    "on a scale from 1 (very poor) to 5 (excellent), and reply with the JSON object only.";

std::string join(const std::vector<std::string>& parts) {
    std::string out;
    for (const std::string& p : parts) out += (out.empty() ? "" : "; ") + p;
    return out;
}

// The output, cut to its first `max_tokens` tokens when longer.
std::string cut(const Model& model, const std::string& text, int32_t max_tokens, bool* cut_flag) {
    Tokens t = model.tokenize(text, /*add_bos=*/false, /*parse_special=*/false);
    *cut_flag = static_cast<int32_t>(t.size()) > max_tokens;
    if (!*cut_flag) return text;
    t.resize(static_cast<size_t>(max_tokens));
    return model.detokenize(t);
}

}  // namespace

std::string Judge::prompt(const JudgeItem& item) {
    std::string p = "Task the response was written for:\n" + item.task + "\n\n";
    if (item.synthesis) {
        p += "The response should combine these topics into one answer: " + join(item.inputs) +
             "\n\n";
    } else {
        p += "Topic of the response: " + item.topic + "\n";
        if (!item.other_topics.empty()) {
            p += "Topics that belong to other conversations and must not appear in it: " +
                 join(item.other_topics) + "\n";
        }
        p += "\n";
    }
    p += "Response to grade (between the markers):\n<<<\n" + item.output + "\n>>>\n\n";
    p += "Criteria, each scored 1-5:\n- relevance: does the response do the task?\n";
    if (item.synthesis) {
        p += "- coherence: is it well organised, consistent and readable?\n"
             "- integration: does it combine the topics into one consistent answer rather than "
             "listing them side by side?\n";
    } else {
        p += "- focus: does it stay on its own topic, with nothing from the other topics?\n"
             "- coherence: is it well organised, consistent and readable?\n";
    }
    p += "Reply with the JSON object of the scores.";
    return p;
}

std::string Judge::grammar(bool synthesis) {
    return synthesis
               ? R"(root ::= "{\"relevance\": " s ", \"coherence\": " s ", \"integration\": " s "}"
s ::= [1-5])"
               : R"(root ::= "{\"relevance\": " s ", \"focus\": " s ", \"coherence\": " s "}"
s ::= [1-5])";
}

Judge::Judge(std::shared_ptr<const Model> model, const JudgeOptions& options)
    : model_(std::move(model)), options_(options) {
    if (options_.batch < 1) throw Error(ErrorCode::invalid_argument, "judge: batch must be >= 1");
    if (options_.max_output_tokens < 16) {
        throw Error(ErrorCode::invalid_argument, "judge: max_output_tokens must be >= 16");
    }
}

namespace {

constexpr int32_t kReplyTokens = 40;  // room for the longest reply (49 characters)

std::vector<std::string> criteria(bool synthesis) {
    if (synthesis) return {"relevance", "coherence", "integration"};
    return {"relevance", "focus", "coherence"};
}

void set_score(JudgeScores& s, const std::string& criterion, int value, double expected) {
    if (criterion == "relevance") {
        s.relevance = value;
        s.expected_relevance = expected;
    } else if (criterion == "focus") {
        s.focus = value;
        s.expected_focus = expected;
    } else if (criterion == "coherence") {
        s.coherence = value;
        s.expected_coherence = expected;
    } else {
        s.integration = value;
        s.expected_integration = expected;
    }
}

}  // namespace

std::vector<JudgeScores> Judge::score(std::span<const JudgeItem> items) {
    std::vector<JudgeScores> scores(items.size());
    if (items.empty()) return scores;
    const ChatFormatter chat(*model_, options_.chat_template);

    // Prompts first, so the session can be sized for the largest batch.
    std::vector<Tokens> prompts(items.size());
    for (size_t i = 0; i < items.size(); ++i) {
        JudgeItem shown = items[i];
        shown.output =
            cut(*model_, items[i].output, options_.max_output_tokens, &scores[i].output_truncated);
        prompts[i] =
            chat.tokenize(chat.format({{"system", kJudgeSystem}, {"user", prompt(shown)}}));
        scores[i].n_prompt_tokens = static_cast<int32_t>(prompts[i].size());
    }
    if (!options_.remote_url.empty()) {
        score_remote(items, prompts, scores, chat.stop_strings());
        return scores;
    }
    const auto batch = static_cast<size_t>(options_.batch);
    int64_t n_ctx = 0;
    for (size_t b = 0; b < items.size(); b += batch) {
        int64_t need = 0;
        for (size_t i = b; i < std::min(items.size(), b + batch); ++i) {
            need += static_cast<int64_t>(prompts[i].size()) + kReplyTokens;
        }
        n_ctx = std::max(n_ctx, need);
    }
    Session session(model_, {.n_ctx = static_cast<int32_t>((n_ctx + 255) / 256 * 256),
                             .n_seq_max = options_.batch,
                             .n_threads = options_.n_threads});
    for (size_t b = 0; b < items.size(); b += batch) {
        const size_t n = std::min(items.size(), b + batch) - b;
        const auto it = items.subspan(b, n);
        const auto pr = std::span<const Tokens>(prompts).subspan(b, n);
        const auto sc = std::span<JudgeScores>(scores).subspan(b, n);
        if (options_.decoder == JudgeDecoder::gbnf) {
            score_gbnf(it, pr, sc, session, chat.stop_strings());
        } else {
            score_template(it, pr, sc, session);
        }
    }
    return scores;
}

void Judge::score_gbnf(std::span<const JudgeItem> items, std::span<const Tokens> prompts,
                       std::span<JudgeScores> scores, Session& session,
                       const std::vector<std::string>& stop) {
    std::vector<Sequence> seqs;
    seqs.reserve(items.size());
    std::vector<GenerationRequest> reqs;
    for (size_t i = 0; i < items.size(); ++i) {
        seqs.push_back(session.open());
        GenerationRequest r;
        r.seq = &seqs.back();
        r.prompt = prompts[i];
        r.sampling.grammar = grammar(items[i].synthesis);
        r.max_tokens = kReplyTokens;
        r.stop = stop;
        reqs.push_back(std::move(r));
    }
    const auto res = generate(session, reqs);
    for (size_t i = 0; i < items.size(); ++i) {
        JudgeScores& s = scores[i];
        s.raw = res[i].text;
        const auto j = nlohmann::json::parse(s.raw, nullptr, false);
        if (!j.is_object()) {
            throw Error(ErrorCode::backend_failure,
                        "judge: reply does not follow its grammar: " + s.raw);
        }
        for (const std::string& c : criteria(items[i].synthesis)) {
            set_score(s, c, j.value(c, 0), 0.0);
        }
    }
}

void Judge::score_remote(std::span<const JudgeItem> items, std::span<const Tokens> prompts,
                         std::span<JudgeScores> scores, const std::vector<std::string>& stop) {
    const BackendUrl url =
        parse_backend_url(options_.remote_url, "--judge-url", "--judge-key-file");
    OpenAiClient client(url, {.api_key = options_.remote_api_key, .timeout_s = 300, .retry = {}});
    const std::string where = url.completions_url();
    for (size_t i = 0; i < items.size(); ++i) {
        CompletionRequest r;
        r.model = options_.remote_model.empty() ? model_->info().path.filename().string()
                                                : options_.remote_model;
        r.prompt_tokens = prompts[i];
        r.max_tokens = kReplyTokens;
        r.stop = stop;
        r.grammar = grammar(items[i].synthesis);
        const CompletionReply reply = parse_completion_reply(
            client.request(url.completions_path(), completion_body(r)), where);
        JudgeScores& s = scores[i];
        s.raw = reply.text;
        const auto j = nlohmann::json::parse(s.raw, nullptr, false);
        if (!j.is_object()) {
            throw Error(ErrorCode::upstream_failure,
                        where +
                            ": the judge's reply does not follow its grammar (does the "
                            "engine take llama-server's \"grammar\" field?): " +
                            s.raw);
        }
        for (const std::string& c : criteria(items[i].synthesis)) {
            set_score(s, c, j.value(c, 0), 0.0);
        }
    }
}

void Judge::score_template(std::span<const JudgeItem> items, std::span<const Tokens> prompts,
                           std::span<JudgeScores> scores, Session& session) {
    // The digit tokens "1".."5"; every vocabulary we know spells a digit as one token.
    std::array<TokenId, 5> digit{};
    for (int d = 0; d < 5; ++d) {
        const Tokens t = model_->tokenize(std::to_string(d + 1), false, false);
        if (t.size() != 1) {
            throw Error(ErrorCode::unsupported_model,
                        "judge: the digit " + std::to_string(d + 1) +
                            " is not one token in this vocabulary; use the gbnf decoder");
        }
        digit[static_cast<size_t>(d)] = t[0];
    }
    auto literal = [&](const std::string& text) { return model_->tokenize(text, false, false); };

    std::vector<Sequence> seqs;
    seqs.reserve(items.size());
    std::vector<Tokens> next(items.size());
    for (size_t i = 0; i < items.size(); ++i) {
        seqs.push_back(session.open());
        next[i] = prompts[i];
        const Tokens head = literal("{\"" + criteria(items[i].synthesis)[0] + "\": ");
        next[i].insert(next[i].end(), head.begin(), head.end());
        scores[i].raw = "{\"" + criteria(items[i].synthesis)[0] + "\": ";
    }
    for (size_t k = 0; k < 3; ++k) {
        std::vector<PrefillItem> batch;
        for (size_t i = 0; i < items.size(); ++i) batch.push_back({&seqs[i], next[i]});
        session.prefill(batch);
        for (size_t i = 0; i < items.size(); ++i) {
            const float* logits = session.last_logits(seqs[i]);
            // The grammar allows exactly the five digits here: the choice is their argmax (ties
            // to the lower score), and their softmax gives the expected score.
            size_t best = 0;
            double max_logit = -INFINITY;
            for (size_t d = 0; d < 5; ++d) {
                const float l = logits[digit[d].value];
                if (l > logits[digit[best].value]) best = d;
                max_logit = std::max(max_logit, double{l});
            }
            double z = 0, e = 0;
            for (size_t d = 0; d < 5; ++d) {
                const double p = std::exp(double{logits[digit[d].value]} - max_logit);
                z += p;
                e += p * static_cast<double>(d + 1);
            }
            const auto crit = criteria(items[i].synthesis);
            set_score(scores[i], crit[k], static_cast<int>(best) + 1, e / z);
            const std::string rest = k + 1 < 3 ? ", \"" + crit[k + 1] + "\": " : "}";
            scores[i].raw += std::to_string(best + 1) + rest;
            next[i] = Tokens{digit[best]};
            if (k + 1 < 3) {
                const Tokens t = literal(rest);
                next[i].insert(next[i].end(), t.begin(), t.end());
            }
        }
    }
}

}  // namespace rdic
