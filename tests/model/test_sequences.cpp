// Sequences in one pool: forking, truncating, freeing, batching and KV accounting.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <string>

#include "model_fixture.h"
#include "rdic/engine/generate.h"
#include "rdic/error.h"

namespace rdic {
namespace {

// About n tokens of varied English text (numbers keep it from collapsing into repeats).
std::string filler(int approx_tokens) {
    std::string s;
    for (int i = 0; static_cast<int>(s.size()) < approx_tokens * 4; ++i) {
        s += "Item " + std::to_string(i) + " of the inventory lists a crate of " +
             std::to_string(17 * i % 101) + " bolts shipped to depot " + std::to_string(i % 7) +
             ". ";
    }
    return s;
}

// llama.cpp's kernels round differently for different batch shapes (ggml-org/llama.cpp#3014,
// #4479), so a fork is compared with a reference that decodes the same batches: prefix, then
// suffix. Equal shapes make the comparison exact: any difference is a fork bug.
using Continuation = test::Trace;

Continuation continue_greedy(Session& session, Sequence& seq, Tokens prompt, int32_t n) {
    GenerationRequest r;
    r.seq = &seq;
    r.prompt = std::move(prompt);
    r.max_tokens = n;
    Continuation c;
    GenerateOptions opts;
    opts.on_logits = [&](size_t, int32_t, std::span<const float> l) {
        c.logits.emplace_back(l.begin(), l.end());
    };
    c.tokens = generate(session, std::span(&r, 1), opts)[0].tokens;
    return c;
}

// Bit-identical on the CPU backend; on a GPU the KV layout (which cells, how many) can change
// how attention is split, so there the comparison uses the measured tolerance.
void expect_identical(const Continuation& a, const Continuation& b) {
    const test::Tolerance tol = test::tolerance(*test::gemma());
    test::expect_same_decode(b, a, tol, tol.exact);
}

void check_fork_matches_reprefill(const std::shared_ptr<const Model>& model, const Tokens& prefix,
                                  const Tokens& suffix, int32_t n_ctx,
                                  KvLayout layout = KvLayout::unified) {
    SCOPED_TRACE(std::string(to_string(layout)));
    // per_sequence splits n_ctx across the 4 streams: give each stream the whole n_ctx.
    const int32_t pool = layout == KvLayout::unified ? n_ctx : 4 * n_ctx;
    Session shared(model, {.n_ctx = pool, .n_seq_max = 4, .kv_layout = layout});
    Sequence root = shared.open();
    shared.prefill({{&root, prefix}});
    Sequence a = shared.fork(root);
    Sequence b = shared.fork(root);
    EXPECT_EQ(a.n_tokens(), root.n_tokens());
    EXPECT_EQ(a.tokens(), root.tokens());
    root.reset();  // the forks keep the shared cells alive
    const Continuation via_fork = continue_greedy(shared, a, suffix, 24);

    Session fresh(model, {.n_ctx = n_ctx, .n_seq_max = 4});
    Sequence whole = fresh.open();
    fresh.prefill({{&whole, prefix}});
    expect_identical(via_fork, continue_greedy(fresh, whole, suffix, 24));
}

TEST(Sequences, ForkedPrefixContinuesLikeReprefill) {
    const auto model = test::gemma();
    check_fork_matches_reprefill(
        model,
        model->tokenize(
            "System: you are a concise assistant for a logistics company. " + filler(60), true),
        model->tokenize(" Question: which depot received the most bolts?", false), 2048);
}

TEST(Sequences, ForkIntoItsOwnStreamContinuesLikeReprefill) {
    // per_sequence: the fork is a copy of the source's cells in another KV stream, made at the
    // next decode, after which the source is freed; the copy must be complete and in place.
    const auto model = test::gemma();
    check_fork_matches_reprefill(
        model, model->tokenize("System: you are a concise assistant. " + filler(60), true),
        model->tokenize(" Question: which depot received the most bolts?", false), 1024,
        KvLayout::per_sequence);
    const Tokens long_prefix = model->tokenize(filler(700), true);  // beyond the 512 window
    check_fork_matches_reprefill(model, long_prefix,
                                 model->tokenize(" In summary, the busiest depot was", false), 1024,
                                 KvLayout::per_sequence);
    const auto smol = test::smollm();
    check_fork_matches_reprefill(smol, smol->tokenize(filler(200), true),
                                 smol->tokenize(" The last item was", false), 1024,
                                 KvLayout::per_sequence);
}

TEST(Sequences, ForkBeyondSlidingWindowContinuesLikeReprefill) {
    // Gemma 3's windowed layers keep 512 positions; a 700-token prefix exercises the window.
    const auto model = test::gemma();
    const Tokens prefix = model->tokenize(filler(700), true);
    ASSERT_GT(prefix.size(), 600u);
    check_fork_matches_reprefill(
        model, prefix, model->tokenize(" In summary, the busiest depot was", false), 4096);
}

TEST(Sequences, ForkOnSecondArchitecture) {
    const auto model = test::smollm();
    check_fork_matches_reprefill(model, model->tokenize(filler(200), true),
                                 model->tokenize(" The last item was", false), 2048);
}

// fork(src, n) shares (unified) or copies (per_sequence) only the first n tokens; the fork then
// diverges from src, which stays as it was.
void check_partial_fork(KvLayout layout) {
    SCOPED_TRACE(std::string(to_string(layout)));
    const auto model = test::smollm();
    const Tokens text = model->tokenize(filler(120), true);
    const Tokens head(text.begin(), text.begin() + 60);
    const Tokens rest(text.begin() + 60, text.end());
    const Tokens suffix = model->tokenize(" Unrelated ending:", false);

    Session session(model, {.n_ctx = 4096, .n_seq_max = 4, .kv_layout = layout});
    Sequence src = session.open();
    session.prefill({{&src, head}});
    session.prefill({{&src, rest}});
    Sequence f = session.fork(src, 60);
    EXPECT_EQ(f.n_tokens(), 60);
    const Continuation via_fork = continue_greedy(session, f, suffix, 16);
    EXPECT_EQ(src.n_tokens(), static_cast<int32_t>(text.size())) << "the source is untouched";

    Session fresh(model, {.n_ctx = 2048, .n_seq_max = 1});
    Sequence g = fresh.open();
    fresh.prefill({{&g, head}});
    expect_identical(via_fork, continue_greedy(fresh, g, suffix, 16));
}

TEST(Sequences, ForkOfAPartialPrefix) {
    check_partial_fork(KvLayout::unified);
}

TEST(Sequences, PartialForkIntoItsOwnStream) {
    check_partial_fork(KvLayout::per_sequence);
}

TEST(Sequences, PerSequenceStreamsSplitTheContextAndCopyForks) {
    const auto model = test::smollm();
    Session session(model, {.n_ctx = 2048, .n_seq_max = 4, .kv_layout = KvLayout::per_sequence});
    EXPECT_EQ(session.n_ctx_seq(), 512);
    Session unified(model, {.n_ctx = 2048, .n_seq_max = 4});
    EXPECT_EQ(unified.n_ctx_seq(), 2048);
    EXPECT_EQ(session.kv_allocated_bytes(), unified.kv_allocated_bytes())
        << "4 streams of 512 cells weigh what one pool of 2048 does";

    Sequence root = session.open();
    const Tokens prefix = model->tokenize(filler(100), true);
    session.prefill({{&root, prefix}});
    Sequence a = session.fork(root);
    // A fork in its own stream holds a copy: the pool counts the prefix twice.
    EXPECT_EQ(session.kv_in_use().cells_full, static_cast<int64_t>(2 * prefix.size()));
    EXPECT_EQ(a.kv_usage().cells_full, static_cast<int64_t>(prefix.size()));
    // Each sequence is limited to its stream, whatever the others leave free.
    try {
        session.prefill({{&a, model->tokenize(filler(500), false)}});
        FAIL() << "expected context_overflow";
    } catch (const Error& e) {
        EXPECT_EQ(e.code(), ErrorCode::context_overflow);
        EXPECT_NE(std::string(e.what()).find("512 per sequence"), std::string::npos) << e.what();
    }
    EXPECT_EQ(a.n_tokens(), static_cast<int32_t>(prefix.size()));
}

TEST(Sequences, SharedPrefixIsCountedOnceInThePool) {
    const auto model = test::smollm();  // no sliding window: every cell is plain
    Session session(model, {.n_ctx = 4096, .n_seq_max = 4});
    Sequence root = session.open();
    const Tokens prefix = model->tokenize(filler(300), true);
    session.prefill({{&root, prefix}});
    Sequence a = session.fork(root);
    Sequence b = session.fork(root);
    const Tokens ta = model->tokenize(" alpha beta gamma", false);
    const Tokens tb = model->tokenize(" one two three four five", false);
    const DecodeStats st = session.prefill({{&a, ta}, {&b, tb}});
    EXPECT_EQ(st.n_calls, 1) << "two sequences must prefill in one llama_decode";
    const KvUsage pool = session.kv_in_use();
    EXPECT_EQ(pool.cells_full, static_cast<int64_t>(prefix.size() + ta.size() + tb.size()));
    EXPECT_EQ(a.kv_usage().cells_full, static_cast<int64_t>(prefix.size() + ta.size()));
    EXPECT_GT(a.kv_bytes() + b.kv_bytes() + root.kv_bytes(), pool.bytes);
}

TEST(Sequences, FreeingReturnsCellsToThePool) {
    const auto model = test::smollm();
    // A pool that holds one 200-token sequence at a time: if freeing leaked cells, the second
    // round would find the pool full.
    Session session(model, {.n_ctx = 256, .n_seq_max = 2});
    const Tokens text = model->tokenize(filler(300), true);
    ASSERT_GT(text.size(), 200u);
    const Tokens chunk(text.begin(), text.begin() + 200);
    for (int round = 0; round < 6; ++round) {
        Sequence s = session.open();
        session.prefill({{&s, chunk}});
        ASSERT_EQ(session.kv_in_use().cells_full, 200) << "round " << round;
    }
    EXPECT_EQ(session.kv_in_use().cells_full, 0);
    EXPECT_EQ(session.n_live_sequences(), 0);
}

long resident_kib() {
    std::ifstream f("/proc/self/status");
    std::string key;
    long value = 0;
    while (f >> key) {
        if (key == "VmRSS:") {
            f >> value;
            return value;
        }
        f.ignore(1 << 12, '\n');
    }
    return 0;
}

TEST(Sequences, OpenFreeCyclesDoNotGrowMemory) {
    const auto model = test::smollm();
    Session session(model, {.n_ctx = 1024, .n_seq_max = 4});
    const Tokens text = model->tokenize(
        "A short shared prompt of about twenty tokens, used to "
        "fork two sequences each cycle.",
        true);
    auto cycle = [&] {
        Sequence root = session.open();
        session.prefill({{&root, text}});
        Sequence a = session.fork(root);
        Sequence b = session.fork(root, 5);
        GenerationRequest reqs[2];
        reqs[0].seq = &a;
        reqs[0].max_tokens = 2;
        reqs[1].seq = &b;
        reqs[1].max_tokens = 2;
        generate(session, reqs);
    };
    for (int i = 0; i < 10; ++i) cycle();  // warm up allocator and llama.cpp's buffers
    const long before = resident_kib();
    for (int i = 0; i < 100; ++i) cycle();
    const long after = resident_kib();
    EXPECT_EQ(session.kv_in_use().cells_full, 0);
    EXPECT_LT(after - before, 8 * 1024) << "RSS grew by " << (after - before) << " KiB";
}

// Reported KV bytes must track what llama.cpp itself serialises for the sequence.
void expect_kv_bytes_track_state(const std::shared_ptr<const Model>& model,
                                 const SessionOptions& options, int total_tokens) {
    Session session(model, options);
    Sequence s = session.open();
    const Tokens text = model->tokenize(filler(total_tokens + 50), true);
    ASSERT_GE(static_cast<int>(text.size()), total_tokens);
    const uint64_t state0 = s.state_bytes();
    int done = 0;
    for (int target : {100, total_tokens / 2, total_tokens}) {
        session.prefill({{&s, std::span(text).subspan(done, target - done)}});
        done = target;
        const double kv = static_cast<double>(s.kv_bytes());
        const double grown = static_cast<double>(s.state_bytes() - state0);
        EXPECT_NEAR(kv / grown, 1.0, 0.05)
            << "at " << target << " tokens: kv_bytes " << kv << ", state grew " << grown;
    }
}

TEST(Sequences, KvBytesMatchStateGrowthPlainAttention) {
    expect_kv_bytes_track_state(test::smollm(), {.n_ctx = 2048, .n_seq_max = 2}, 1200);
}

TEST(Sequences, KvBytesMatchStateGrowthSlidingWindow) {
    // One sequence slot: the windowed cache holds 512 + n_ubatch cells, so 1,500 tokens force
    // llama.cpp to reuse cells that fell out of the window.
    const auto model = test::gemma();
    expect_kv_bytes_track_state(model, {.n_ctx = 4096, .n_seq_max = 1}, 1500);
    Session session(model, {.n_ctx = 4096, .n_seq_max = 1});
    Sequence s = session.open();
    session.prefill({{&s, model->tokenize(filler(1600), true)}});
    const KvUsage u = s.kv_usage();
    EXPECT_GT(u.cells_full, 1500);
    EXPECT_EQ(u.cells_swa, model->info().swa_window) << "window layers need one window";
    EXPECT_LT(u.cells_swa_resident, u.cells_full) << "llama.cpp reused cells behind the window";
    EXPECT_GE(u.cells_swa_resident, u.cells_swa);
}

TEST(Sequences, SwaFullKeepsEveryCell) {
    // With swa_full the needed bytes are the same, but every position stays resident (that is
    // what makes arbitrary truncation possible).
    const auto model = test::gemma();
    expect_kv_bytes_track_state(model, {.n_ctx = 4096, .n_seq_max = 1, .swa_full = true}, 1500);
    Session session(model, {.n_ctx = 4096, .n_seq_max = 1, .swa_full = true});
    Sequence s = session.open();
    session.prefill({{&s, model->tokenize(filler(1600), true)}});
    EXPECT_EQ(s.kv_usage().cells_swa_resident, s.n_tokens());
}

TEST(Sequences, TruncateInsideWindowThenContinueLikeReprefill) {
    const auto model = test::gemma();
    const Tokens text = model->tokenize(filler(300), true);
    const int32_t keep = 200;
    const Tokens head(text.begin(), text.begin() + keep);
    const Tokens extra(text.begin() + keep, text.end());
    const Tokens tail = model->tokenize(" Therefore", false);

    Session session(model, {.n_ctx = 2048, .n_seq_max = 1});
    Sequence s = session.open();
    session.prefill({{&s, head}});
    session.prefill({{&s, extra}});
    s.truncate(keep);
    EXPECT_EQ(s.n_tokens(), keep);
    const Continuation after_truncate = continue_greedy(session, s, tail, 12);

    Session fresh(model, {.n_ctx = 2048, .n_seq_max = 1});
    Sequence f = fresh.open();
    fresh.prefill({{&f, head}});
    expect_identical(after_truncate, continue_greedy(fresh, f, tail, 12));
}

TEST(Sequences, TruncateBehindDroppedWindowIsRefused) {
    const auto model = test::gemma();
    Session session(model, {.n_ctx = 4096, .n_seq_max = 1});
    Sequence s = session.open();
    session.prefill({{&s, model->tokenize(filler(1600), true)}});
    const int32_t n = s.n_tokens();
    try {
        s.truncate(100);
        FAIL() << "expected history_lost";
    } catch (const Error& e) {
        EXPECT_EQ(e.code(), ErrorCode::history_lost) << e.what();
    }
    EXPECT_EQ(s.n_tokens(), n) << "a refused truncate must leave the sequence unchanged";

    Session full(model, {.n_ctx = 4096, .n_seq_max = 1, .swa_full = true});
    Sequence f = full.open();
    full.prefill({{&f, model->tokenize(filler(1600), true)}});
    f.truncate(100);  // with the full history kept, any cut is fine
    EXPECT_EQ(f.n_tokens(), 100);
}

TEST(Sequences, LockstepDecodesAllSequencesInOneCallPerStep) {
    const auto model = test::gemma();
    Session session(model, {.n_ctx = 2048, .n_seq_max = 3});
    std::vector<Sequence> seqs;
    std::vector<GenerationRequest> reqs(3);
    for (int i = 0; i < 3; ++i) seqs.push_back(session.open());
    for (int i = 0; i < 3; ++i) {
        reqs[i].seq = &seqs[i];
        reqs[i].prompt = model->tokenize(test::kClusterPrompts[i], true);
        reqs[i].max_tokens = 10 + 5 * i;
    }
    GenerateStats stats;
    const auto results = generate(session, reqs, {}, &stats);
    for (int i = 0; i < 3; ++i) {
        EXPECT_EQ(results[i].tokens.size(), static_cast<size_t>(10 + 5 * i));
        EXPECT_GT(results[i].timing.ttft_ms, 0);
        EXPECT_GT(results[i].timing.decode_tokens_per_s, 0);
    }
    // 20 decode calls for 45 generated tokens: the longest request sets the count.
    EXPECT_EQ(stats.n_steps, 20);
    EXPECT_GT(stats.kv_peak.cells_full, 0);
}

TEST(Sequences, ContextOverflowIsAnErrorAndLeavesSequenceUnchanged) {
    const auto model = test::smollm();
    Session session(model, {.n_ctx = 256, .n_seq_max = 1});
    Sequence s = session.open();
    session.prefill({{&s, model->tokenize("short start", true)}});
    const int32_t n = s.n_tokens();
    try {
        session.prefill({{&s, model->tokenize(filler(400), false)}});
        FAIL() << "expected context_overflow";
    } catch (const Error& e) {
        EXPECT_EQ(e.code(), ErrorCode::context_overflow) << e.what();
    }
    EXPECT_EQ(s.n_tokens(), n);
}

TEST(Sequences, SlotsAreLimitedAndReusable) {
    const auto model = test::smollm();
    Session session(model, {.n_ctx = 512, .n_seq_max = 2});
    Sequence a = session.open();
    Sequence b = session.open();
    EXPECT_THROW(session.open(), Error);
    b.reset();
    Sequence c = session.open();
    EXPECT_TRUE(c.valid());
}

}  // namespace
}  // namespace rdic
