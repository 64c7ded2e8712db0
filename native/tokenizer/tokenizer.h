/*
 * tokenizer.h — text ↔ token ids for the two tokenizer models GGUF files use:
 *   "llama": SentencePiece-style BPE over scored pieces, "▁" as the space
 *            marker, byte fallback to <0xNN> tokens (Llama 1/2, Mistral, ...);
 *   "gpt2":  byte-level BPE with ranked merges after a pre-tokenizer split
 *            chosen from tokenizer.ggml.pre (GPT-2, Llama 3, Qwen 2, ...).
 *
 * A tokenizer is built from a plain description (hy_tokenizer_spec) that the
 * model loader fills from the GGUF metadata; the tokenizer copies everything it
 * needs, so the spec's arrays may be released after the build. All tables come
 * from hyperionAlloc with tag HYPERION_TAG_TOKENIZER.
 *
 * A built tokenizer is immutable: any number of threads may tokenize and
 * detokenize with it at once. A hy_token_stream belongs to one thread at a time.
 */
#ifndef HYPERION_TOKENIZER_H
#define HYPERION_TOKENIZER_H

#include <stddef.h>
#include <stdint.h>

#include "hyperion.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ggml token types (tokenizer.ggml.token_type). 0 ("undefined") is read as normal. */
typedef enum hy_token_type {
    HY_TOKEN_TYPE_NORMAL = 1,
    HY_TOKEN_TYPE_UNKNOWN = 2,
    HY_TOKEN_TYPE_CONTROL = 3,
    HY_TOKEN_TYPE_USER_DEFINED = 4,
    HY_TOKEN_TYPE_UNUSED = 5,
    HY_TOKEN_TYPE_BYTE = 6
} hy_token_type;

typedef enum hy_tokenizer_kind {
    HY_TOKENIZER_LLAMA = 1,  /* SentencePiece-style BPE with scores */
    HY_TOKENIZER_GPT2 = 2    /* byte-level BPE with merges */
} hy_tokenizer_kind;

/* The pre-tokenizer split rules of the gpt2 kind. */
typedef enum hy_pretokenizer {
    HY_PRE_NONE = 0,          /* llama kind: no pre-tokenizer */
    HY_PRE_GPT2 = 1,          /* 's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+ */
    HY_PRE_LLAMA3 = 2,        /* (?i:'s|...)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+ */
    HY_PRE_QWEN2 = 3,         /* as LLAMA3 with \p{N} one digit at a time */
    HY_PRE_DIGITS_GPT2 = 4    /* every \p{N} alone, then the GPT2 rules (StarCoder, SmolLM, ...) */
} hy_pretokenizer;

/* A byte string that need not be NUL-terminated. */
typedef struct hy_tokenizer_text {
    const char *ptr;
    size_t len;
} hy_tokenizer_text;

/* Flags of hy_tokenizer_spec.flags. */
#define HY_TOKENIZER_FLAG_NO_EOG_GUESS 1u  /* do not treat well-known end-of-turn control tokens
                                              ("<|eot_id|>", "<|im_end|>", ...) as end of generation */

/* Everything a tokenizer is built from; field comments name the GGUF key.
 * Initialise with hy_tokenizer_spec_init, then fill. Arrays are borrowed for the
 * duration of hy_tokenizer_build only. */
typedef struct hy_tokenizer_spec {
    const char *model;                /* tokenizer.ggml.model: "llama" or "gpt2" (NUL-terminated) */
    const char *pre;                  /* tokenizer.ggml.pre; NULL or "" = "default" */
    uint32_t n_vocab;                 /* number of tokens, >= 1 */
    const hy_tokenizer_text *tokens;  /* [n_vocab] tokenizer.ggml.tokens */
    const float *scores;              /* [n_vocab] tokenizer.ggml.scores; NULL = all 0 */
    const int32_t *token_types;       /* [n_vocab] tokenizer.ggml.token_type; NULL = all normal */
    uint32_t n_merges;
    const hy_tokenizer_text *merges;  /* [n_merges] tokenizer.ggml.merges, "left right"; rank = index */
    int32_t bos_id;                   /* tokenizer.ggml.bos_token_id; -1 = absent (all ids alike) */
    int32_t eos_id;                   /* tokenizer.ggml.eos_token_id */
    int32_t eot_id;                   /* tokenizer.ggml.eot_token_id */
    int32_t pad_id;                   /* tokenizer.ggml.padding_token_id */
    int32_t unk_id;                   /* tokenizer.ggml.unknown_token_id */
    int add_bos;                      /* tokenizer.ggml.add_bos_token: 1, 0, or -1 = the model's default
                                         (llama: 1, gpt2: 0) */
    int add_eos;                      /* tokenizer.ggml.add_eos_token: 1, 0, -1 = default (0) */
    int add_space_prefix;             /* tokenizer.ggml.add_space_prefix: 1, 0, -1 = default
                                         (llama: 1; the gpt2 kind ignores it) */
    uint32_t flags;                   /* HY_TOKENIZER_FLAG_* */
} hy_tokenizer_spec;

typedef struct hy_tokenizer hy_tokenizer;

/* Zero the spec, set every special id to -1 and the tri-state settings to -1. */
void hy_tokenizer_spec_init(hy_tokenizer_spec *spec);

/* Build a tokenizer from spec into *out (set to NULL on failure).
 * Errors: HYPERION_INVALID_ARGUMENT (NULL pointers), HYPERION_MODEL_UNSUPPORTED
 * (unknown model or pre-tokenizer name, named in the message), HYPERION_MODEL_INVALID
 * (a token type outside 0..6, a special id outside the vocabulary, a gpt2 vocabulary
 * without merges, a merge without a separating space, sizes that overflow; the field
 * and index are named), HYPERION_MEMORY_LIMIT / HYPERION_OUT_OF_MEMORY.
 * The caller owns *out and releases it with hy_tokenizer_free. */
hyperion_status hy_tokenizer_build(const hy_tokenizer_spec *spec, hy_tokenizer **out);

/* Release a tokenizer and all its tables. NULL is a no-op. */
void hy_tokenizer_free(hy_tokenizer *tok);

/* --------------------------------------------------------------- queries */

hy_tokenizer_kind hy_tokenizer_get_kind(const hy_tokenizer *tok);
hy_pretokenizer hy_tokenizer_get_pre(const hy_tokenizer *tok);
uint32_t hy_tokenizer_n_vocab(const hy_tokenizer *tok);
int32_t hy_tokenizer_bos(const hy_tokenizer *tok);  /* -1 when absent */
int32_t hy_tokenizer_eos(const hy_tokenizer *tok);
int32_t hy_tokenizer_eot(const hy_tokenizer *tok);
int32_t hy_tokenizer_pad(const hy_tokenizer *tok);
int32_t hy_tokenizer_unk(const hy_tokenizer *tok);
/* The effective defaults after applying the model's rules to the spec. */
int hy_tokenizer_add_bos_default(const hy_tokenizer *tok);
int hy_tokenizer_add_space_prefix(const hy_tokenizer *tok);

/* 1 when id ends generation: EOS, EOT, or (unless HY_TOKENIZER_FLAG_NO_EOG_GUESS)
 * a control token spelled like a known end-of-turn marker. 0 for any other id,
 * including ids outside the vocabulary. */
int hy_tokenizer_is_eog(const hy_tokenizer *tok, int32_t id);

/* The stored text of a token (as in the vocabulary: "▁the", "Ġthe", "<0x0A>")
 * and its type. NULL / 0 for an id outside the vocabulary. The text is owned by
 * the tokenizer and not NUL-terminated; *len receives its length. */
const char *hy_tokenizer_token_text(const hy_tokenizer *tok, int32_t id, size_t *len);
hy_token_type hy_tokenizer_token_type(const hy_tokenizer *tok, int32_t id);

/* The id of the token whose stored text is exactly text[0..len), or -1. */
int32_t hy_tokenizer_find(const hy_tokenizer *tok, const char *text, size_t len);

/* ------------------------------------------------------------ tokenize */

typedef struct hy_tokenize_options {
    int add_bos;        /* 1: put BOS first, 0: never, -1: the vocabulary's setting */
    int add_eos;        /* 1: put EOS last, 0: never, -1: the vocabulary's setting */
    int parse_special;  /* 1: text of control and unknown tokens ("<s>", "<|eot_id|>") in the
                           input becomes that token; 0: it is tokenized as plain text.
                           User-defined tokens are matched either way, as SentencePiece
                           and Hugging Face tokenizers do. */
} hy_tokenize_options;

/* add_bos = add_eos = -1, parse_special = 0. */
void hy_tokenize_options_init(hy_tokenize_options *options);

/* An upper bound of the ids tokenizing text_len bytes can produce (BOS/EOS
 * included), for sizing the ids buffer. SIZE_MAX when it would overflow. */
size_t hy_tokenizer_max_tokens(size_t text_len);

/* Tokenize text[0..text_len) (any bytes; need not be valid UTF-8 or
 * NUL-terminated; text may be NULL when text_len is 0) into ids[0..capacity).
 * options may be NULL (defaults). *n_ids receives the number of ids the text
 * needs even when they do not fit; then nothing beyond capacity is written and
 * the result is HYPERION_INVALID_ARGUMENT (field "capacity"). Other errors:
 * HYPERION_INVALID_ARGUMENT (add_bos/add_eos asked but the vocabulary has no such
 * token), HYPERION_MODEL_UNSUPPORTED (a byte the vocabulary cannot represent: no
 * byte token and no unknown token), HYPERION_MEMORY_LIMIT / OUT_OF_MEMORY for the
 * call's scratch (tag tokenizer, released before returning). */
hyperion_status hy_tokenizer_tokenize(const hy_tokenizer *tok, const char *text, size_t text_len,
                                      const hy_tokenize_options *options, int32_t *ids, size_t capacity,
                                      size_t *n_ids);

/* ----------------------------------------------------------- detokenize */

#define HY_DETOK_RENDER_SPECIAL 1u        /* control and unknown tokens render as their text
                                             (by default they render as nothing) */
#define HY_DETOK_STRIP_LEADING_SPACE 2u   /* llama kind with add_space_prefix: drop the one
                                             space the prefix put before the text, so that
                                             detokenize(tokenize(x)) == x */

/* The most bytes one token can render to (hy_tokenizer_token_to_piece). */
size_t hy_tokenizer_max_piece_bytes(const hy_tokenizer *tok);

/* The bytes of one token: "▁" becomes a space, <0xNN> the raw byte, gpt2's
 * byte alphabet its bytes. Writes at most capacity bytes to buf (no NUL);
 * *len receives the length. Errors: HYPERION_INVALID_ARGUMENT for an id outside
 * [0, n_vocab) (fields id, index 0) or a buffer smaller than the piece (field
 * "capacity"; *len is the size needed). flags: HY_DETOK_RENDER_SPECIAL. */
hyperion_status hy_tokenizer_token_to_piece(const hy_tokenizer *tok, int32_t id, unsigned flags, char *buf,
                                            size_t capacity, size_t *len);

/* The bytes of ids[0..n_ids) concatenated (raw bytes: a byte-fallback sequence
 * cut short stays cut short). flags: HY_DETOK_*. Every id is validated before
 * anything is written: an id outside [0, n_vocab) gives HYPERION_INVALID_ARGUMENT
 * naming the id and its index. *len receives the bytes needed; when they exceed
 * capacity, the result is HYPERION_INVALID_ARGUMENT (field "capacity") and the
 * output is truncated. */
hyperion_status hy_tokenizer_detokenize(const hy_tokenizer *tok, const int32_t *ids, size_t n_ids, unsigned flags,
                                        char *out, size_t capacity, size_t *len);

/* ------------------------------------------------------ streaming decode */

/* Turns generated ids into text pieces that are always valid UTF-8 and never
 * split a character: bytes of an unfinished character wait for the next token;
 * bytes that can never become a character are replaced by U+FFFD (one per
 * maximal ill-formed subsequence, as the WHATWG decoder and Node's TextDecoder do). */
typedef struct hy_token_stream hy_token_stream;

/* Create a stream over tok (which must outlive it). flags: HY_DETOK_*
 * (STRIP_LEADING_SPACE applies to the first text the stream emits).
 * Its one buffer comes from hyperionAlloc (tag tokenizer); pushes never allocate. */
hyperion_status hy_token_stream_create(const hy_tokenizer *tok, unsigned flags, hy_token_stream **out);

/* Add one id. *text and *len receive the text that is complete now (possibly
 * empty); the pointer stays valid until the next call on the stream. An id
 * outside the vocabulary gives HYPERION_INVALID_ARGUMENT (fields id, index =
 * the number of ids pushed before it) and leaves the stream unchanged. */
hyperion_status hy_token_stream_push(hy_token_stream *stream, int32_t id, const char **text, size_t *len);

/* End of generation: whatever is held back comes out, an unfinished character
 * as U+FFFD. The stream is then as new (the leading-space rule applies again). */
hyperion_status hy_token_stream_flush(hy_token_stream *stream, const char **text, size_t *len);

/* Forget held bytes and start over (as after flush, but emitting nothing). */
void hy_token_stream_reset(hy_token_stream *stream);

/* Bytes currently held back (0..3). */
size_t hy_token_stream_pending(const hy_token_stream *stream);

void hy_token_stream_free(hy_token_stream *stream);

#ifdef __cplusplus
}
#endif

#endif /* HYPERION_TOKENIZER_H */
