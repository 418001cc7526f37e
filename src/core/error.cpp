#include "rdic/error.h"

namespace rdic {

std::string_view to_string(ErrorCode code) {
    switch (code) {
        case ErrorCode::invalid_argument:
            return "invalid argument";
        case ErrorCode::file_not_found:
            return "file not found";
        case ErrorCode::corrupt_file:
            return "corrupt file";
        case ErrorCode::unsupported_model:
            return "unsupported model";
        case ErrorCode::out_of_memory:
            return "out of memory";
        case ErrorCode::context_overflow:
            return "context overflow";
        case ErrorCode::history_lost:
            return "history lost";
        case ErrorCode::backend_failure:
            return "backend failure";
        case ErrorCode::upstream_failure:
            return "upstream failure";
    }
    return "unknown error";
}

int exit_code(ErrorCode code) {
    switch (code) {
        case ErrorCode::invalid_argument:
            return 2;
        case ErrorCode::file_not_found:
            return 3;
        case ErrorCode::corrupt_file:
            return 4;
        case ErrorCode::unsupported_model:
            return 5;
        case ErrorCode::out_of_memory:
            return 6;
        case ErrorCode::context_overflow:
            return 7;
        case ErrorCode::history_lost:
            return 8;
        case ErrorCode::backend_failure:
            return 9;
        case ErrorCode::upstream_failure:
            return 10;
    }
    return 1;
}

}  // namespace rdic
