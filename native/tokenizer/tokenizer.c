/*
 * tokenizer.c — building a tokenizer from a hy_tokenizer_spec: validation of
 * every field, the text blob, the vocabulary and merge indexes, byte tokens,
 * the byte alphabet, special-token lists, and the small queries.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "core/internal.h"
#include "tokenizer/tokenizer_internal.h"

void hy_tokenizer_spec_init(hy_tokenizer_spec *spec) {
    if (!spec) return;
    memset(spec, 0, sizeof *spec);
    spec->bos_id = spec->eos_id = spec->eot_id = spec->pad_id = spec->unk_id = -1;
    spec->add_bos = spec->add_eos = spec->add_space_prefix = -1;
}

/* ---------------------------------------------------------------- names */

typedef struct pre_name {
    const char *name;
    hy_pretokenizer pre;
    int ignore_merges;
} pre_name;

/* tokenizer.ggml.pre values as GGUF converters write them. "default" (and an
 * absent key) is taken as GPT-2's rules. */
static const pre_name PRE_NAMES[] = {
    { "default", HY_PRE_GPT2, 0 },    { "gpt-2", HY_PRE_GPT2, 0 },      { "gpt2", HY_PRE_GPT2, 0 },
    { "phi-2", HY_PRE_GPT2, 0 },      { "mpt", HY_PRE_GPT2, 0 },        { "olmo", HY_PRE_GPT2, 0 },
    { "jais", HY_PRE_GPT2, 0 },       { "llama3", HY_PRE_LLAMA3, 1 },   { "llama-v3", HY_PRE_LLAMA3, 1 },
    { "llama-bpe", HY_PRE_LLAMA3, 1 }, { "falcon3", HY_PRE_LLAMA3, 1 }, { "dbrx", HY_PRE_LLAMA3, 0 },
    { "smaug-bpe", HY_PRE_LLAMA3, 0 }, { "qwen2", HY_PRE_QWEN2, 0 },    { "stablelm2", HY_PRE_QWEN2, 0 },
    { "starcoder", HY_PRE_DIGITS_GPT2, 0 }, { "refact", HY_PRE_DIGITS_GPT2, 0 },
    { "command-r", HY_PRE_DIGITS_GPT2, 0 }, { "smollm", HY_PRE_DIGITS_GPT2, 0 },
    { "codeshell", HY_PRE_DIGITS_GPT2, 0 },
};

/* Control tokens that end a turn in common chat formats (used unless
 * HY_TOKENIZER_FLAG_NO_EOG_GUESS): many GGUFs name only EOS, not EOT. */
static const char *const EOG_TEXTS[] = {
    "<|eot_id|>", "<|eom_id|>", "<|im_end|>", "<|end|>", "<end_of_turn>", "<|endoftext|>", "<|end_of_text|>",
};

/* GPT-2's byte alphabet: printable Latin-1 bytes stand for themselves, the
 * other 68 bytes take the code points from U+0100 up, in byte order. */
static void build_byte_alphabet(hy_tokenizer *t) {
    uint32_t next = 256;
    for (int i = 0; i < (int)(sizeof t->cp_byte / sizeof t->cp_byte[0]); i++) t->cp_byte[i] = -1;
    for (int b = 0; b < 256; b++) {
        int printable = (b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
        t->byte_cp[b] = (uint16_t)(printable ? (uint32_t)b : next++);
        t->cp_byte[t->byte_cp[b]] = (int16_t)b;
    }
}

/* ------------------------------------------------------------ validation */

static hyperion_status check_special(const char *field, int32_t id, uint32_t n_vocab) {
    if (id >= -1 && id < (int64_t)n_vocab) return HYPERION_OK;
    return HY_RAISE_WITH(HYPERION_MODEL_INVALID, NULL,
                         ((hy_field[]){ HY_TXT("field", field), HY_NUM("id", id), HY_NUM("n_vocab", n_vocab) }),
                         "tokenizer.ggml.%s is %d, outside the vocabulary of %u tokens", field, (int)id, n_vocab);
}

static hyperion_status check_spec(const hy_tokenizer_spec *spec, hy_tokenizer_kind *kind, const pre_name **pre) {
    if (!spec->model)
        return HY_RAISE_WITH(HYPERION_MODEL_INVALID, NULL, ((hy_field[]){ HY_TXT("field", "tokenizer.ggml.model") }),
                             "the tokenizer model (tokenizer.ggml.model) is missing");
    if (strcmp(spec->model, "llama") == 0) *kind = HY_TOKENIZER_LLAMA;
    else if (strcmp(spec->model, "gpt2") == 0) *kind = HY_TOKENIZER_GPT2;
    else
        return HY_RAISE_WITH(HYPERION_MODEL_UNSUPPORTED, "supported tokenizer models: llama, gpt2",
                             ((hy_field[]){ HY_TXT("field", "tokenizer.ggml.model"), HY_TXT("value", spec->model) }),
                             "unsupported tokenizer model \"%.64s\"", spec->model);
    *pre = NULL;
    if (*kind == HY_TOKENIZER_GPT2) {
        const char *name = spec->pre && spec->pre[0] ? spec->pre : "default";
        for (size_t i = 0; i < sizeof PRE_NAMES / sizeof PRE_NAMES[0]; i++)
            if (strcmp(PRE_NAMES[i].name, name) == 0) *pre = &PRE_NAMES[i];
        if (!*pre)
            return HY_RAISE_WITH(HYPERION_MODEL_UNSUPPORTED,
                                 "supported: default, gpt-2, llama3/llama-bpe, qwen2, smollm, starcoder and kin",
                                 ((hy_field[]){ HY_TXT("field", "tokenizer.ggml.pre"), HY_TXT("value", name) }),
                                 "unsupported pre-tokenizer \"%.64s\" (tokenizer.ggml.pre)", name);
    }
    if (spec->n_vocab == 0 || !spec->tokens)
        return HY_RAISE_WITH(HYPERION_MODEL_INVALID, NULL, ((hy_field[]){ HY_TXT("field", "tokenizer.ggml.tokens") }),
                             "the vocabulary (tokenizer.ggml.tokens) is missing or empty");
    if (spec->n_vocab > HY_TOKENIZER_MAX_VOCAB)
        return HY_RAISE_WITH(HYPERION_MODEL_UNSUPPORTED, NULL,
                             ((hy_field[]){ HY_TXT("field", "tokenizer.ggml.tokens"), HY_NUM("count", spec->n_vocab),
                                            HY_NUM("limit", HY_TOKENIZER_MAX_VOCAB) }),
                             "a vocabulary of %u tokens is more than the supported %u", spec->n_vocab,
                             HY_TOKENIZER_MAX_VOCAB);
    if (*kind == HY_TOKENIZER_GPT2 && (spec->n_merges == 0 || !spec->merges))
        return HY_RAISE_WITH(HYPERION_MODEL_INVALID, NULL, ((hy_field[]){ HY_TXT("field", "tokenizer.ggml.merges") }),
                             "a gpt2 tokenizer needs its merges (tokenizer.ggml.merges)");
    if (spec->n_merges > HY_TOKENIZER_MAX_MERGES || (spec->n_merges && !spec->merges))
        return HY_RAISE_WITH(HYPERION_MODEL_INVALID, NULL,
                             ((hy_field[]){ HY_TXT("field", "tokenizer.ggml.merges"), HY_NUM("count", spec->n_merges) }),
                             "%u merges are too many or missing", spec->n_merges);

    uint64_t total = 0;
    for (uint32_t i = 0; i < spec->n_vocab; i++) {
        const hy_tokenizer_text *tx = &spec->tokens[i];
        if (!tx->ptr && tx->len)
            return HY_RAISE_WITH(HYPERION_MODEL_INVALID, NULL,
                                 ((hy_field[]){ HY_TXT("field", "tokenizer.ggml.tokens"), HY_NUM("index", i) }),
                                 "token %u has no text", i);
        total += tx->len;
        int32_t ty = spec->token_types ? spec->token_types[i] : HY_TOKEN_TYPE_NORMAL;
        if (ty < 0 || ty > HY_TOKEN_TYPE_BYTE)
            return HY_RAISE_WITH(HYPERION_MODEL_INVALID, NULL,
                                 ((hy_field[]){ HY_TXT("field", "tokenizer.ggml.token_type"), HY_NUM("index", i),
                                                HY_NUM("value", ty) }),
                                 "token %u has type %d; ggml token types are 0..6", i, (int)ty);
        if (spec->scores && isnan(spec->scores[i]))
            return HY_RAISE_WITH(HYPERION_MODEL_INVALID, NULL,
                                 ((hy_field[]){ HY_TXT("field", "tokenizer.ggml.scores"), HY_NUM("index", i) }),
                                 "token %u has a NaN score", i);
    }
    for (uint32_t i = 0; i < spec->n_merges; i++) {
        const hy_tokenizer_text *m = &spec->merges[i];
        if ((!m->ptr && m->len) || m->len < 3 || !memchr(m->ptr + 1, ' ', m->len - 2))
            return HY_RAISE_WITH(HYPERION_MODEL_INVALID, NULL,
                                 ((hy_field[]){ HY_TXT("field", "tokenizer.ggml.merges"), HY_NUM("index", i) }),
                                 "merge %u is not of the form \"left right\"", i);
        total += m->len;
    }
    if (total >= UINT32_MAX)
        return HY_RAISE_WITH(HYPERION_MODEL_UNSUPPORTED, NULL, ((hy_field[]){ HY_NUM("bytes", (double)total) }),
                             "the vocabulary's texts take %llu bytes, more than the supported 4 GiB",
                             (unsigned long long)total);

    hyperion_status st;
    if ((st = check_special("bos_token_id", spec->bos_id, spec->n_vocab)) != HYPERION_OK) return st;
    if ((st = check_special("eos_token_id", spec->eos_id, spec->n_vocab)) != HYPERION_OK) return st;
    if ((st = check_special("eot_token_id", spec->eot_id, spec->n_vocab)) != HYPERION_OK) return st;
    if ((st = check_special("unknown_token_id", spec->unk_id, spec->n_vocab)) != HYPERION_OK) return st;
    if (spec->add_bos == 1 && spec->bos_id < 0)
        return HY_RAISE_WITH(HYPERION_MODEL_INVALID, NULL, ((hy_field[]){ HY_TXT("field", "add_bos_token") }),
                             "tokenizer.ggml.add_bos_token is set but there is no bos_token_id");
    if (spec->add_eos == 1 && spec->eos_id < 0)
        return HY_RAISE_WITH(HYPERION_MODEL_INVALID, NULL, ((hy_field[]){ HY_TXT("field", "add_eos_token") }),
                             "tokenizer.ggml.add_eos_token is set but there is no eos_token_id");
    return HYPERION_OK;
}

/* ----------------------------------------------------------------- build */

static int special_order(const hy_tokenizer *t, int32_t a, int32_t b) {
    unsigned char fa = (unsigned char)t->blob[t->text_off[a]], fb = (unsigned char)t->blob[t->text_off[b]];
    if (fa != fb) return fa < fb ? -1 : 1;
    if (t->text_len[a] != t->text_len[b]) return t->text_len[a] > t->text_len[b] ? -1 : 1;  // longest first
    return a < b ? -1 : a > b;
}

/* Shell sort: special tokens are tens to a few thousand, sorted once per build. */
static void sort_specials(const hy_tokenizer *t, int32_t *ids, uint32_t n) {
    static const uint32_t gaps[] = { 701, 301, 132, 57, 23, 10, 4, 1 };
    for (size_t g = 0; g < sizeof gaps / sizeof gaps[0]; g++) {
        uint32_t gap = gaps[g];
        for (uint32_t i = gap; i < n; i++) {
            int32_t v = ids[i];
            uint32_t j = i;
            while (j >= gap && special_order(t, ids[j - gap], v) > 0) {
                ids[j] = ids[j - gap];
                j -= gap;
            }
            ids[j] = v;
        }
    }
}

static hyperion_status build_specials(hy_tokenizer *t) {
    uint32_t n = 0;
    for (uint32_t i = 0; i < t->n_vocab; i++) {
        uint8_t ty = t->types[i];
        if (t->text_len[i] && (ty == HY_TOKEN_TYPE_CONTROL || ty == HY_TOKEN_TYPE_UNKNOWN ||
                               ty == HY_TOKEN_TYPE_USER_DEFINED))
            n++;
    }
    t->n_special = n;
    if (n == 0) return HYPERION_OK;
    t->special_ids = hyperionAlloc((size_t)n * sizeof(int32_t), HYPERION_TAG_TOKENIZER);
    if (!t->special_ids) return hyperionGetLastError()->code;
    n = 0;
    for (uint32_t i = 0; i < t->n_vocab; i++) {
        uint8_t ty = t->types[i];
        if (t->text_len[i] && (ty == HY_TOKEN_TYPE_CONTROL || ty == HY_TOKEN_TYPE_UNKNOWN ||
                               ty == HY_TOKEN_TYPE_USER_DEFINED))
            t->special_ids[n++] = (int32_t)i;
    }
    sort_specials(t, t->special_ids, n);
    uint32_t k = 0;
    for (uint32_t b = 0; b <= 256; b++) {
        while (k < n && (unsigned char)t->blob[t->text_off[t->special_ids[k]]] < b) k++;
        t->special_start[b] = k;
    }
    return HYPERION_OK;
}

static void build_eog(hy_tokenizer *t, uint32_t flags) {
    if (t->eos >= 0) t->eog[t->eos] = 1;
    if (t->eot >= 0) t->eog[t->eot] = 1;
    if (flags & HY_TOKENIZER_FLAG_NO_EOG_GUESS) return;
    for (size_t k = 0; k < sizeof EOG_TEXTS / sizeof EOG_TEXTS[0]; k++) {
        int64_t id = hy_strmap_find(&t->vocab, EOG_TEXTS[k], strlen(EOG_TEXTS[k]));
        if (id >= 0 && t->types[id] == HY_TOKEN_TYPE_CONTROL) t->eog[id] = 1;
    }
}

static hyperion_status build_tables(hy_tokenizer *t, const hy_tokenizer_spec *spec) {
    uint32_t n_text = t->n_vocab + t->n_merges;
    size_t blob_bytes = 1;
    for (uint32_t i = 0; i < t->n_vocab; i++) blob_bytes += spec->tokens[i].len;
    for (uint32_t i = 0; i < t->n_merges; i++) blob_bytes += spec->merges[i].len;

    t->blob = hyperionAlloc(blob_bytes, HYPERION_TAG_TOKENIZER);
    t->text_off = hyperionAlloc((size_t)n_text * sizeof(uint32_t), HYPERION_TAG_TOKENIZER);
    t->text_len = hyperionAlloc((size_t)n_text * sizeof(uint32_t), HYPERION_TAG_TOKENIZER);
    t->scores = hyperionAlloc((size_t)t->n_vocab * sizeof(float), HYPERION_TAG_TOKENIZER);
    t->types = hyperionAlloc(t->n_vocab, HYPERION_TAG_TOKENIZER);
    t->eog = hyperionCalloc(t->n_vocab, 1, HYPERION_TAG_TOKENIZER);
    if (!t->blob || !t->text_off || !t->text_len || !t->scores || !t->types || !t->eog)
        return hyperionGetLastError()->code;

    uint32_t at = 0;
    size_t longest = 1;
    for (uint32_t i = 0; i < n_text; i++) {
        const hy_tokenizer_text *tx = i < t->n_vocab ? &spec->tokens[i] : &spec->merges[i - t->n_vocab];
        if (tx->len) memcpy(t->blob + at, tx->ptr, tx->len);
        t->text_off[i] = at;
        t->text_len[i] = (uint32_t)tx->len;
        at += (uint32_t)tx->len;
        if (i < t->n_vocab && tx->len > longest) longest = tx->len;
    }
    /* A piece never renders longer than its stored text ("▁" → 1 byte, an
     * alphabet character → 1 byte, <0xNN> → 1 byte). */
    t->max_piece = longest;

    for (uint32_t i = 0; i < t->n_vocab; i++) {
        int32_t ty = spec->token_types ? spec->token_types[i] : HY_TOKEN_TYPE_NORMAL;
        t->types[i] = (uint8_t)(ty == 0 ? HY_TOKEN_TYPE_NORMAL : ty);
        t->scores[i] = spec->scores ? spec->scores[i] : 0.0f;
    }

    hyperion_status st = hy_strmap_init(&t->vocab, t->n_vocab, t->blob, t->text_off, t->text_len);
    if (st != HYPERION_OK) return st;
    for (uint32_t i = 0; i < t->n_vocab; i++) {
        if (t->text_len[i] == 0) continue;
        uint32_t holder = hy_strmap_insert(&t->vocab, i);
        /* Duplicate spellings: a piece (normal, user-defined) wins over a token
         * that can never be produced from text, else the first one stays. */
        if (holder != i && !hy_tok_is_piece(t, (int32_t)holder) && hy_tok_is_piece(t, (int32_t)i))
            hy_strmap_replace(&t->vocab, i);
    }
    if (t->kind == HY_TOKENIZER_GPT2) {
        st = hy_strmap_init(&t->merges, t->n_merges, t->blob, t->text_off, t->text_len);
        if (st != HYPERION_OK) return st;
        for (uint32_t r = 0; r < t->n_merges; r++) hy_strmap_insert(&t->merges, t->n_vocab + r);  // lowest rank stays
    }

    t->byte_fallback = 1;
    for (int b = 0; b < 256; b++) {
        char name[8];
        snprintf(name, sizeof name, "<0x%02X>", b);
        int64_t id = hy_strmap_find(&t->vocab, name, 6);
        t->byte_token[b] = id >= 0 && t->types[id] == HY_TOKEN_TYPE_BYTE ? (int32_t)id : -1;
        if (t->byte_token[b] < 0) t->byte_fallback = 0;
    }
    build_byte_alphabet(t);
    return build_specials(t);
}

hyperion_status hy_tokenizer_build(const hy_tokenizer_spec *spec, hy_tokenizer **out) {
    if (out) *out = NULL;
    if (!spec || !out)
        return HY_RAISE(HYPERION_INVALID_ARGUMENT, NULL, "hy_tokenizer_build: spec and out must not be NULL");
    hy_tokenizer_kind kind;
    const pre_name *pre;
    hyperion_status st = check_spec(spec, &kind, &pre);
    if (st != HYPERION_OK) return st;

    hy_tokenizer *t = hyperionCalloc(1, sizeof *t, HYPERION_TAG_TOKENIZER);
    if (!t) return hyperionGetLastError()->code;
    t->kind = kind;
    t->pre = pre ? pre->pre : HY_PRE_NONE;
    t->ignore_merges = pre ? pre->ignore_merges : 0;
    t->n_vocab = spec->n_vocab;
    t->n_merges = kind == HY_TOKENIZER_GPT2 ? spec->n_merges : 0;  // SentencePiece BPE merges by score
    t->bos = spec->bos_id;
    t->eos = spec->eos_id;
    t->eot = spec->eot_id;
    t->unk = spec->unk_id;
    /* A padding id outside the vocabulary is common in converted files and
     * harmless: treat it as absent rather than refusing the model. */
    t->pad = spec->pad_id >= 0 && (uint32_t)spec->pad_id < spec->n_vocab ? spec->pad_id : -1;
    if (spec->pad_id != t->pad)
        HY_LOG(HYPERION_LOG_WARN, HYPERION_LOG_MODEL, "tokenizer: padding_token_id %d is outside the vocabulary; ignored",
               (int)spec->pad_id);
    int default_bos = kind == HY_TOKENIZER_LLAMA;
    t->add_bos = spec->add_bos < 0 ? (default_bos && t->bos >= 0) : spec->add_bos != 0;
    t->add_eos = spec->add_eos < 0 ? 0 : spec->add_eos != 0;
    t->add_space_prefix = kind == HY_TOKENIZER_LLAMA && (spec->add_space_prefix < 0 || spec->add_space_prefix != 0);

    st = build_tables(t, spec);
    if (st != HYPERION_OK) {
        hy_tokenizer_free(t);
        return st;
    }
    build_eog(t, spec->flags);
    *out = t;
    return HYPERION_OK;
}

void hy_tokenizer_free(hy_tokenizer *t) {
    if (!t) return;
    hy_strmap_free(&t->vocab);
    hy_strmap_free(&t->merges);
    hyperionFree(t->special_ids);
    hyperionFree(t->eog);
    hyperionFree(t->types);
    hyperionFree(t->scores);
    hyperionFree(t->text_len);
    hyperionFree(t->text_off);
    hyperionFree(t->blob);
    hyperionFree(t);
}

/* --------------------------------------------------------------- queries */

/* The queries accept NULL (a tokenizer that failed to build) and answer "none". */
hy_tokenizer_kind hy_tokenizer_get_kind(const hy_tokenizer *t) { return t ? t->kind : (hy_tokenizer_kind)0; }
hy_pretokenizer hy_tokenizer_get_pre(const hy_tokenizer *t) { return t ? t->pre : HY_PRE_NONE; }
uint32_t hy_tokenizer_n_vocab(const hy_tokenizer *t) { return t ? t->n_vocab : 0; }
int32_t hy_tokenizer_bos(const hy_tokenizer *t) { return t ? t->bos : -1; }
int32_t hy_tokenizer_eos(const hy_tokenizer *t) { return t ? t->eos : -1; }
int32_t hy_tokenizer_eot(const hy_tokenizer *t) { return t ? t->eot : -1; }
int32_t hy_tokenizer_pad(const hy_tokenizer *t) { return t ? t->pad : -1; }
int32_t hy_tokenizer_unk(const hy_tokenizer *t) { return t ? t->unk : -1; }
int hy_tokenizer_add_bos_default(const hy_tokenizer *t) { return t ? t->add_bos : 0; }
int hy_tokenizer_add_space_prefix(const hy_tokenizer *t) { return t ? t->add_space_prefix : 0; }

int hy_tokenizer_is_eog(const hy_tokenizer *t, int32_t id) {
    return t && id >= 0 && (uint32_t)id < t->n_vocab && t->eog[id];
}

const char *hy_tokenizer_token_text(const hy_tokenizer *t, int32_t id, size_t *len) {
    if (!t || id < 0 || (uint32_t)id >= t->n_vocab) {
        if (len) *len = 0;
        return NULL;
    }
    if (len) *len = t->text_len[id];
    return t->blob + t->text_off[id];
}

hy_token_type hy_tokenizer_token_type(const hy_tokenizer *t, int32_t id) {
    if (!t || id < 0 || (uint32_t)id >= t->n_vocab) return (hy_token_type)0;
    return (hy_token_type)t->types[id];
}

int32_t hy_tokenizer_find(const hy_tokenizer *t, const char *text, size_t len) {
    if (!t || (!text && len)) return -1;
    int64_t id = hy_strmap_find(&t->vocab, text ? text : "", len);
    return (int32_t)id;
}
