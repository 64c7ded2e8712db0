/*
 * model_maker_vocab.c — the synthetic SentencePiece-style vocabulary of the
 * made models (see model_maker.h).
 *
 * Layout by id (a vocabulary of n pieces is the first n of this sequence):
 *   0 "<unk>" (unknown), 1 "<s>", 2 "</s>" (control),
 *   3..258 "<0x00>".."<0xFF>" (byte fallback),
 *   259 "▁" (U+2581, SentencePiece's space), then the printable ASCII
 *   characters, then "▁" + each letter, then English fragments and words
 *   (the list below), then filler: every two-letter lowercase piece, the same
 *   after "▁", then three letters, "▁" + three letters, four letters...
 *
 * Scores are -id, so the merge step of SentencePiece (which merges the pair
 * whose concatenation has the highest score) prefers earlier pieces.
 *
 * Reachability: SentencePiece's encoder (llama.cpp's SPM tokenizer) builds a
 * piece only by merging two adjacent symbols whose concatenation is in the
 * vocabulary, always the pair with the highest score first. A piece is added
 * only when that merge, run on its own text with the pieces before it, ends
 * in two symbols (whose merge is then the piece); otherwise the missing
 * intermediate pieces are added first (see add_reachable). Since later pieces
 * score lower than all earlier ones, they never change an earlier piece's
 * merges, so every prefix of the sequence keeps the property (the tests run
 * the merge on every piece of the written files).
 */
#include "model/model_maker.h"

#include "core/internal.h"

#include <stdio.h>
#include <string.h>

#define SPACE "\xe2\x96\x81" /* U+2581, 3 bytes */
#define SPACE_LEN 3

/* English fragments and words, roughly most useful first. A leading ' ' stands
 * for "▁" (the start of a word). Our own list: common letter pairs and
 * suffixes, then frequent words and the vocabulary of children's stories. */
static const char *const english[] = {
    /* frequent letter pairs and fragments */
    "th", "he", "in", "er", "an", "re", "on", "at", "en", "nd", "ti", "es", "or", "te", "of", "ed", "is", "it",
    "al", "ar", "st", "to", "nt", "ng", "se", "ha", "as", "ou", "io", "le", "ve", "co", "me", "de", "hi", "ri",
    "ro", "ic", "ne", "ea", "ra", "ce", "li", "ch", "ll", "be", "ma", "si", "om", "ur", "ay", "ly", "ow", "ee",
    "oo", "ck", "sh", "wh", "ai", "ey", "ut", "ot", "ig", "ab", "ad", "am", "ap", "ex", "ul", "un", "us", "id",
    "il", "im", "ir", "ol", "op", "os", "pe", "pl", "pr", "qu", "sc", "sp", "tr", "wa", "we", "wi", "wo",
    /* suffixes and word pieces */
    "ing", "ion", "ent", "ers", "est", "ies", "ity", "ous", "ive", "ful", "ess", "ant", "ame", "ake", "ook",
    "ell", "all", "ill", "ind", "ight", "ound", "own", "ead", "ear", "eat", "art", "ark", "ong", "ung", "ang",
    "ink", "ank", "ick", "ack", "ock", "tion", "ation", "ment", "ness", "able", "ally", "ence", "ance",
    "ship", "less", "ted", "ded", "ned", "red", "led", "ped", "ked", "ged", "ized", "ise", "ize", "ure", "ture",
    "'s", "'t", "'re", "'ll", "'ve", "'m", "'d", "n't", "..", "...", "--", ".\"", ",\"", "!\"", "?\"",
    /* the most frequent words */
    " the", " a", " of", " and", " to", " in", " is", " that", " for", " it", " was", " on", " with", " he",
    " as", " you", " at", " be", " this", " have", " from", " or", " one", " had", " by", " word", " but",
    " not", " what", " all", " were", " we", " when", " your", " can", " said", " there", " use", " an",
    " each", " which", " she", " do", " how", " their", " if", " will", " up", " other", " about", " out",
    " many", " then", " them", " these", " so", " some", " her", " would", " make", " like", " him", " into",
    " time", " has", " look", " two", " more", " write", " go", " see", " number", " no", " way", " could",
    " people", " my", " than", " first", " water", " been", " call", " who", " its", " now", " find",
    " long", " down", " day", " did", " get", " come", " made", " may", " part", " over", " new", " after",
    " also", " back", " only", " most", " very", " just", " where", " know", " take", " year", " good",
    " give", " our", " under", " name", " through", " much", " before", " right", " too", " mean", " old",
    " any", " same", " tell", " boy", " follow", " came", " want", " show", " around", " form", " three",
    " small", " set", " put", " end", " does", " another", " well", " large", " must", " big", " even",
    " such", " because", " turn", " here", " why", " ask", " went", " men", " read", " need", " land",
    " different", " home", " us", " move", " try", " kind", " hand", " picture", " again", " change",
    " off", " play", " spell", " air", " away", " animal", " house", " point", " page", " letter", " mother",
    " answer", " found", " study", " still", " learn", " should", " world", " high", " every", " near",
    " add", " food", " between", " own", " below", " country", " plant", " last", " school", " father",
    " keep", " tree", " never", " start", " city", " earth", " eye", " light", " thought", " head",
    " story", " saw", " far", " sea", " draw", " left", " late", " run", " while", " press", " close",
    " night", " real", " life", " few", " north", " open", " seem", " together", " next", " white",
    " children", " begin", " got", " walk", " example", " ease", " paper", " group", " always", " music",
    " those", " both", " mark", " often", " until", " mile", " river", " car", " feet", " care", " second",
    " book", " carry", " took", " science", " eat", " room", " friend", " began", " idea", " fish",
    " mountain", " stop", " once", " base", " hear", " horse", " cut", " sure", " watch", " color", " face",
    " wood", " main", " enough", " plain", " girl", " usual", " young", " ready", " above", " ever", " red",
    " list", " though", " feel", " talk", " bird", " soon", " body", " dog", " family", " direct", " pose",
    " leave", " song", " measure", " door", " product", " black", " short", " numeral", " class", " wind",
    " question", " happen", " complete", " ship", " area", " half", " rock", " order", " fire", " south",
    " problem", " piece", " told", " knew", " pass", " since", " top", " whole", " king", " space", " heard",
    " best", " hour", " better", " true", " during", " hundred", " five", " remember", " step", " early",
    " hold", " west", " ground", " interest", " reach", " fast", " verb", " sing", " listen", " six",
    " table", " travel", " less", " morning", " ten", " simple", " several", " vowel", " toward", " war",
    " lay", " against", " pattern", " slow", " center", " love", " person", " money", " serve", " appear",
    " road", " map", " rain", " rule", " govern", " pull", " cold", " notice", " voice", " unit", " power",
    " town", " fine", " certain", " fly", " fall", " lead", " cry", " dark", " machine", " note", " wait",
    " plan", " figure", " star", " box", " noun", " field", " rest", " correct", " able", " pound", " done",
    " beauty", " drive", " stood", " contain", " front", " teach", " week", " final", " gave", " green",
    " oh", " quick", " develop", " ocean", " warm", " free", " minute", " strong", " special", " mind",
    " behind", " clear", " tail", " produce", " fact", " street", " inch", " multiply", " nothing",
    " course", " stay", " wheel", " full", " force", " blue", " object", " decide", " surface", " deep",
    " moon", " island", " foot", " system", " busy", " test", " record", " boat", " common", " gold",
    " possible", " plane", " stead", " dry", " wonder", " laugh", " thousand", " ago", " ran", " check",
    " game", " shape", " equate", " hot", " miss", " brought", " heat", " snow", " tire", " bring", " yes",
    " distant", " fill", " east", " paint", " language", " among",
    /* children's stories */
    " Once", " upon", " little", " named", " Lily", " Tom", " Tim", " Sue", " Ben", " Max", " Mia", " Sam",
    " happy", " sad", " park", " cat", " ball", " mom", " dad", " friends", " wanted", " asked", " smiled",
    " toy", " sun", " fun", " help", " looked", " liked", " loved", " played", " felt", " thing", " things",
    " jumped", " garden", " flower", " flowers", " scared", " excited", " decided", " inside", " outside",
    " sky", " pretty", " nice", " sorry", " thank", " please", " hug",
    /* capitalized sentence starts */
    " The", " I", " He", " She", " It", " In", " A", " We", " They", " This", " But", " And", " One", " You",
    " When", " There", " What", " So", " Then", " His", " Her", " My", " If", " As", " At", " On", " For",
};

/* ---------------------------------------------------------- the builder */

typedef struct builder {
    uint32_t n, cap_n;          /* pieces so far, and the target count */
    uint64_t *off;              /* [cap_n] offset of each piece in blob */
    uint64_t *len;              /* [cap_n] */
    int32_t *types;             /* [cap_n] */
    char *blob;
    uint64_t blob_len, blob_cap;
    uint32_t *table;            /* open addressing: id + 1, 0 = empty */
    uint32_t table_mask;
} builder;

static uint64_t hash_bytes(const char *s, uint64_t n) {
    uint64_t h = 1469598103934665603ull; /* FNV-1a */
    for (uint64_t i = 0; i < n; i++) h = (h ^ (uint8_t)s[i]) * 1099511628211ull;
    return h;
}

/* The slot holding s, or the empty slot where it would go. */
static uint32_t find_slot(const builder *b, const char *s, uint64_t n) {
    uint32_t i = (uint32_t)hash_bytes(s, n) & b->table_mask;
    for (;;) {
        uint32_t e = b->table[i];
        if (!e) return i;
        uint32_t id = e - 1;
        if (b->len[id] == n && !memcmp(b->blob + b->off[id], s, (size_t)n)) return i;
        i = (i + 1) & b->table_mask;
    }
}

static int contains(const builder *b, const char *s, uint64_t n) {
    return b->table[find_slot(b, s, n)] != 0;
}

static int full(const builder *b) {
    return b->n >= b->cap_n;
}

/* Add s (not yet present, b not full). */
static hyperion_status push(builder *b, const char *s, uint64_t n, int32_t type) {
    if (b->blob_len + n + 1 > b->blob_cap) {
        uint64_t cap = b->blob_cap ? b->blob_cap * 2 : 4096;
        while (cap < b->blob_len + n + 1) cap *= 2;
        char *p = hyperionRealloc(b->blob, (size_t)cap, HYPERION_TAG_TOKENIZER);
        if (!p) return hyperionGetLastError()->code;
        b->blob = p;
        b->blob_cap = cap;
    }
    memcpy(b->blob + b->blob_len, s, (size_t)n);
    b->blob[b->blob_len + n] = '\0';
    b->table[find_slot(b, s, n)] = b->n + 1;
    b->off[b->n] = b->blob_len;
    b->len[b->n] = n;
    b->types[b->n] = type;
    b->blob_len += n + 1;
    b->n++;
    return HYPERION_OK;
}

/* Add s unless present or the vocabulary is full. */
static hyperion_status add(builder *b, const char *s, uint64_t n, int32_t type) {
    if (full(b) || contains(b, s, n)) return HYPERION_OK;
    return push(b, s, n, type);
}

/* Bytes of the UTF-8 character starting at s[0] (the text is valid UTF-8). */
static uint64_t char_len(const char *s) {
    uint8_t c = (uint8_t)s[0];
    return c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
}

#define MAX_PIECE_CHARS 32

/* SentencePiece's merge step on s[0..n) with the pieces so far: start from
 * the characters and repeatedly merge the adjacent pair whose concatenation
 * is a piece with the highest score (lowest id; leftmost on ties) until no
 * pair is a piece. Fills the symbols' starts and lengths; returns their count. */
static int merge(const builder *b, const char *s, uint64_t n, uint64_t *start, uint64_t *len) {
    int count = 0;
    for (uint64_t i = 0; i < n; i += char_len(s + i)) {
        start[count] = i;
        len[count++] = char_len(s + i);
    }
    for (;;) {
        int best = -1;
        uint32_t best_id = 0;
        for (int i = 0; i + 1 < count; i++) {
            uint32_t e = b->table[find_slot(b, s + start[i], len[i] + len[i + 1])];
            if (e && (best < 0 || e - 1 < best_id)) {
                best = i;
                best_id = e - 1;
            }
        }
        if (best < 0) return count;
        len[best] += len[best + 1];
        for (int i = best + 1; i + 1 < count; i++) {
            start[i] = start[i + 1];
            len[i] = len[i + 1];
        }
        count--;
    }
}

/* Add the normal piece s (at most MAX_PIECE_CHARS bytes) so that the merge
 * step builds it from its characters. Its characters are made pieces first.
 * Then, when the merge with the pieces so far stops at two symbols, their
 * pair is s itself (the last merge) and s is added. When it stops at more,
 * the first two symbols are joined into a new piece (made reachable the same
 * way; it is shorter than s and was not a piece, or the merge would have
 * joined it) and the merge is tried again: the pieces added are distinct
 * substrings of s, so this ends. Later pieces score lower than every earlier
 * one, so they never win a merge an earlier piece relies on. */
static hyperion_status add_reachable(builder *b, const char *s, uint64_t n) {
    uint64_t start[MAX_PIECE_CHARS], len[MAX_PIECE_CHARS];
    hyperion_status st;
    if (n > MAX_PIECE_CHARS)
        return HY_RAISE(HYPERION_INTERNAL, NULL, "make-model: vocabulary piece of %llu bytes is too long",
                        (unsigned long long)n);
    for (;;) {
        if (full(b) || contains(b, s, n)) return HYPERION_OK;
        if (char_len(s) == n) return push(b, s, n, 1); /* one character */
        for (uint64_t i = 0; i < n; i += char_len(s + i))
            if ((st = add_reachable(b, s + i, char_len(s + i)))) return st;
        if (full(b)) return HYPERION_OK;
        int count = merge(b, s, n, start, len); /* >= 2: s is not a piece */
        if (count == 2) return push(b, s, n, 1);
        if ((st = add_reachable(b, s + start[0], len[0] + len[1]))) return st;
    }
}

/* Every string of `len` lowercase letters, after "▁" when space. */
static hyperion_status add_letter_block(builder *b, int len, int space) {
    char s[SPACE_LEN + 8];
    int idx[8] = { 0 };
    uint64_t pre = space ? SPACE_LEN : 0;
    if (space) memcpy(s, SPACE, SPACE_LEN);
    for (;;) {
        if (full(b)) return HYPERION_OK;
        for (int i = 0; i < len; i++) s[pre + i] = (char)('a' + idx[i]);
        hyperion_status st = add_reachable(b, s, pre + (uint64_t)len);
        if (st) return st;
        int i = len - 1;
        while (i >= 0 && ++idx[i] == 26) idx[i--] = 0;
        if (i < 0) return HYPERION_OK;
    }
}

static hyperion_status build_all(builder *b) {
    hyperion_status s;
    char text[32];
#define TRY(x) do { if ((s = (x))) return s; } while (0)
    TRY(add(b, "<unk>", 5, 2));
    TRY(add(b, "<s>", 3, 3));
    TRY(add(b, "</s>", 4, 3));
    for (int i = 0; i < 256; i++) {
        snprintf(text, sizeof text, "<0x%02X>", i);
        TRY(add(b, text, 6, 6));
    }
    TRY(add(b, SPACE, SPACE_LEN, 1));
    /* printable ASCII: lowercase, common punctuation, uppercase, digits, the rest */
    static const char singles[] = "abcdefghijklmnopqrstuvwxyz.,'\"!?-:;()ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
                                  "#$%&*+/<=>@[\\]^_`{|}~";
    for (const char *c = singles; *c; c++) TRY(add(b, c, 1, 1));
    memcpy(text, SPACE, SPACE_LEN);
    for (int upper = 0; upper < 2; upper++)
        for (int c = 0; c < 26; c++) {
            text[SPACE_LEN] = (char)((upper ? 'A' : 'a') + c);
            TRY(add_reachable(b, text, SPACE_LEN + 1));
        }
    for (size_t i = 0; i < sizeof english / sizeof english[0]; i++) {
        const char *w = english[i];
        uint64_t n = strlen(w);
        if (w[0] == ' ') {
            memcpy(text, SPACE, SPACE_LEN);
            memcpy(text + SPACE_LEN, w + 1, (size_t)n - 1);
            n += SPACE_LEN - 1;
        } else {
            memcpy(text, w, (size_t)n);
        }
        TRY(add_reachable(b, text, n));
    }
    for (int len = 2; len <= 4 && !full(b); len++) {
        TRY(add_letter_block(b, len, 0));
        TRY(add_letter_block(b, len, 1));
    }
#undef TRY
    return HYPERION_OK;
}

/* ------------------------------------------------------------- the API */

const char hy_make_model_chat_template[] =
    "{% for message in messages %}"
    "{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n' }}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";

void hy_make_model_vocab_free(hy_make_model_vocab *v) {
    if (!v) return;
    hyperionFree((void *)v->text);
    hyperionFree(v->len);
    hyperionFree(v->scores);
    hyperionFree(v->types);
    hyperionFree(v->blob);
    memset(v, 0, sizeof *v);
}

hyperion_status hy_make_model_vocab_build(uint32_t n, hy_make_model_vocab *v) {
    if (!v) return HY_RAISE(HYPERION_INVALID_ARGUMENT, NULL, "hy_make_model_vocab_build: NULL argument");
    memset(v, 0, sizeof *v);
    if (n < HY_MAKE_MODEL_MIN_VOCAB || n > HY_MAKE_MODEL_MAX_VOCAB)
        return HY_RAISE_WITH(HYPERION_INVALID_ARGUMENT, "use a vocabulary of 260 to 262144 tokens",
                             ((hy_field[]){ HY_TXT("field", "shape.n_vocab"), HY_NUM("value", n) }),
                             "make-model: shape.n_vocab = %u is outside [%u, %u] (the tokenizer needs the special, "
                             "byte and space tokens)", n, HY_MAKE_MODEL_MIN_VOCAB, HY_MAKE_MODEL_MAX_VOCAB);
    builder b = { .cap_n = n };
    uint32_t slots = 1;
    while (slots < 2 * n) slots *= 2;
    b.table_mask = slots - 1;
    b.table = hyperionCalloc(slots, sizeof(uint32_t), HYPERION_TAG_TOKENIZER);
    b.off = hyperionAlloc((size_t)n * sizeof(uint64_t), HYPERION_TAG_TOKENIZER);
    b.len = hyperionAlloc((size_t)n * sizeof(uint64_t), HYPERION_TAG_TOKENIZER);
    b.types = hyperionAlloc((size_t)n * sizeof(int32_t), HYPERION_TAG_TOKENIZER);
    v->scores = hyperionAlloc((size_t)n * sizeof(float), HYPERION_TAG_TOKENIZER);
    v->text = hyperionAlloc((size_t)n * sizeof(char *), HYPERION_TAG_TOKENIZER);
    hyperion_status s = HYPERION_OK;
    if (!b.table || !b.off || !b.len || !b.types || !v->scores || !v->text) s = hyperionGetLastError()->code;
    if (!s) s = build_all(&b);
    if (!s && b.n != n)
        s = HY_RAISE_WITH(HYPERION_INVALID_ARGUMENT, "use a smaller vocabulary",
                          ((hy_field[]){ HY_TXT("field", "shape.n_vocab"), HY_NUM("value", n) }),
                          "make-model: the synthetic vocabulary has only %u pieces, fewer than %u", b.n, n);
    hyperionFree(b.table);
    hyperionFree(b.off);
    v->len = b.len;
    v->types = b.types;
    v->blob = b.blob;
    if (s) {
        hy_make_model_vocab_free(v);
        return s;
    }
    v->n = n;
    for (uint32_t i = 0; i < n; i++) {
        v->scores[i] = -(float)i;
    }
    /* offsets are final now that the blob no longer moves */
    uint64_t o = 0;
    for (uint32_t i = 0; i < n; i++) {
        v->text[i] = v->blob + o;
        o += v->len[i] + 1;
    }
    return HYPERION_OK;
}
