// The step-wise Generator (requests join, leave and are cancelled between steps) and sequence
// snapshot/restore: what a server needs from the engine.
#include <gtest/gtest.h>

#include <filesystem>
#include <map>

#include "model_fixture.h"
#include "rdic/engine/generate.h"
#include "rdic/engine/sequence_file.h"
#include "rdic/error.h"
#include "support/temp_dir.h"

namespace rdic {
namespace {

GenerationRequest greedy(Sequence* seq, Tokens prompt, int32_t max_tokens) {
    GenerationRequest r;
    r.seq = seq;
    r.prompt = std::move(prompt);
    r.max_tokens = max_tokens;
    r.ignore_eog = true;  // fixed length: the comparisons below need every step
    return r;
}

// Greedy decode of `prompt` alone in a fresh session, with its per-step logits.
test::Trace alone(const std::shared_ptr<const Model>& model, const Tokens& prompt, int32_t n) {
    Session session(model, {.n_ctx = 1024, .n_seq_max = 2});
    Sequence s = session.open();
    GenerationRequest r = greedy(&s, prompt, n);
    test::Trace t;
    GenerateOptions o;
    o.on_logits = [&](size_t, int32_t, std::span<const float> l) {
        t.logits.emplace_back(l.begin(), l.end());
    };
    t.tokens = generate(session, std::span(&r, 1), o)[0].tokens;
    return t;
}

TEST(Generator, AllAddedAtOnceEqualsGenerate) {
    const auto model = test::smollm();
    std::vector<Tokens> prompts;
    for (const char* p : test::kClusterPrompts) prompts.push_back(model->tokenize(p, true));

    Session s1(model, {.n_ctx = 1024, .n_seq_max = 3});
    std::vector<Sequence> a;
    for (int i = 0; i < 3; ++i) a.push_back(s1.open());
    std::vector<GenerationRequest> reqs;
    for (int i = 0; i < 3; ++i) reqs.push_back(greedy(&a[i], prompts[i], 12 + 4 * i));
    const auto ref = generate(s1, reqs);

    Session s2(model, {.n_ctx = 1024, .n_seq_max = 3});
    std::vector<Sequence> b;
    for (int i = 0; i < 3; ++i) b.push_back(s2.open());
    Generator gen(s2);
    for (int i = 0; i < 3; ++i)
        EXPECT_EQ(gen.add(greedy(&b[i], prompts[i], 12 + 4 * i)), size_t(i));
    std::vector<GenerationResult> got(3);
    std::vector<size_t> order;
    while (gen.step()) {
        for (auto& [id, res] : gen.take_finished()) {
            order.push_back(id);
            got[id] = std::move(res);
        }
    }
    EXPECT_EQ(order, (std::vector<size_t>{0, 1, 2}));  // the shortest request leaves first
    for (int i = 0; i < 3; ++i) {
        EXPECT_EQ(got[i].tokens, ref[i].tokens) << "request " << i;
        EXPECT_EQ(got[i].tokens.size(), size_t(12 + 4 * i));
        EXPECT_EQ(got[i].stop_reason, StopReason::max_tokens);
        EXPECT_EQ(b[i].n_tokens(), a[i].n_tokens());
    }
    EXPECT_EQ(gen.n_active(), 0u);
    EXPECT_FALSE(gen.step());
}

TEST(Generator, RequestJoiningMidFlightDecodesAsAlone) {
    const auto model = test::gemma();
    const Tokens pa = model->tokenize(test::kClusterPrompts[0], true);
    const Tokens pb = model->tokenize(test::kClusterPrompts[1], true);
    const test::Trace ref_a = alone(model, pa, 20);
    const test::Trace ref_b = alone(model, pb, 16);

    Session session(model, {.n_ctx = 1024, .n_seq_max = 2});
    Sequence a = session.open();
    Sequence b = session.open();
    GenerateOptions o;
    test::Trace got_a, got_b;
    o.on_logits = [&](size_t id, int32_t, std::span<const float> l) {
        (id == 0 ? got_a : got_b).logits.emplace_back(l.begin(), l.end());
    };
    Generator gen(session, o);
    gen.add(greedy(&a, pa, 20));
    for (int i = 0; i < 5; ++i) ASSERT_TRUE(gen.step());
    gen.add(greedy(&b, pb, 16));  // joins while a is decoding
    while (gen.step()) {
        for (auto& [id, res] : gen.take_finished()) (id == 0 ? got_a : got_b).tokens = res.tokens;
    }
    // Other batch shapes than alone: equal within the measured tolerance, not bit for bit.
    const test::Tolerance tol = test::tolerance(*model);
    const auto ca = test::expect_same_decode(ref_a, got_a, tol, /*exact=*/false);
    const auto cb = test::expect_same_decode(ref_b, got_b, tol, /*exact=*/false);
    EXPECT_GE(ca.n_equal_steps, 10);
    EXPECT_GE(cb.n_equal_steps, 10);
}

TEST(Generator, CancelEndsOneRequestAndLeavesTheOthers) {
    const auto model = test::smollm();
    Session session(model, {.n_ctx = 1024, .n_seq_max = 2});
    Sequence a = session.open();
    Sequence b = session.open();
    const Tokens pa = model->tokenize(test::kClusterPrompts[0], true);
    const Tokens pb = model->tokenize(test::kClusterPrompts[1], true);
    Generator gen(session);
    const auto ia = gen.add(greedy(&a, pa, 30));
    const auto ib = gen.add(greedy(&b, pb, 30));
    for (int i = 0; i < 4; ++i) ASSERT_TRUE(gen.step());
    EXPECT_TRUE(gen.cancel(ia));
    EXPECT_FALSE(gen.cancel(ia));   // already cancelled
    EXPECT_FALSE(gen.cancel(999));  // unknown
    std::map<size_t, GenerationResult> got;
    while (gen.step()) {
        for (auto& [id, res] : gen.take_finished()) got[id] = std::move(res);
    }
    ASSERT_EQ(got.size(), 2u);
    EXPECT_EQ(got[ia].stop_reason, StopReason::cancelled);
    EXPECT_EQ(got[ia].tokens.size(), 4u);
    EXPECT_EQ(a.n_tokens(), static_cast<int32_t>(pa.size() + 4));  // the KV matches the tokens
    EXPECT_EQ(got[ib].stop_reason, StopReason::max_tokens);
    EXPECT_EQ(got[ib].tokens.size(), 30u);
    EXPECT_EQ(to_string(StopReason::cancelled), "cancelled");
}

TEST(Generator, BadRequestsAreRejectedByIndex) {
    const auto model = test::smollm();
    Session session(model, {.n_ctx = 256, .n_seq_max = 2});
    Sequence empty = session.open();
    Generator gen(session);
    try {
        gen.add(greedy(nullptr, {}, 4));
        FAIL() << "no sequence accepted";
    } catch (const Error& e) {
        EXPECT_EQ(e.code(), ErrorCode::invalid_argument);
        EXPECT_NE(std::string(e.what()).find("request 0 has no sequence"), std::string::npos);
    }
    EXPECT_THROW(gen.add(greedy(&empty, {}, 4)), Error);  // nothing to decode from
    EXPECT_THROW(gen.add(greedy(&empty, model->tokenize("x", true), -1)), Error);
    EXPECT_FALSE(gen.step());  // nothing was queued
}

// A sequence snapshotted, written to disk, read back and restored into a fresh session continues
// exactly as the original: both re-feed their last token over the same cells.
TEST(SequenceState, RestoredSequenceContinuesBitForBit) {
    for (const auto& model : {test::gemma(), test::smollm()}) {
        SCOPED_TRACE(model->info().architecture);
        const Tokens prompt = model->tokenize(test::kClusterPrompts[2], true);
        const Tokens head(prompt.begin(), prompt.end() - 1);
        const Tokens last(prompt.end() - 1, prompt.end());
        const std::string sha(64, 'a');
        test::TempDir dir;

        auto continue_from = [&](Session& s, Sequence& seq) {
            test::Trace t;
            GenerateOptions o;
            o.on_logits = [&](size_t, int32_t, std::span<const float> l) {
                t.logits.emplace_back(l.begin(), l.end());
            };
            GenerationRequest r = greedy(&seq, last, 12);
            t.tokens = generate(s, std::span(&r, 1), o)[0].tokens;
            return t;
        };
        Session s1(model, {.n_ctx = 512, .n_seq_max = 2});
        Sequence orig = s1.open();
        s1.prefill({{&orig, head}});
        const SequenceSnapshot snap = s1.snapshot(orig);
        EXPECT_EQ(snap.tokens, head);
        EXPECT_EQ(snap.kv.size(), orig.state_bytes());
        const test::Trace ref = continue_from(s1, orig);

        write_sequence_file(dir.path() / "seq.bin", snap, sha);
        Session s2(model, {.n_ctx = 512, .n_seq_max = 2});
        Sequence back = s2.restore(read_sequence_file(dir.path() / "seq.bin", sha));
        EXPECT_EQ(back.tokens(), head);
        EXPECT_EQ(s2.last_logits(back), nullptr);
        const test::Trace got = continue_from(s2, back);
        test::expect_same_decode(ref, got, test::tolerance(*model), /*exact=*/true);
    }
}

TEST(SequenceState, RestoreRefusesAnotherModelsState) {
    const auto gemma = test::gemma();
    const auto smol = test::smollm();
    Session sg(gemma, {.n_ctx = 256, .n_seq_max = 1});
    Sequence g = sg.open();
    sg.prefill({{&g, gemma->tokenize("A short prompt for the state test.", true)}});
    const SequenceSnapshot snap = sg.snapshot(g);
    Session ss(smol, {.n_ctx = 256, .n_seq_max = 2});
    try {
        ss.restore(snap);
        FAIL() << "another model's state was accepted";
    } catch (const Error& e) {
        EXPECT_TRUE(e.code() == ErrorCode::backend_failure || e.code() == ErrorCode::corrupt_file)
            << e.what();
    }
    EXPECT_EQ(ss.n_live_sequences(), 0);  // the slot it tried is free again
}

}  // namespace
}  // namespace rdic
