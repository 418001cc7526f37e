// Internal: rdic::KvType <-> ggml_type. Only src/engine includes this.
#pragma once

#include "ggml.h"
#include "rdic/engine/model.h"

namespace rdic::detail {

inline ggml_type to_ggml(KvType t) {
    switch (t) {
        case KvType::f32:
            return GGML_TYPE_F32;
        case KvType::f16:
            return GGML_TYPE_F16;
        case KvType::bf16:
            return GGML_TYPE_BF16;
        case KvType::q8_0:
            return GGML_TYPE_Q8_0;
        case KvType::q5_1:
            return GGML_TYPE_Q5_1;
        case KvType::q5_0:
            return GGML_TYPE_Q5_0;
        case KvType::q4_1:
            return GGML_TYPE_Q4_1;
        case KvType::q4_0:
            return GGML_TYPE_Q4_0;
    }
    return GGML_TYPE_F16;
}

}  // namespace rdic::detail
