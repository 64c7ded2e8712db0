// addon_objects.h — constructors of the JS objects that wrap runtime objects,
// for the binding files that hand them out (model.cc creates tokenizers and
// sessions of its model).
#ifndef HYPERION_ADDON_OBJECTS_H
#define HYPERION_ADDON_OBJECTS_H

#include <napi.h>

#include <cstdint>

extern "C" {
#include "tokenizer/tokenizer.h"
}

struct hy_vocab;
struct hy_model;
struct hy_resource_limits;

// A NativeTokenizer holding its own reference to vocab.
Napi::Value NewTokenizerObject(Napi::Env env, hy_vocab *vocab);

// hy_tokenizer_tokenize under a "tokenize" op zone for the profiler (text
// bytes as its size): model.tokenize() and text prompts of generate() both
// tokenize through it. Any thread.
hyperion_status TokenizeInZone(const hy_tokenizer *tok, const char *text, size_t len, const hy_tokenize_options *o,
                               int32_t *ids, size_t capacity, size_t *n);

// A NativeSession of context_size positions (0: the model's default) on model,
// with its generation thread, under limits (NULL: none); throws (returns
// undefined) on failure.
Napi::Value NewSessionObject(Napi::Env env, hy_model *model, uint32_t context_size, const hy_resource_limits *limits);

// Limits as the TS layer packs them ({maxMemoryBytes, maxThreads,
// maxCpuPercent, timeoutMs, maxTokens}, 0 or absent = none; undefined/null =
// no limits); false (with a JS exception pending) when value is not an object.
bool ReadLimits(Napi::Env env, Napi::Value value, hy_resource_limits *out);
Napi::Object LimitsObject(Napi::Env env, const hy_resource_limits &limits);
// A model's usage figures (getResourceUsage).
Napi::Object ModelUsageObject(Napi::Env env, hy_model *model);

#endif
