// rdic::Error: the one exception type rdic throws when an operation cannot finish.
//
//   try { auto model = rdic::Model::load({.path = "m.gguf"}); }
//   catch (const rdic::Error& e) { std::cerr << e.what(); return rdic::exit_code(e.code()); }
//
// Expected outcomes (end of generation, validation findings) are values, never exceptions.
// Nothing in rdic throws once per token.
#pragma once

#include <stdexcept>
#include <string>
#include <string_view>

namespace rdic {

enum class ErrorCode {
    invalid_argument,   // a caller passed a value outside the documented range
    file_not_found,     // a path does not exist or cannot be opened
    corrupt_file,       // a file exists but its bytes are not what its format requires
    unsupported_model,  // a well-formed GGUF that llama.cpp cannot run (architecture, encoder-only)
    out_of_memory,      // KV cells, sequence slots or device memory exhausted
    context_overflow,   // a sequence would grow past the context size
    history_lost,       // a truncate needs KV cells the sliding window already dropped
    backend_failure,    // llama.cpp reported an internal error
    upstream_failure,   // a remote engine (--backend URL) failed or did not answer, after retries
};

std::string_view to_string(ErrorCode code);

// Process exit status for an error code; stable, documented in `rdic --help`.
int exit_code(ErrorCode code);

class Error : public std::runtime_error {
public:
    Error(ErrorCode code, const std::string& message) : std::runtime_error(message), code_(code) {}
    ErrorCode code() const { return code_; }

private:
    ErrorCode code_;
};

}  // namespace rdic
