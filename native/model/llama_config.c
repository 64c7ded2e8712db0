/*
 * llama_config.c — checking a llama config and the RoPE frequencies it implies
 * (used by the reference pass and the optimized graph alike).
 */

#include "model/llama_config.h"

#include <math.h>
#include <string.h>

#include "core/internal.h"

#define INVALID_FIELD(field, value, ...)                                                              \
    HY_RAISE_WITH(HYPERION_MODEL_INVALID, NULL,                                                      \
                  ((hy_field[]){ HY_TXT("field", field), HY_NUM("value", value) }), __VA_ARGS__)

/* a * b * c elements of `elem` bytes still fit in a size_t */
static int product_fits(uint64_t a, uint64_t b, uint64_t c, size_t elem) {
    size_t r;
    return !__builtin_mul_overflow((size_t)a, (size_t)b, &r) && !__builtin_mul_overflow(r, (size_t)c, &r) &&
           !__builtin_mul_overflow(r, elem, &r);
}

hyperion_status hy_llama_config_validate(const hy_llama_config *c) {
    if (!c)
        return HY_RAISE_WITH(HYPERION_INVALID_ARGUMENT, NULL, ((hy_field[]){ HY_TXT("field", "config") }),
                             "no model configuration given");
    const struct { const char *name; uint32_t value; } counts[] = {
        { "n_vocab", c->n_vocab }, { "n_ctx_train", c->n_ctx_train }, { "n_embd", c->n_embd },
        { "n_layer", c->n_layer }, { "n_head", c->n_head }, { "n_head_kv", c->n_head_kv },
        { "head_dim", c->head_dim }, { "n_ff", c->n_ff }, { "rope_dim", c->rope_dim },
    };
    for (size_t i = 0; i < sizeof counts / sizeof counts[0]; i++)
        if (counts[i].value == 0) return INVALID_FIELD(counts[i].name, 0, "model %s is 0", counts[i].name);

    if (c->n_head % c->n_head_kv != 0)
        return INVALID_FIELD("n_head_kv", c->n_head_kv, "query heads (%u) are not a multiple of key/value heads (%u)",
                             c->n_head, c->n_head_kv);
    /* llama.cpp refuses llama models whose rope dimension count differs from
     * the head size ("invalid n_rot"), so partial rotation never reaches us. */
    if (c->rope_dim != c->head_dim)
        return HY_RAISE_WITH(HYPERION_MODEL_UNSUPPORTED, NULL,
                             ((hy_field[]){ HY_TXT("field", "rope_dim"), HY_NUM("value", c->rope_dim),
                                            HY_NUM("head_dim", c->head_dim) }),
                             "partial rotary embeddings (rope_dim %u of head_dim %u) are not supported for llama",
                             c->rope_dim, c->head_dim);
    if (c->rope_dim % 2 != 0)
        return INVALID_FIELD("rope_dim", c->rope_dim, "rope dimension count %u is odd", c->rope_dim);
    if (!isfinite(c->rms_eps) || c->rms_eps <= 0)
        return INVALID_FIELD("rms_eps", c->rms_eps, "RMS norm epsilon %g is not a positive number", c->rms_eps);
    if (!isfinite(c->rope_freq_base) || c->rope_freq_base <= 0)
        return INVALID_FIELD("rope_freq_base", c->rope_freq_base, "RoPE frequency base %g is not a positive number",
                             c->rope_freq_base);

    switch (c->rope_scaling_type) {
    case HY_ROPE_SCALING_NONE:
        break;
    case HY_ROPE_SCALING_LLAMA3:
        if (c->rope_scaling_orig_ctx == 0)
            return INVALID_FIELD("rope_scaling_orig_ctx", 0, "llama3 RoPE scaling needs the original context length");
        if (!isfinite(c->rope_scaling_low_freq_factor) || c->rope_scaling_low_freq_factor <= 0)
            return INVALID_FIELD("rope_scaling_low_freq_factor", c->rope_scaling_low_freq_factor,
                                 "llama3 RoPE low frequency factor %g is not a positive number",
                                 c->rope_scaling_low_freq_factor);
        if (!isfinite(c->rope_scaling_high_freq_factor) ||
            c->rope_scaling_high_freq_factor <= c->rope_scaling_low_freq_factor)
            return INVALID_FIELD("rope_scaling_high_freq_factor", c->rope_scaling_high_freq_factor,
                                 "llama3 RoPE high frequency factor %g must be above the low one (%g)",
                                 c->rope_scaling_high_freq_factor, c->rope_scaling_low_freq_factor);
        /* fall through - the factor is checked as for LINEAR */
    case HY_ROPE_SCALING_LINEAR:
        if (!isfinite(c->rope_scaling_factor) || c->rope_scaling_factor <= 0)
            return INVALID_FIELD("rope_scaling_factor", c->rope_scaling_factor,
                                 "RoPE scaling factor %g is not a positive number", c->rope_scaling_factor);
        break;
    default:
        return HY_RAISE_WITH(HYPERION_MODEL_UNSUPPORTED, NULL,
                             ((hy_field[]){ HY_TXT("field", "rope_scaling_type"),
                                            HY_NUM("value", (int)c->rope_scaling_type) }),
                             "unknown RoPE scaling type %d", (int)c->rope_scaling_type);
    }

    /* every weight matrix and activation row must be addressable, in doubles */
    if (!product_fits(c->n_vocab, c->n_embd, 1, sizeof(double)) ||
        !product_fits(c->n_head, c->head_dim, c->n_embd, sizeof(double)) ||
        !product_fits(c->n_ff, c->n_embd, 1, sizeof(double)))
        return INVALID_FIELD("n_embd", c->n_embd, "model dimensions overflow the address space");
    return HYPERION_OK;
}

double hy_llama_rope_freq_scale(const hy_llama_config *c) {
    return c->rope_scaling_type == HY_ROPE_SCALING_LINEAR ? 1.0 / c->rope_scaling_factor : 1.0;
}

/* Llama 3.1 frequency scaling, as llama.cpp's convert_hf_to_gguf.py
 * (LlamaModel.generate_extra_tensors) bakes it into rope_freqs.weight and
 * ggml_rope_ext divides each pair's angle by it; the same rule as Hugging
 * Face transformers' _compute_llama3_parameters. With the unscaled frequency
 * f_i = base^(-2i/d) and its wavelength 2*pi / f_i:
 *   wavelength < original_ctx / high_freq_factor  -> divisor 1 (kept)
 *   wavelength > original_ctx / low_freq_factor   -> divisor factor
 *   otherwise, smooth = (original_ctx / wavelength - low) / (high - low),
 *             divisor = 1 / ((1 - smooth) / factor + smooth)   (a blend of both) */
void hy_llama_rope_freq_divisors(const hy_llama_config *c, double *out) {
    size_t n_pairs = c->rope_dim / 2;
    for (size_t i = 0; i < n_pairs; i++) {
        out[i] = 1.0;
        if (c->rope_scaling_type != HY_ROPE_SCALING_LLAMA3) continue;
        double factor = c->rope_scaling_factor, low = c->rope_scaling_low_freq_factor;
        double high = c->rope_scaling_high_freq_factor, orig = c->rope_scaling_orig_ctx;
        double freq = pow(c->rope_freq_base, -(double)(2 * i) / (double)c->rope_dim);
        double wavelength = 2.0 * M_PI / freq;
        if (wavelength < orig / high) out[i] = 1.0;
        else if (wavelength > orig / low) out[i] = factor;
        else {
            double smooth = (orig / wavelength - low) / (high - low);
            out[i] = 1.0 / ((1.0 - smooth) / factor + smooth);
        }
    }
}
