// Session: one llama_context whose KV cache is a single pool shared by many isolated sequences.
//
//   rdic::Session session(model, {.n_ctx = 8192, .n_seq_max = 4});
//   rdic::Sequence system = session.open();
//   session.prefill({{&system, model->tokenize(system_prompt, true)}});
//   rdic::Sequence a = session.fork(system);   // shares the prompt's cells, copies nothing
//   rdic::Sequence b = session.fork(system);
//   session.prefill({{&a, tokens_a}, {&b, tokens_b}});   // one llama_decode for both
//
// Isolation: a sequence attends only to its own cells (and the prefix cells it was forked from).
// Cells are returned to the pool when the last sequence referencing them is freed.
//
// KV layout. `KvLayout::unified` (default): one pool of cells for all sequences; a fork shares
// its prefix's cells (nothing copied), but llama.cpp's attention then runs every token over all
// cells in use, masked, so isolated sequences pay for each other's length. `per_sequence`: one
// KV stream per sequence slot (llama.cpp's non-unified cache, as llama-server's slots use): each
// sequence attends over its own cells only; a fork copies the source's cells into its own stream
// (a device-side buffer copy at the next decode), and n_ctx is split evenly across the
// n_seq_max streams. Use per_sequence when sequences share little or nothing (isolated
// clusters); unified when many forks share a long prefix. docs/performance.md has the numbers.
//
// Sliding-window attention (Gemma 3): with `swa_full = false` (default) the sliding-window layers
// keep roughly one window per sequence, which is what makes long contexts cheap; the price is that
// truncate() can only cut back inside the window (ErrorCode::history_lost otherwise). Set
// `swa_full = true` to keep every position on every layer (arbitrary truncation, ~6x the KV
// memory of Gemma 3's windowed layers for long sequences). docs/engine.md has the numbers.
//
// Thread-safety: a Session and its Sequences belong to one thread. Different Sessions on the same
// Model may run on different threads.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "rdic/engine/context_options.h"
#include "rdic/engine/model.h"
#include "rdic/engine/types.h"

struct llama_context;

namespace rdic {

enum class Pooling { mean, last };  // how Session::embed pools a sequence's hidden states
// FlashAttn, KvLayout (see the header comment) and their parsers: context_options.h.

// Most sequences one Session holds at once (llama.cpp's limit on n_seq_max).
inline constexpr int32_t kMaxSessionSequences = 256;

struct SessionOptions {
    int32_t n_ctx = 8192;    // KV cells, all sequences together (per_sequence: split evenly)
    int32_t n_seq_max = 8;   // sequences that may exist at once (embed() needs one free)
    int32_t n_batch = 2048;  // most tokens submitted in one llama_decode call
    int32_t n_ubatch = 512;  // physical micro-batch inside llama.cpp
    int32_t n_threads = 0;   // CPU threads; 0 = all hardware threads
    KvType type_k = KvType::f16;
    KvType type_v = KvType::f16;
    FlashAttn flash_attn = FlashAttn::automatic;
    KvLayout kv_layout = KvLayout::unified;
    bool swa_full = false;    // keep full history on sliding-window layers (see header comment)
    bool embeddings = false;  // allow Session::embed (sets a pooling type on the context)
    Pooling pooling = Pooling::mean;
};

// KV cells and bytes a sequence (or the pool) needs to go on decoding. "full" cells are on
// full-attention layers (one per position); "swa" cells on sliding-window layers (at most one
// window per sequence: older positions are masked and llama.cpp reuses their cells when it needs
// room, so they are not counted). `cells_swa_resident` is what the windowed layers still
// physically hold, which can be more until llama.cpp reuses it (and is everything with swa_full).
struct KvUsage {
    int64_t cells_full = 0;
    int64_t cells_swa = 0;
    int64_t cells_swa_resident = 0;
    uint64_t bytes = 0;  // cells_full * full-layer bytes + cells_swa * window-layer bytes
};

class Session;

// Move-only handle on one KV sequence. Destroying it frees its cells (shared cells stay while
// another sequence still references them). Must not outlive its Session.
class Sequence {
public:
    Sequence() = default;
    Sequence(Sequence&& other) noexcept;
    Sequence& operator=(Sequence&& other) noexcept;
    Sequence(const Sequence&) = delete;
    Sequence& operator=(const Sequence&) = delete;
    ~Sequence();

    bool valid() const { return session_ != nullptr; }
    SeqId id() const { return id_; }
    int32_t n_tokens() const;      // tokens in the sequence == next position
    const Tokens& tokens() const;  // every token the sequence holds, in order
    // Cells this sequence references (shared prefix cells included) and what they weigh.
    KvUsage kv_usage() const;
    uint64_t kv_bytes() const { return kv_usage().bytes; }
    // Bytes llama.cpp needs to serialise this sequence (llama_state_seq_get_size): what saving it
    // to disk costs; KV data plus a few bytes of metadata per cell.
    uint64_t state_bytes() const;

    // Keeps positions [0, n). Throws history_lost when the sliding window already dropped cells
    // that tokens after n would need; the sequence is unchanged then.
    void truncate(int32_t n);
    // Frees the cells now (the handle becomes invalid).
    void reset();

private:
    friend class Session;
    Sequence(Session* session, SeqId id) : session_(session), id_(id) {}
    Session* session_ = nullptr;
    SeqId id_{-1};
};

// One sequence's tokens to append in a prefill.
struct PrefillItem {
    Sequence* seq = nullptr;
    std::span<const TokenId> tokens;
    // Keep the logits after every token, not only the last (Session::token_logits): what a
    // speculative verification needs. Costs n_vocab floats per token, copied out.
    bool all_logits = false;
};

struct DecodeStats {
    int32_t n_calls = 0;   // llama_decode calls made
    int32_t n_tokens = 0;  // tokens submitted
    double wall_ms = 0;    // wall time of those calls
};

class Session {
public:
    Session(std::shared_ptr<const Model> model, const SessionOptions& options);
    ~Session();
    Session(const Session&) = delete;
    Session& operator=(const Session&) = delete;

    const Model& model() const { return *model_; }
    const SessionOptions& options() const { return options_; }
    int32_t n_ctx() const { return n_ctx_; }
    // The most tokens one sequence can hold: n_ctx when unified, a stream's cells per_sequence.
    int32_t n_ctx_seq() const { return n_ctx_seq_; }

    // A new empty sequence. Throws out_of_memory when n_seq_max sequences exist.
    Sequence open();
    // A new sequence holding `src`'s first `n_prefix` tokens (-1: all): by reference in a unified
    // pool (no KV data is copied), as a copy into the fork's own stream with per_sequence. The
    // fork has no logits of its own until something is decoded into it.
    Sequence fork(const Sequence& src, int32_t n_prefix = -1);

    // The sequence's tokens and KV cells, copied out (the sequence is unchanged).
    SequenceSnapshot snapshot(const Sequence& seq) const;
    // A new sequence holding the snapshot's tokens with their KV cells copied in; no logits
    // until something is decoded into it (generate() re-feeds the last token). Throws
    // out_of_memory when no sequence slot or too few cells are free, corrupt_file when llama.cpp
    // rejects the bytes (another model or KV type) or restores fewer positions than the tokens.
    Sequence restore(const SequenceSnapshot& snapshot);

    // Appends tokens to several sequences in as few llama_decode calls as possible (one when the
    // total fits n_batch). Afterwards each non-empty item's sequence has the logits of its last
    // token. Throws context_overflow / out_of_memory / backend_failure; on failure the sequences
    // are rolled back to their previous length.
    DecodeStats prefill(std::span<const PrefillItem> items);
    DecodeStats prefill(std::initializer_list<PrefillItem> items) {
        return prefill(std::span<const PrefillItem>(items.begin(), items.size()));
    }

    // Logits (n_vocab floats) of the last token decoded into `seq`, or nullptr when it has none.
    // The pointer is valid until the next prefill/embed call; the logits themselves stay
    // available (copied out) until something is decoded into `seq` itself.
    const float* last_logits(const Sequence& seq) const;
    // Logits (n_vocab floats) after the i-th token [0, n) of the last all_logits item prefilled
    // into `seq`, or nullptr when i is out of range or that seq has none. Valid until the next
    // prefill of `seq` (truncate() keeps them: a rollback still reads the rows it keeps).
    const float* token_logits(const Sequence& seq, int32_t i) const;

    // Mean-pooled (or last-token), L2-normalised hidden state of `tokens`, computed in a scratch
    // sequence that is freed before returning. Requires options.embeddings and tokens.size() <=
    // n_ubatch; throws invalid_argument otherwise.
    std::vector<float> embed(std::span<const TokenId> tokens);

    // Distinct cells held by all live sequences now (shared prefix cells counted once), and the
    // most ever held at the end of a decode call.
    KvUsage kv_in_use() const;
    KvUsage kv_peak() const;
    // Bytes llama.cpp allocated for the KV pool when the session was created.
    uint64_t kv_allocated_bytes() const { return kv_allocated_bytes_; }
    int32_t n_live_sequences() const;

    llama_context* raw() const { return ctx_; }

private:
    friend class Sequence;
    struct Segment;
    struct SeqState;

    SeqState& state(SeqId id);
    const SeqState& state(SeqId id) const;
    void release(SeqId id);
    void truncate(SeqId id, int32_t n);
    KvUsage usage_of(SeqId id) const;
    KvUsage weigh(int64_t cells_full, int64_t cells_swa, int64_t cells_swa_resident) const;
    void record_appended(SeqState& s, std::span<const TokenId> tokens);
    // Usage only grows while tokens are appended and only shrinks when cells are freed, so the
    // peak is sampled just before a free or truncate and when asked for, never per decode.
    void update_peak() const;
    // Copies out the logits rows of live sequences that the next decode would overwrite.
    void keep_logits();

    std::shared_ptr<const Model> model_;
    SessionOptions options_;
    llama_context* ctx_ = nullptr;
    int32_t n_ctx_ = 0;
    int32_t n_ctx_seq_ = 0;
    int32_t swa_window_ = 0;       // window of the model's sliding-window layers; 0 = none
    bool has_swa_window_ = false;  // sliding-window layers with a bounded cache (!swa_full)
    uint64_t bytes_per_token_full_ = 0;
    uint64_t bytes_per_token_swa_ = 0;
    uint64_t kv_allocated_bytes_ = 0;
    std::vector<SeqState> seqs_;
    mutable KvUsage peak_;
    bool scratch_active_ = false;  // embed()'s scratch sequence is not counted in the peak
    struct BatchBuffer;
    std::unique_ptr<BatchBuffer> batch_;
};

}  // namespace rdic
