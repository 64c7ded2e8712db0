/* test_gguf_hparams.c — llama-family hyperparameters and weight shapes: what
 * is read, the defaults, rope scaling variants, and every inconsistency
 * named by key or tensor. */
#include "harness.h"
#include "test_gguf_tiny.h"
#include "test_gguf_util.h"

#include "model/gguf_corpus.h"
#include "model/llama_hparams.h"

/* Build o, open it, read hparams (and bind when reading worked). Returns the
 * first failing status; *hp gets what was read. */
static hyperion_status load_tiny(const tiny_opts *o, hy_llama_hparams *hp) {
    void *data = NULL;
    size_t size = 0;
    hyperion_status s = tiny_build(o, &data, &size);
    if (s) {
        hy_test_fail(__FILE__, __LINE__, "tiny_build: %s", hyperionGetLastError()->message);
        return s;
    }
    uint64_t live = gguf_test_live_blocks();
    hy_gguf *g = NULL;
    s = hy_gguf_open_memory(data, size, "tiny.gguf", 0, &g);
    if (!s) s = hy_llama_hparams_read(g, hp);
    if (!s) {
        hy_llama_weights w;
        s = hy_llama_weights_bind(g, hp, &w);
        if (!s) {
            if (w.n_layer != hp->n_layer || !w.layers || !w.layers[0].t[HY_L_FFN_DOWN] ||
                (hp->tied_output && w.output != w.token_embd))
                hy_test_fail(__FILE__, __LINE__, "weights not bound as expected");
            hy_llama_weights_free(&w);
        }
    }
    hy_gguf_close(g); /* raises nothing: the error record stays */
    if (gguf_test_live_blocks() != live) hy_test_fail(__FILE__, __LINE__, "leak after hparams");
    hyperionFree(data);
    return s;
}

HY_TEST(llama_hparams_read_the_tiny_model_with_defaults) {
    tiny_opts o;
    tiny_defaults(&o);
    o.heads_kv = 0; /* absent: defaults to head_count */
    hy_llama_hparams hp;
    HY_REQUIRE(load_tiny(&o, &hp) == HYPERION_OK);
    HY_CHECK_STR(hp.arch, "llama");
    HY_CHECK_INT(hp.n_embd, 32);
    HY_CHECK_INT(hp.n_layer, 2);
    HY_CHECK_INT(hp.n_head, 4);
    HY_CHECK_INT(hp.n_head_kv, 4);
    HY_CHECK_INT(hp.head_dim, 8);
    HY_CHECK_INT(hp.n_embd_kv, 32);
    HY_CHECK_INT(hp.n_rot, 8);
    HY_CHECK_INT(hp.n_ff, 64);
    HY_CHECK_INT(hp.n_vocab, 16);
    HY_CHECK_INT(hp.n_ctx_train, 128);
    HY_CHECK_NEAR(hp.rope_freq_base, 10000, 0);
    HY_CHECK_NEAR(hp.rms_eps, 1e-5, 1e-12);
    HY_CHECK_INT(hp.rope_scaling, HY_ROPE_SCALING_NONE);
    HY_CHECK_NEAR(hp.rope_freq_scale, 1, 0);
    HY_CHECK_INT(hp.tied_output, 1);
    HY_CHECK_INT(hp.has_vocab, 1);
}

HY_TEST(llama_hparams_accept_gqa_untied_mistral_and_quantized_weights) {
    tiny_opts o;
    tiny_defaults(&o);
    o.untied = 1;
    o.arch = "mistral";
    o.type = HY_TYPE_Q8_0;
    hy_llama_hparams hp;
    HY_REQUIRE(load_tiny(&o, &hp) == HYPERION_OK);
    HY_CHECK_STR(hp.arch, "mistral");
    HY_CHECK_INT(hp.n_head_kv, 2);
    HY_CHECK_INT(hp.n_embd_kv, 16);
    HY_CHECK_INT(hp.tied_output, 0);
    tiny_defaults(&o);
    o.no_tokens = 1; /* the vocabulary size then comes from token_embd */
    HY_REQUIRE(load_tiny(&o, &hp) == HYPERION_OK);
    HY_CHECK_INT(hp.n_vocab, 16);
    HY_CHECK_INT(hp.has_vocab, 0);
}

static hyperion_status rope_linear(hy_gguf_writer *w, const tiny_opts *o) {
    hyperion_status s = hy_gguf_writer_set_string(w, "llama.rope.scaling.type", "linear");
    if (!s) s = hy_gguf_writer_set_f32(w, "llama.rope.scaling.factor", 4.0f);
    if (!s) s = hy_gguf_writer_set_f32(w, "llama.rope.freq_base", 500000.0f);
    return s;
}
static hyperion_status rope_old_linear(hy_gguf_writer *w, const tiny_opts *o) {
    return hy_gguf_writer_set_f32(w, "llama.rope.scale_linear", 2.0f);
}
static hyperion_status rope_yarn(hy_gguf_writer *w, const tiny_opts *o) {
    return hy_gguf_writer_set_string(w, "llama.rope.scaling.type", "yarn");
}
static hyperion_status rope_llama3_tensor(hy_gguf_writer *w, const tiny_opts *o) {
    uint64_t ne[1] = { 4 }; /* n_rot / 2 */
    return hy_gguf_writer_add_tensor(w, HY_TENSOR_ROPE_FREQS, HY_TYPE_F32, 1, ne);
}
static hyperion_status rope_llama3_bad_tensor(hy_gguf_writer *w, const tiny_opts *o) {
    uint64_t ne[1] = { 8 };
    return hy_gguf_writer_add_tensor(w, HY_TENSOR_ROPE_FREQS, HY_TYPE_F32, 1, ne);
}
static hyperion_status rope_llama3_keys(hy_gguf_writer *w, const tiny_opts *o) {
    hyperion_status s = hy_gguf_writer_set_string(w, "llama.rope.scaling.type", "llama3");
    if (!s) s = hy_gguf_writer_set_f32(w, "llama.rope.scaling.factor", 8.0f);
    if (!s) s = hy_gguf_writer_set_u32(w, "llama.rope.scaling.original_context_length", 64);
    if (!s) s = hy_gguf_writer_set_f32(w, "llama.rope.scaling.low_freq_factor", 1.0f);
    if (!s) s = hy_gguf_writer_set_f32(w, "llama.rope.scaling.high_freq_factor", 4.0f);
    return s;
}
static hyperion_status rope_llama3_no_ctx(hy_gguf_writer *w, const tiny_opts *o) {
    hyperion_status s = hy_gguf_writer_set_string(w, "llama.rope.scaling.type", "llama3");
    if (!s) s = hy_gguf_writer_set_f32(w, "llama.rope.scaling.factor", 8.0f);
    return s;
}
static hyperion_status partial_rotary(hy_gguf_writer *w, const tiny_opts *o) {
    return hy_gguf_writer_set_u32(w, "llama.rope.dimension_count", 4);
}
static hyperion_status head_size_key(hy_gguf_writer *w, const tiny_opts *o) {
    return hy_gguf_writer_set_u32(w, "llama.attention.key_length", 16);
}
static hyperion_status many_blocks(hy_gguf_writer *w, const tiny_opts *o) {
    return hy_gguf_writer_set_u32(w, "llama.block_count", 4000000000u);
}
static hyperion_status eps_as_string(hy_gguf_writer *w, const tiny_opts *o) {
    return hy_gguf_writer_set_string(w, "llama.attention.layer_norm_rms_epsilon", "1e-5");
}

HY_TEST(llama_hparams_read_rope_scaling_variants) {
    tiny_opts o;
    hy_llama_hparams hp;
    tiny_defaults(&o);
    o.extra = rope_linear;
    HY_REQUIRE(load_tiny(&o, &hp) == HYPERION_OK);
    HY_CHECK_INT(hp.rope_scaling, HY_ROPE_SCALING_LINEAR);
    HY_CHECK_NEAR(hp.rope_factor, 4, 0);
    HY_CHECK_NEAR(hp.rope_freq_scale, 0.25, 0);
    HY_CHECK_NEAR(hp.rope_freq_base, 500000, 0);

    o.extra = rope_old_linear; /* a factor without a type is linear, as llama.cpp reads it */
    HY_REQUIRE(load_tiny(&o, &hp) == HYPERION_OK);
    HY_CHECK_INT(hp.rope_scaling, HY_ROPE_SCALING_LINEAR);
    HY_CHECK_NEAR(hp.rope_freq_scale, 0.5, 0);

    o.extra = rope_llama3_tensor;
    HY_REQUIRE(load_tiny(&o, &hp) == HYPERION_OK);
    HY_CHECK_INT(hp.rope_scaling, HY_ROPE_SCALING_LLAMA3);

    o.extra = rope_llama3_keys;
    HY_REQUIRE(load_tiny(&o, &hp) == HYPERION_OK);
    HY_CHECK_INT(hp.rope_scaling, HY_ROPE_SCALING_LLAMA3);
    HY_CHECK(hp.rope_freqs == NULL);
    HY_CHECK_INT(hp.rope_orig_ctx, 64);
    HY_CHECK_NEAR(hp.rope_high_freq_factor, 4, 0);

    o.extra = rope_yarn;
    HY_CHECK_INT(load_tiny(&o, &hp), HYPERION_MODEL_UNSUPPORTED);
    HY_CHECK(strstr(hyperionGetLastError()->message, "yarn") != NULL);
    o.extra = rope_llama3_bad_tensor;
    HY_CHECK_INT(load_tiny(&o, &hp), HYPERION_MODEL_INVALID);
    HY_CHECK_STR(gguf_test_error_text("field"), "rope_freqs.weight");
    o.extra = rope_llama3_no_ctx;
    HY_CHECK_INT(load_tiny(&o, &hp), HYPERION_MODEL_INVALID);
    HY_CHECK(strstr(hyperionGetLastError()->message, "original context") != NULL);
    o.extra = partial_rotary;
    HY_CHECK_INT(load_tiny(&o, &hp), HYPERION_MODEL_UNSUPPORTED);
    HY_CHECK_STR(gguf_test_error_text("key"), "llama.rope.dimension_count");
}

HY_TEST(llama_hparams_name_the_key_or_tensor_that_is_wrong) {
    tiny_opts o;
    hy_llama_hparams hp;

    tiny_defaults(&o);
    o.arch = "gpt2";
    HY_CHECK_INT(load_tiny(&o, &hp), HYPERION_MODEL_UNSUPPORTED);
    HY_CHECK(strstr(hyperionGetLastError()->message, "\"gpt2\"") != NULL);
    HY_CHECK_STR(gguf_test_error_text("key"), "general.architecture");

    tiny_defaults(&o);
    o.omit_key = "general.architecture";
    HY_CHECK_INT(load_tiny(&o, &hp), HYPERION_MODEL_INVALID);
    HY_CHECK_STR(gguf_test_error_text("key"), "general.architecture");

    tiny_defaults(&o);
    o.omit_key = "llama.block_count";
    HY_CHECK_INT(load_tiny(&o, &hp), HYPERION_MODEL_INVALID);
    HY_CHECK(strstr(hyperionGetLastError()->message, "llama.block_count") != NULL);

    tiny_defaults(&o);
    o.omit_key = "llama.attention.layer_norm_rms_epsilon";
    HY_CHECK_INT(load_tiny(&o, &hp), HYPERION_MODEL_INVALID);

    tiny_defaults(&o);
    o.omit_key = "llama.attention.layer_norm_rms_epsilon";
    o.extra = eps_as_string;
    HY_CHECK_INT(load_tiny(&o, &hp), HYPERION_MODEL_INVALID);
    HY_CHECK(strstr(hyperionGetLastError()->message, "has type string") != NULL);

    tiny_defaults(&o);
    o.heads = 5; /* 32 % 5 != 0 */
    o.heads_kv = 5;
    HY_CHECK_INT(load_tiny(&o, &hp), HYPERION_MODEL_INVALID);
    HY_CHECK_STR(gguf_test_error_text("key"), "llama.attention.head_count");

    tiny_defaults(&o);
    o.heads_kv = 3; /* does not divide 4 */
    HY_CHECK_INT(load_tiny(&o, &hp), HYPERION_MODEL_INVALID);
    HY_CHECK_STR(gguf_test_error_text("key"), "llama.attention.head_count_kv");

    tiny_defaults(&o);
    o.grow_tensor = "blk.1.attn_k.weight";
    HY_CHECK_INT(load_tiny(&o, &hp), HYPERION_MODEL_INVALID);
    HY_CHECK_STR(gguf_test_error_text("tensor"), "blk.1.attn_k.weight");
    HY_CHECK(strncmp(gguf_test_error_text("field"), "tensor_infos[", 13) == 0);
    HY_CHECK(strstr(hyperionGetLastError()->message, "expected [32, 16]") != NULL);

    tiny_defaults(&o);
    o.grow_tensor = HY_TENSOR_TOKEN_EMBD; /* 17 rows for 16 tokens */
    HY_CHECK_INT(load_tiny(&o, &hp), HYPERION_MODEL_INVALID);
    HY_CHECK_STR(gguf_test_error_text("tensor"), HY_TENSOR_TOKEN_EMBD);

    tiny_defaults(&o);
    o.omit_key = "llama.block_count";
    o.extra = many_blocks; /* 4 billion blocks cannot be in 20 tensors: refused before allocating */
    HY_CHECK_INT(load_tiny(&o, &hp), HYPERION_MODEL_INVALID);
    HY_CHECK_STR(gguf_test_error_text("key"), "llama.block_count");

    tiny_defaults(&o);
    o.omit_tensor = "blk.1.ffn_up.weight";
    HY_CHECK_INT(load_tiny(&o, &hp), HYPERION_MODEL_INVALID);
    HY_CHECK_STR(gguf_test_error_text("tensor"), "blk.1.ffn_up.weight");
    HY_CHECK(strstr(hyperionGetLastError()->message, "is missing") != NULL);

    tiny_defaults(&o);
    o.extra = head_size_key; /* key_length 16 != 32 / 4: attn_q must then be [32, 64] */
    HY_CHECK_INT(load_tiny(&o, &hp), HYPERION_MODEL_INVALID);
    HY_CHECK_STR(gguf_test_error_text("tensor"), "blk.0.attn_q.weight");
}

HY_TEST(llama_hparams_of_the_corpus_base_model) {
    uint8_t *data = NULL;
    size_t size = 0;
    HY_REQUIRE(hy_gguf_corpus_valid(&data, &size) == HYPERION_OK);
    hy_gguf *g = NULL;
    HY_REQUIRE(hy_gguf_open_memory(data, size, "corpus.gguf", 0, &g) == HYPERION_OK);
    hy_llama_hparams hp;
    HY_CHECK_INT(hy_llama_hparams_read(g, &hp), HYPERION_OK);
    HY_CHECK_INT(hp.n_layer, 1);
    HY_CHECK_INT(hp.n_head_kv, 2);
    HY_CHECK_INT(hp.n_vocab, 16);
    HY_CHECK_INT(hy_llama_weights_bind(g, &hp, NULL), HYPERION_OK);
    hy_gguf_close(g);
    hyperionFree(data);
}
