/* tokenizer_input.h — the tokenizer fuzz checker (test-only): arbitrary bytes
 * through tokenize → detokenize and the streaming decoder, against tokenizers
 * built from the two shared reference vocabularies. */
#ifndef HYPERION_FUZZ_TOKENIZER_INPUT_H
#define HYPERION_FUZZ_TOKENIZER_INPUT_H

#include <stddef.h>
#include <stdint.h>

/* Load ../shared/vocab's two vocabularies through the GGUF reader and build
 * the tokenizers the checker uses. 0 on success; -1 with a message in err
 * (vocabularies absent or unreadable). Idempotent. */
int hy_fuzz_tokenizers_init(char *err, size_t err_size);
void hy_fuzz_tokenizers_free(void);

/* Input: byte 0 picks the tokenizer and options, the rest is the text (or,
 * in id mode, little-endian int32 token ids). NULL when every invariant held. */
const char *hy_fuzz_tokenizer_one(const uint8_t *data, size_t size);

#endif
