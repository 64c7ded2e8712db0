/* test_reference_stories.c — the reference forward pass on a real trained
 * model, stories260K.gguf (llama2.c's TinyStories model converted to GGUF),
 * read with the runtime's own GGUF reader: greedy decoding from BOS must tell
 * a children's story. */
#include "harness.h"
#include "test_llama_util.h"

#include <stdlib.h>

/* Append the text of token id (from tokenizer.ggml.tokens): U+2581 becomes a
 * space, <0x0A> a newline. */
static void append_piece(char *text, size_t size, const hy_gguf *g, int32_t id) {
    const hy_gguf_kv *kv;
    uint64_t count;
    const void *elems;
    const char *piece;
    uint64_t len;
    if (hy_gguf_get_array(g, "tokenizer.ggml.tokens", HY_GGUF_STRING, &kv, &count, &elems) != HYPERION_OK ||
        (uint64_t)id >= count || hy_gguf_array_string(kv, (uint64_t)id, &piece, &len) != HYPERION_OK)
        return;
    size_t n = strlen(text);
    if (len == 6 && strncmp(piece, "<0x0A>", 6) == 0) {
        if (n + 1 < size) text[n++] = '\n';
        text[n] = 0;
        return;
    }
    for (uint64_t i = 0; i < len && n + 1 < size; i++) {
        if (i + 2 < len && (unsigned char)piece[i] == 0xE2 && (unsigned char)piece[i + 1] == 0x96 &&
            (unsigned char)piece[i + 2] == 0x81) {
            text[n++] = ' ';
            i += 2;
        } else {
            text[n++] = piece[i];
        }
    }
    text[n] = 0;
}

HY_TEST(reference_stories260k_tells_a_story) {
    const char *path = hy_test_shared_model("stories260K.gguf");
    if (!path) {
        printf("    skipped: stories260K.gguf not found (set HYPERION_SHARED_DIR or provide ../shared/models)\n");
        return;
    }
    hy_llama_model *m = NULL;
    HY_REQUIRE(hy_llama_model_load(path, &m) == HYPERION_OK);
    /* the shapes the model's README promises */
    HY_CHECK_INT(m->hp.n_layer, 5);
    HY_CHECK_INT(m->hp.n_embd, 64);
    HY_CHECK_INT(m->hp.n_head, 8);
    HY_CHECK_INT(m->hp.n_head_kv, 4);
    HY_CHECK_INT(m->hp.head_dim, 8);
    HY_CHECK_INT(m->hp.n_ff, 172);
    HY_CHECK_INT(m->hp.n_vocab, 512);
    HY_CHECK_INT(m->hp.n_ctx_train, 128);
    HY_CHECK_INT(m->hp.tied_output, 0);

    enum { STEPS = 40, V = 512 };
    int32_t seq[STEPS + 1] = { 1 };
    int n = 1;
    double prob_sum = 0;
    float *logits = malloc((STEPS + 1) * V * sizeof *logits);
    HY_REQUIRE(logits != NULL);
    for (int step = 0; step < STEPS; step++) {
        HY_REQUIRE(hy_test_reference_logits(m, seq, (size_t)n, logits) == HYPERION_OK);
        const float *last = logits + (size_t)(n - 1) * V;
        int best = 0;
        for (int i = 1; i < V; i++) if (last[i] > last[best]) best = i;
        double z = 0;
        for (int i = 0; i < V; i++) z += exp((double)last[i] - last[best]);
        prob_sum += 1.0 / z; /* the probability of the chosen token */
        seq[n++] = best;
        if (best == 2) break; /* EOS */
    }
    char text[2048] = "";
    for (int i = 1; i < n; i++) if (seq[i] > 2) append_piece(text, sizeof text, m->gguf, seq[i]);
    double mean_prob = prob_sum / (n - 1);
    printf("    greedy story (%d tokens, mean top probability %.2f):\n    \"%s\"\n", n - 1, mean_prob,
           text[0] == ' ' ? text + 1 : text); /* the first piece carries the word-start space */

    /* robust signs of a story: common story words, and confident predictions */
    static const char *words[] = { "Once", "upon", "time", " the ", " was ", " a ", " she ", " he ",
                                   "She", "He", "little", "day", "named", "play" };
    int found = 0;
    for (size_t i = 0; i < sizeof words / sizeof words[0]; i++) found += strstr(text, words[i]) != NULL;
    HY_CHECK(found >= 5);
    HY_CHECK(mean_prob > 0.5);
    free(logits);
    hy_llama_model_free(m);
}
