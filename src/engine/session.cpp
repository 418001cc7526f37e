#include "rdic/engine/session.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <map>
#include <regex>
#include <thread>
#include <utility>

#include "ggml_types.h"
#include "llama.h"
#include "llama_log.h"
#include "rdic/error.h"
#include "session_internal.h"

namespace rdic {

namespace {

using Clock = std::chrono::steady_clock;

double ms_since(Clock::time_point t0) {
    return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}

}  // namespace

// Fixed-capacity llama_batch: add() never allocates; clear() before each call.
struct Session::BatchBuffer {
    explicit BatchBuffer(int32_t n_capacity)
        : batch(llama_batch_init(n_capacity, 0, 1)), capacity(n_capacity) {}
    ~BatchBuffer() { llama_batch_free(batch); }
    void clear() { batch.n_tokens = 0; }
    void add(TokenId token, TokenPos pos, SeqId seq, bool want_logits) {
        const int32_t i = batch.n_tokens++;
        batch.token[i] = token.value;
        batch.pos[i] = pos.value;
        batch.n_seq_id[i] = 1;
        batch.seq_id[i][0] = seq.value;
        batch.logits[i] = want_logits ? 1 : 0;
    }
    llama_batch batch;
    int32_t capacity;
};

// ---- Sequence -------------------------------------------------------------------------------

Sequence::Sequence(Sequence&& other) noexcept
    : session_(std::exchange(other.session_, nullptr)), id_(other.id_) {}

Sequence& Sequence::operator=(Sequence&& other) noexcept {
    if (this != &other) {
        reset();
        session_ = std::exchange(other.session_, nullptr);
        id_ = other.id_;
    }
    return *this;
}

Sequence::~Sequence() {
    reset();
}

void Sequence::reset() {
    if (session_ != nullptr) session_->release(id_);
    session_ = nullptr;
}

int32_t Sequence::n_tokens() const {
    return static_cast<int32_t>(session_->state(id_).tokens.size());
}

const Tokens& Sequence::tokens() const {
    return session_->state(id_).tokens;
}

KvUsage Sequence::kv_usage() const {
    return session_->usage_of(id_);
}

uint64_t Sequence::state_bytes() const {
    return llama_state_seq_get_size(session_->raw(), id_.value);
}

void Sequence::truncate(int32_t n) {
    session_->truncate(id_, n);
}

// ---- Session --------------------------------------------------------------------------------

Session::Session(std::shared_ptr<const Model> model, const SessionOptions& options)
    : model_(std::move(model)), options_(options) {
    if (options.n_ctx <= 0 || options.n_seq_max <= 0 || options.n_seq_max > kMaxSessionSequences ||
        options.n_batch <= 0 || options.n_ubatch <= 0) {
        throw Error(ErrorCode::invalid_argument,
                    "session options: n_ctx, n_batch, n_ubatch must be > 0 and n_seq_max in "
                    "[1, 256]");
    }
    detail::ensure_backend();
    detail::LogCapture capture;
    llama_context_params p = llama_context_default_params();
    p.n_ctx = static_cast<uint32_t>(options.n_ctx);
    p.n_batch = static_cast<uint32_t>(options.n_batch);
    p.n_ubatch = static_cast<uint32_t>(std::min(options.n_ubatch, options.n_batch));
    p.n_seq_max = static_cast<uint32_t>(options.n_seq_max);
    const int32_t threads = options.n_threads > 0
                                ? options.n_threads
                                : static_cast<int32_t>(std::thread::hardware_concurrency());
    p.n_threads = std::max(threads, 1);
    p.n_threads_batch = p.n_threads;
    p.type_k = detail::to_ggml(options.type_k);
    p.type_v = detail::to_ggml(options.type_v);
    p.flash_attn_type = options.flash_attn == FlashAttn::on    ? LLAMA_FLASH_ATTN_TYPE_ENABLED
                        : options.flash_attn == FlashAttn::off ? LLAMA_FLASH_ATTN_TYPE_DISABLED
                                                               : LLAMA_FLASH_ATTN_TYPE_AUTO;
    p.swa_full = options.swa_full;
    // Unified: one pool, forks share prefix cells across sequences. Otherwise one stream each.
    p.kv_unified = options.kv_layout == KvLayout::unified;
    p.no_perf = true;
    p.embeddings = false;
    p.pooling_type =
        options.embeddings
            ? (options.pooling == Pooling::mean ? LLAMA_POOLING_TYPE_MEAN : LLAMA_POOLING_TYPE_LAST)
            : LLAMA_POOLING_TYPE_NONE;
    ctx_ = llama_init_from_model(model_->raw(), p);
    if (ctx_ == nullptr) {
        std::string why = capture.first_error();
        throw Error(ErrorCode::out_of_memory,
                    "cannot create a context of " + std::to_string(options.n_ctx) + " cells for " +
                        std::to_string(options.n_seq_max) +
                        " sequences: " + (why.empty() ? "llama.cpp refused it" : why));
    }
    n_ctx_ = static_cast<int32_t>(llama_n_ctx(ctx_));
    n_ctx_seq_ = static_cast<int32_t>(llama_n_ctx_seq(ctx_));

    const ModelInfo& info = model_->info();
    swa_window_ = info.n_swa_layers() > 0 ? info.swa_window : 0;
    has_swa_window_ = !options.swa_full && swa_window_ > 0;
    bytes_per_token_full_ = info.kv_bytes_per_token_full(options.type_k, options.type_v);
    bytes_per_token_swa_ = info.kv_bytes_per_token_swa(options.type_k, options.type_v);

    // Allocated pool: llama.cpp logs one "size = ... (N cells, L layers, S/T seqs)" line per
    // cache, N cells in each of T streams.
    static const std::regex size_re(
        R"(llama_kv_cache: size = .*\(\s*(\d+) cells,\s*(\d+) layers,\s*\d+/(\d+) seqs)");
    const uint64_t per_layer = info.kv_bytes_per_token_per_layer(options.type_k, options.type_v);
    for (const std::string& line : capture.lines()) {
        std::smatch m;
        if (std::regex_search(line, m, size_re)) {
            kv_allocated_bytes_ +=
                std::stoull(m[1]) * std::stoull(m[2]) * std::stoull(m[3]) * per_layer;
        }
    }
    if (kv_allocated_bytes_ == 0) {
        kv_allocated_bytes_ =
            static_cast<uint64_t>(n_ctx_) * (bytes_per_token_full_ + bytes_per_token_swa_);
    }

    seqs_.resize(static_cast<size_t>(options.n_seq_max));
    batch_ = std::make_unique<BatchBuffer>(static_cast<int32_t>(p.n_batch));
}

Session::~Session() {
    batch_.reset();
    if (ctx_ != nullptr) llama_free(ctx_);
}

Session::SeqState& Session::state(SeqId id) {
    return seqs_.at(static_cast<size_t>(id.value));
}
const Session::SeqState& Session::state(SeqId id) const {
    return seqs_.at(static_cast<size_t>(id.value));
}

int32_t Session::n_live_sequences() const {
    return static_cast<int32_t>(
        std::count_if(seqs_.begin(), seqs_.end(), [](const SeqState& s) { return s.live; }));
}

Sequence Session::open() {
    for (size_t i = 0; i < seqs_.size(); ++i) {
        if (!seqs_[i].live) {
            seqs_[i] = SeqState{};
            seqs_[i].live = true;
            return Sequence(this, SeqId(static_cast<int32_t>(i)));
        }
    }
    throw Error(ErrorCode::out_of_memory, "all " + std::to_string(seqs_.size()) +
                                              " sequence slots are in use (raise n_seq_max)");
}

Sequence Session::fork(const Sequence& src, int32_t n_prefix) {
    if (src.session_ != this) {
        throw Error(ErrorCode::invalid_argument, "fork: the source belongs to another session");
    }
    const SeqState& from = state(src.id());
    const auto n_src = static_cast<int32_t>(from.tokens.size());
    if (n_prefix < 0) n_prefix = n_src;
    if (n_prefix > n_src) {
        throw Error(ErrorCode::invalid_argument, "fork: prefix of " + std::to_string(n_prefix) +
                                                     " tokens, source has " +
                                                     std::to_string(n_src));
    }
    if (has_swa_window_ && n_prefix < n_src) {
        const llama_pos p_min = llama_memory_seq_pos_min(llama_get_memory(ctx_), src.id().value);
        if (p_min > std::max(0, n_prefix - model_->info().swa_window + 1)) {
            throw Error(ErrorCode::history_lost,
                        "fork: the sliding window no longer holds the cells a prefix of " +
                            std::to_string(n_prefix) + " tokens needs (use swa_full)");
        }
    }
    Sequence dst = open();
    SeqState& to = state(dst.id());
    llama_memory_t mem = llama_get_memory(ctx_);
    to.tokens.assign(from.tokens.begin(), from.tokens.begin() + n_prefix);
    if (options_.kv_layout == KvLayout::unified) {
        llama_memory_seq_cp(mem, src.id().value, dst.id().value, 0, n_prefix);
        for (const Segment& seg : from.segments) {
            if (seg.begin >= n_prefix) break;
            to.segments.push_back({seg.block, seg.begin, std::min(seg.end, n_prefix)});
        }
        return dst;
    }
    // Another stream: llama.cpp copies whole streams only (the copy is queued and done at the
    // start of the next decode), so copy everything and cut the tail off the fork.
    llama_memory_seq_cp(mem, src.id().value, dst.id().value, -1, -1);
    if (n_prefix < n_src && !llama_memory_seq_rm(mem, dst.id().value, n_prefix, -1)) {
        throw Error(ErrorCode::backend_failure, "fork: llama.cpp refused to cut the copied tail");
    }
    if (n_prefix > 0) to.segments.push_back({std::make_shared<const int>(0), 0, n_prefix});
    return dst;
}

void Session::release(SeqId id) {
    SeqState& s = state(id);
    if (!s.live) return;
    if (!scratch_active_) update_peak();
    llama_memory_seq_rm(llama_get_memory(ctx_), id.value, -1, -1);
    s = SeqState{};
}

void Session::truncate(SeqId id, int32_t n) {
    SeqState& s = state(id);
    const auto n_have = static_cast<int32_t>(s.tokens.size());
    if (n < 0 || n > n_have) {
        throw Error(
            ErrorCode::invalid_argument,
            "truncate to " + std::to_string(n) + " tokens, sequence has " + std::to_string(n_have));
    }
    if (n == n_have) return;
    update_peak();
    llama_memory_t mem = llama_get_memory(ctx_);
    if (has_swa_window_) {
        const llama_pos p_min = llama_memory_seq_pos_min(mem, id.value);
        if (p_min > std::max(0, n - model_->info().swa_window + 1)) {
            throw Error(ErrorCode::history_lost,
                        "truncate to " + std::to_string(n) +
                            " tokens: the sliding window already dropped position " +
                            std::to_string(p_min - 1) + " (create the session with swa_full)");
        }
    }
    if (!llama_memory_seq_rm(mem, id.value, n, -1)) {
        throw Error(ErrorCode::backend_failure, "llama.cpp refused to truncate the sequence");
    }
    s.tokens.resize(static_cast<size_t>(n));
    std::erase_if(s.segments, [n](const Segment& seg) { return seg.begin >= n; });
    if (!s.segments.empty()) s.segments.back().end = std::min(s.segments.back().end, n);
    s.logits_index = -1;
    s.logits_copied = false;
}

void Session::record_appended(SeqState& s, std::span<const TokenId> tokens) {
    const auto begin = static_cast<int32_t>(s.tokens.size());
    const auto end = begin + static_cast<int32_t>(tokens.size());
    s.tokens.insert(s.tokens.end(), tokens.begin(), tokens.end());
    // Extend our own newest segment when no other sequence shares it; else start a new block.
    if (!s.segments.empty() && s.segments.back().block.use_count() == 1 &&
        s.segments.back().end == begin) {
        s.segments.back().end = end;
    } else {
        s.segments.push_back({std::make_shared<const int>(0), begin, end});
    }
}

DecodeStats Session::prefill(std::span<const PrefillItem> items) {
    DecodeStats stats;
    int64_t total = 0;
    for (const PrefillItem& it : items) {
        if (it.seq == nullptr || it.seq->session_ != this) {
            throw Error(ErrorCode::invalid_argument, "prefill: a sequence of another session");
        }
        const SeqState& s = state(it.seq->id());
        if (static_cast<int64_t>(s.tokens.size()) + static_cast<int64_t>(it.tokens.size()) >
            n_ctx_seq_) {
            throw Error(ErrorCode::context_overflow,
                        "sequence " + std::to_string(it.seq->id().value) + " would hold " +
                            std::to_string(s.tokens.size() + it.tokens.size()) +
                            " tokens, more than the context of " + std::to_string(n_ctx_seq_) +
                            (n_ctx_seq_ < n_ctx_ ? " per sequence" : ""));
        }
        total += static_cast<int64_t>(it.tokens.size());
    }
    if (total == 0) return stats;

    // Remember lengths to roll back on failure.
    std::vector<int32_t> before;
    before.reserve(items.size());
    for (const PrefillItem& it : items) before.push_back(it.seq->n_tokens());

    // Which (item, token) goes into which call: fill calls of n_batch tokens in item order.
    struct Pending {
        size_t item;
        size_t batch_row;
    };
    std::vector<Pending> last_rows;  // rows of items whose final token is in the current call
    size_t i_item = 0, i_tok = 0;
    llama_memory_t mem = llama_get_memory(ctx_);
    auto rollback = [&] {
        for (size_t k = 0; k < items.size(); ++k) {
            SeqState& s = state(items[k].seq->id());
            llama_memory_seq_rm(mem, items[k].seq->id().value, before[k], -1);
            s.tokens.resize(static_cast<size_t>(before[k]));
            std::erase_if(s.segments, [&](const Segment& g) { return g.begin >= before[k]; });
            if (!s.segments.empty())
                s.segments.back().end = std::min(s.segments.back().end, before[k]);
            s.logits_index = -1;
            s.logits_copied = false;
            s.n_all_logits = 0;
        }
    };
    const auto n_vocab = static_cast<size_t>(model_->info().n_vocab);
    for (const PrefillItem& it : items) {
        SeqState& s = state(it.seq->id());
        if (!it.tokens.empty()) {
            s.logits_index = -1;
            s.logits_copied = false;
            s.n_all_logits = 0;
        }
        if (it.all_logits) s.all_logits.resize(it.tokens.size() * n_vocab);
    }
    struct AllRow {
        SeqState* state;
        size_t i_token;
        int32_t batch_row;
    };
    std::vector<AllRow> all_rows;  // rows of all_logits items in the current call
    // Sequences not in this call keep their logits (a request joining a lockstep batch is
    // prefilled while the others still have theirs to sample).
    keep_logits();
    while (i_item < items.size()) {
        batch_->clear();
        last_rows.clear();
        all_rows.clear();
        while (i_item < items.size() && batch_->batch.n_tokens < batch_->capacity) {
            const PrefillItem& it = items[i_item];
            SeqState& s = state(it.seq->id());
            const size_t room = static_cast<size_t>(batch_->capacity - batch_->batch.n_tokens);
            const size_t take = std::min(room, it.tokens.size() - i_tok);
            const auto pos0 = static_cast<int32_t>(s.tokens.size());
            for (size_t k = 0; k < take; ++k) {
                const bool last = i_tok + k + 1 == it.tokens.size();
                if (last)
                    last_rows.push_back({i_item, static_cast<size_t>(batch_->batch.n_tokens)});
                if (it.all_logits) all_rows.push_back({&s, i_tok + k, batch_->batch.n_tokens});
                batch_->add(it.tokens[i_tok + k], TokenPos(pos0 + static_cast<int32_t>(k)),
                            it.seq->id(), last || it.all_logits);
            }
            record_appended(s, it.tokens.subspan(i_tok, take));
            i_tok += take;
            if (i_tok == it.tokens.size()) {
                ++i_item;
                i_tok = 0;
            }
        }
        const auto t0 = Clock::now();
        detail::LogCapture capture;
        const int32_t rc = llama_decode(ctx_, batch_->batch);
        // llama_decode only queues the work on a GPU backend; wait for it so that wall_ms is
        // the computation's time (the logits are read right after anyway, which would wait).
        if (rc == 0) llama_synchronize(ctx_);
        stats.wall_ms += ms_since(t0);
        stats.n_calls += 1;
        stats.n_tokens += batch_->batch.n_tokens;
        if (rc != 0) {
            rollback();
            const std::string why = capture.first_error();
            if (rc == 1) {
                throw Error(ErrorCode::out_of_memory,
                            "no free KV cells for " + std::to_string(batch_->batch.n_tokens) +
                                " tokens (pool of " + std::to_string(n_ctx_) +
                                " cells is full; raise n_ctx or free sequences)");
            }
            throw Error(ErrorCode::backend_failure, "llama_decode failed with code " +
                                                        std::to_string(rc) +
                                                        (why.empty() ? std::string() : ": " + why));
        }
        // Logits of sequences finished in an earlier call were overwritten by this one: copy them
        // out before the next call (rare: only when one prefill spans several calls).
        for (const AllRow& r : all_rows) {
            const float* src = llama_get_logits_ith(ctx_, r.batch_row);
            std::copy(src, src + n_vocab, r.state->all_logits.begin() + r.i_token * n_vocab);
            r.state->n_all_logits =
                std::max(r.state->n_all_logits, static_cast<int32_t>(r.i_token) + 1);
        }
        const bool more_calls = i_item < items.size();
        for (const Pending& pr : last_rows) {
            SeqState& s = state(items[pr.item].seq->id());
            s.logits_index = static_cast<int32_t>(pr.batch_row);
            if (more_calls) {
                const float* src = llama_get_logits_ith(ctx_, s.logits_index);
                s.logits_copy.assign(src, src + model_->info().n_vocab);
                s.logits_copied = true;
            }
        }
    }
    return stats;
}

void Session::keep_logits() {
    for (SeqState& s : seqs_) {
        if (s.live && s.logits_index >= 0 && !s.logits_copied) {
            const float* src = llama_get_logits_ith(ctx_, s.logits_index);
            s.logits_copy.assign(src, src + model_->info().n_vocab);
            s.logits_copied = true;
        }
    }
}

const float* Session::last_logits(const Sequence& seq) const {
    const SeqState& s = state(seq.id());
    if (s.logits_copied) return s.logits_copy.data();
    if (s.logits_index < 0) return nullptr;
    return llama_get_logits_ith(ctx_, s.logits_index);
}

const float* Session::token_logits(const Sequence& seq, int32_t i) const {
    const SeqState& s = state(seq.id());
    if (i < 0 || i >= s.n_all_logits) return nullptr;
    return s.all_logits.data() + static_cast<size_t>(i) * model_->info().n_vocab;
}

std::vector<float> Session::embed(std::span<const TokenId> tokens) {
    if (!options_.embeddings) {
        throw Error(ErrorCode::invalid_argument,
                    "embed: the session was created without embeddings = true");
    }
    if (tokens.empty() || static_cast<int32_t>(tokens.size()) > options_.n_ubatch) {
        throw Error(ErrorCode::invalid_argument,
                    "embed: " + std::to_string(tokens.size()) + " tokens; need 1.." +
                        std::to_string(options_.n_ubatch) + " (n_ubatch)");
    }
    keep_logits();  // other sequences' rows are overwritten by this decode
    update_peak();  // the scratch sequence below is not part of the peak
    struct ScratchScope {
        bool& flag;
        explicit ScratchScope(bool& f) : flag(f) { flag = true; }
        ~ScratchScope() { flag = false; }
    } scope(scratch_active_);
    Sequence scratch = open();
    llama_set_embeddings(ctx_, true);
    batch_->clear();
    for (size_t i = 0; i < tokens.size(); ++i) {
        batch_->add(tokens[i], TokenPos(static_cast<int32_t>(i)), scratch.id(), true);
    }
    detail::LogCapture capture;
    const int32_t rc = llama_decode(ctx_, batch_->batch);
    std::vector<float> out;
    if (rc == 0) {
        const float* e = llama_get_embeddings_seq(ctx_, scratch.id().value);
        if (e != nullptr) out.assign(e, e + llama_model_n_embd(model_->raw()));
    }
    llama_set_embeddings(ctx_, false);
    if (out.empty()) {
        throw Error(
            ErrorCode::backend_failure,
            "embed: llama.cpp produced no pooled embedding" +
                (capture.first_error().empty() ? std::string() : ": " + capture.first_error()));
    }
    double norm = 0;
    for (float v : out) norm += double{v} * v;
    norm = std::sqrt(norm);
    if (norm > 0) {
        for (float& v : out) v = static_cast<float>(v / norm);
    }
    return out;  // `scratch` frees its cells here, before `scope` ends
}

KvUsage Session::weigh(int64_t cells_full, int64_t cells_swa, int64_t cells_swa_resident) const {
    KvUsage u;
    u.cells_full = cells_full;
    u.cells_swa = cells_swa;
    u.cells_swa_resident = cells_swa_resident;
    u.bytes = static_cast<uint64_t>(cells_full) * bytes_per_token_full_ +
              static_cast<uint64_t>(cells_swa) * bytes_per_token_swa_;
    return u;
}

KvUsage Session::usage_of(SeqId id) const {
    const SeqState& s = state(id);
    const auto n = static_cast<int64_t>(s.tokens.size());
    if (swa_window_ == 0) return weigh(n, n, n);
    int64_t resident = n;
    if (has_swa_window_ && n > 0) {
        const llama_pos p_min = llama_memory_seq_pos_min(llama_get_memory(ctx_), id.value);
        resident = p_min < 0 ? 0 : n - p_min;
    }
    return weigh(n, std::min<int64_t>(n, swa_window_), resident);
}

KvUsage Session::kv_in_use() const {
    // Distinct cells: each block counted once, over the union of the ranges that reference it.
    // `live` ranges are clipped to each sequence's window, `resident` ones to what llama.cpp
    // still holds for it.
    struct Ranges {
        int32_t begin = INT32_MAX;  // all segments of a block start at the block's begin
        int32_t full_end = 0;
        std::vector<std::pair<int32_t, int32_t>> live, resident;
    };
    std::map<const int*, Ranges> blocks;
    llama_memory_t mem = llama_get_memory(ctx_);
    for (size_t i = 0; i < seqs_.size(); ++i) {
        const SeqState& s = seqs_[i];
        if (!s.live || s.tokens.empty()) continue;
        const auto n = static_cast<int32_t>(s.tokens.size());
        const int32_t live_begin = swa_window_ > 0 ? std::max(0, n - swa_window_) : 0;
        const int32_t resident_begin =
            has_swa_window_ ? std::max(0, llama_memory_seq_pos_min(mem, static_cast<int32_t>(i)))
                            : 0;
        for (const Segment& seg : s.segments) {
            Ranges& r = blocks[seg.block.get()];
            r.begin = std::min(r.begin, seg.begin);
            r.full_end = std::max(r.full_end, seg.end);
            if (const int32_t b = std::max(seg.begin, live_begin); b < seg.end) {
                r.live.emplace_back(b, seg.end);
            }
            if (const int32_t b = std::max(seg.begin, resident_begin); b < seg.end) {
                r.resident.emplace_back(b, seg.end);
            }
        }
    }
    auto union_length = [](std::vector<std::pair<int32_t, int32_t>>& v) {
        std::sort(v.begin(), v.end());
        int64_t total = 0;
        int32_t cur_b = 0, cur_e = 0;
        for (auto [b, e] : v) {
            if (b > cur_e) {
                total += cur_e - cur_b;
                cur_b = b;
                cur_e = e;
            } else {
                cur_e = std::max(cur_e, e);
            }
        }
        return total + (cur_e - cur_b);
    };
    int64_t full = 0, live = 0, resident = 0;
    for (auto& [block, r] : blocks) {
        full += r.full_end - r.begin;
        live += union_length(r.live);
        resident += union_length(r.resident);
    }
    if (swa_window_ == 0) return weigh(full, full, full);
    return weigh(full, live, resident);
}

KvUsage Session::kv_peak() const {
    update_peak();
    return peak_;
}

void Session::update_peak() const {
    const KvUsage now = kv_in_use();
    if (now.bytes > peak_.bytes) peak_ = now;
}

}  // namespace rdic
