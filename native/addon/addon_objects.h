// addon_objects.h — constructors of the JS objects that wrap runtime objects,
// for the binding files that hand them out (model.cc creates tokenizers and
// sessions of its model).
#ifndef HYPERION_ADDON_OBJECTS_H
#define HYPERION_ADDON_OBJECTS_H

#include <napi.h>

#include <cstdint>

struct hy_vocab;
struct hy_model;

// A NativeTokenizer holding its own reference to vocab.
Napi::Value NewTokenizerObject(Napi::Env env, hy_vocab *vocab);

// A NativeSession of context_size positions (0: the model's default) on model,
// with its generation thread; throws (returns undefined) on failure.
Napi::Value NewSessionObject(Napi::Env env, hy_model *model, uint32_t context_size);

#endif
