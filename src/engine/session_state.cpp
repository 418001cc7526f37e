// Session::snapshot and Session::restore: a sequence's KV state copied out and back in through
// llama.cpp's per-sequence state API.
#include <string>

#include "llama.h"
#include "rdic/engine/session.h"
#include "rdic/error.h"
#include "session_internal.h"

namespace rdic {

SequenceSnapshot Session::snapshot(const Sequence& seq) const {
    if (seq.session_ != this) {
        throw Error(ErrorCode::invalid_argument,
                    "snapshot: the sequence belongs to another session");
    }
    SequenceSnapshot snap;
    snap.tokens = state(seq.id()).tokens;
    snap.kv.resize(llama_state_seq_get_size(ctx_, seq.id().value));
    const size_t n = llama_state_seq_get_data(ctx_, snap.kv.data(), snap.kv.size(), seq.id().value);
    if (n != snap.kv.size()) {
        throw Error(ErrorCode::backend_failure, "snapshot: llama.cpp wrote " + std::to_string(n) +
                                                    " of " + std::to_string(snap.kv.size()) +
                                                    " bytes of the sequence's state");
    }
    return snap;
}

Sequence Session::restore(const SequenceSnapshot& snap) {
    const auto n = static_cast<int32_t>(snap.tokens.size());
    if (n > n_ctx_seq_) {
        throw Error(ErrorCode::context_overflow, "restore: " + std::to_string(n) +
                                                     " tokens, a sequence holds at most " +
                                                     std::to_string(n_ctx_seq_));
    }
    Sequence dst = open();
    if (n == 0) return dst;
    const size_t read =
        llama_state_seq_set_data(ctx_, snap.kv.data(), snap.kv.size(), dst.id().value);
    llama_memory_t mem = llama_get_memory(ctx_);
    // A restore can report success and hold nothing: check the positions it claims to hold.
    const llama_pos p_max = llama_memory_seq_pos_max(mem, dst.id().value);
    if (read == 0 || p_max != n - 1) {
        llama_memory_seq_rm(mem, dst.id().value, -1, -1);
        throw Error(read == 0 ? ErrorCode::backend_failure : ErrorCode::corrupt_file,
                    "restore: llama.cpp " +
                        (read == 0 ? std::string("rejected the state (another model or KV type, or "
                                                 "too few free cells)")
                                   : "restored positions up to " + std::to_string(p_max) +
                                         ", the snapshot has " + std::to_string(n) + " tokens"));
    }
    SeqState& to = state(dst.id());
    to.tokens = snap.tokens;
    to.segments.push_back({std::make_shared<const int>(0), 0, n});
    return dst;
}

}  // namespace rdic
