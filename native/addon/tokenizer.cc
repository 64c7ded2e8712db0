// tokenizer.cc — NativeTokenizer for JS: a counted reference to a vocabulary
// (hy_vocab), shared with the model it came from or loaded alone from a
// vocabulary-only GGUF (loadTokenizer). Tokenize and detokenize run
// synchronously: they take microseconds for prompt-sized text.
#include "addon.h"
#include "addon_objects.h"
#include "async_job.h"

#include <cstring>
#include <string>
#include <vector>

extern "C" {
#include "core/internal.h"
#include "hyperion_profiler.h"
#include "runtime/tokenizer_gguf.h"
}

class TokenizerHandle : public Napi::ObjectWrap<TokenizerHandle> {
 public:
  static Napi::Function Define(Napi::Env env);
  TokenizerHandle(const Napi::CallbackInfo &info) : Napi::ObjectWrap<TokenizerHandle>(info) {}
  ~TokenizerHandle() override { hy_vocab_release(vocab_); }
  void Adopt(hy_vocab *vocab) { vocab_ = vocab; }

 private:
  Napi::Value Tokenize(const Napi::CallbackInfo &info);
  Napi::Value Detokenize(const Napi::CallbackInfo &info);
  Napi::Value TokenText(const Napi::CallbackInfo &info);
  Napi::Value Info(const Napi::CallbackInfo &info);
  Napi::Value Release(const Napi::CallbackInfo &info);
  hy_vocab *vocab_ = nullptr;
};

static Napi::Value TokenizerDisposed(Napi::Env env) {
  hy_error_raise(HYPERION_DISPOSED, __FILE__, __LINE__, "load the model or tokenizer again", nullptr, 0,
                 "the tokenizer has been released (its model was disposed)");
  return ThrowLastError(env);
}

// release(): drop the vocabulary now instead of at garbage collection, so a
// disposed model's memory is back at once (its leak check sees it freed).
Napi::Value TokenizerHandle::Release(const Napi::CallbackInfo &info) {
  hy_vocab_release(vocab_);
  vocab_ = nullptr;
  return info.Env().Undefined();
}

Napi::Value NewTokenizerObject(Napi::Env env, hy_vocab *vocab) {
  Napi::Object obj = GetAddonData(env)->tokenizer_ctor.New({});
  hy_vocab_retain(vocab);
  TokenizerHandle::Unwrap(obj)->Adopt(vocab);
  return obj;
}

// The zone is written out: the C macro HY_ZONE_OP uses a compound literal, which C++ lacks.
hyperion_status TokenizeInZone(const hy_tokenizer *tok, const char *text, size_t len, const hy_tokenize_options *o,
                               int32_t *ids, size_t capacity, size_t *n) {
  hyperion_zone zt;
  zt.buffer = nullptr;
  if (HY_PROFILER_ON()) {
    hyperion_zone_meta meta{};
    meta.layer = -1;
    meta.dims[0] = (int64_t)len;  // bytes of text
    meta.bytes = len;
    hyperionZoneBegin(&zt, "tokenize", HYPERION_ZONE_OP, &meta);
  }
  hyperion_status st = hy_tokenizer_tokenize(tok, text, len, o, ids, capacity, n);
  HY_ZONE_END(zt);
  return st;
}

// tokenize(text: string, addBos: -1 | 0 | 1, parseSpecial: boolean) → Int32Array
Napi::Value TokenizerHandle::Tokenize(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  if (!vocab_) return TokenizerDisposed(env);
  if (!info[0].IsString()) return ThrowInvalidArgument(env, "text", "text must be a string");
  std::string text = info[0].As<Napi::String>().Utf8Value();
  hy_tokenize_options o;
  hy_tokenize_options_init(&o);
  if (info[1].IsNumber()) o.add_bos = info[1].As<Napi::Number>().Int32Value();
  o.parse_special = info[2].ToBoolean() ? 1 : 0;
  size_t cap = hy_tokenizer_max_tokens(text.size());
  if (cap == SIZE_MAX || cap > (size_t)1 << 31) return ThrowInvalidArgument(env, "text", "the text is too long to tokenize");
  std::vector<int32_t> ids(cap ? cap : 1);
  size_t n = 0;
  hyperion_status st = TokenizeInZone(vocab_->tok, text.data(), text.size(), &o, ids.data(), ids.size(), &n);
  if (st != HYPERION_OK) return ThrowLastError(env);
  Napi::Int32Array out = Napi::Int32Array::New(env, n);
  if (n) std::memcpy(out.Data(), ids.data(), n * sizeof(int32_t));
  return out;
}

// detokenize(ids: Int32Array, special: boolean, stripLeadingSpace: boolean) → string
Napi::Value TokenizerHandle::Detokenize(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  if (!vocab_) return TokenizerDisposed(env);
  if (!info[0].IsTypedArray() || info[0].As<Napi::TypedArray>().TypedArrayType() != napi_int32_array)
    return ThrowInvalidArgument(env, "ids", "ids must be an Int32Array");
  Napi::Int32Array ids = info[0].As<Napi::Int32Array>();
  unsigned flags = (info[1].ToBoolean() ? HY_DETOK_RENDER_SPECIAL : 0u) | (info[2].ToBoolean() ? HY_DETOK_STRIP_LEADING_SPACE : 0u);
  size_t len = 0;
  std::string out(256, '\0');
  hyperion_status s = hy_tokenizer_detokenize(vocab_->tok, ids.Data(), ids.ElementLength(), flags, &out[0], out.size(), &len);
  if (s != HYPERION_OK && len > out.size()) {  // too small: len is the size needed
    out.resize(len);
    s = hy_tokenizer_detokenize(vocab_->tok, ids.Data(), ids.ElementLength(), flags, &out[0], out.size(), &len);
  }
  if (s != HYPERION_OK) return ThrowLastError(env);
  return Napi::String::New(env, out.data(), len);
}

// tokenText(id) → the stored text of a token ("▁the", "<0x0A>"), or undefined
Napi::Value TokenizerHandle::TokenText(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  if (!vocab_) return TokenizerDisposed(env);
  if (!info[0].IsNumber()) return ThrowInvalidArgument(env, "id", "id must be a number");
  size_t len = 0;
  const char *text = hy_tokenizer_token_text(vocab_->tok, info[0].As<Napi::Number>().Int32Value(), &len);
  if (!text) return env.Undefined();
  return Napi::String::New(env, text, len);
}

static Napi::Value TokenString(Napi::Env env, const hy_tokenizer *tok, int32_t id) {
  size_t len = 0;
  const char *text = id >= 0 ? hy_tokenizer_token_text(tok, id, &len) : nullptr;
  return text ? Napi::String::New(env, text, len) : env.Null();
}

Napi::Value TokenizerHandle::Info(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  if (!vocab_) return TokenizerDisposed(env);
  const hy_tokenizer *tok = vocab_->tok;
  Napi::Object o = Napi::Object::New(env);
  o.Set("kind", hy_tokenizer_get_kind(tok) == HY_TOKENIZER_GPT2 ? "gpt2" : "llama");
  static const char *const pre_names[] = {"none", "gpt2", "llama3", "qwen2", "digits-gpt2"};
  unsigned pre = (unsigned)hy_tokenizer_get_pre(tok);
  o.Set("pre", pre < 5 ? pre_names[pre] : "unknown");
  o.Set("vocabSize", hy_tokenizer_n_vocab(tok));
  const struct { const char *id, *text; int32_t value; } specials[] = {
      {"bos", "bosText", hy_tokenizer_bos(tok)}, {"eos", "eosText", hy_tokenizer_eos(tok)},
      {"eot", "eotText", hy_tokenizer_eot(tok)}, {"pad", "padText", hy_tokenizer_pad(tok)},
      {"unk", "unkText", hy_tokenizer_unk(tok)},
  };
  for (const auto &s : specials) {
    o.Set(s.id, s.value);
    o.Set(s.text, TokenString(env, tok, s.value));
  }
  o.Set("addBos", Napi::Boolean::New(env, hy_tokenizer_add_bos_default(tok) != 0));
  o.Set("addSpacePrefix", Napi::Boolean::New(env, hy_tokenizer_add_space_prefix(tok) != 0));
  o.Set("chatTemplate", vocab_->chat_template ? Napi::String::New(env, vocab_->chat_template, vocab_->chat_template_len)
                                              : env.Null());
  // control and user-defined tokens: for choosing a chat format (bounded)
  Napi::Array special = Napi::Array::New(env);
  uint32_t n = 0, n_vocab = hy_tokenizer_n_vocab(tok);
  for (uint32_t id = 0; id < n_vocab && n < 4096; id++) {
    hy_token_type t = hy_tokenizer_token_type(tok, (int32_t)id);
    if (t == HY_TOKEN_TYPE_CONTROL || t == HY_TOKEN_TYPE_USER_DEFINED) special.Set(n++, TokenString(env, tok, (int32_t)id));
  }
  o.Set("specialTokens", special);
  return o;
}

// ---- loadTokenizer(path) ------------------------------------------------------

class LoadTokenizerJob : public AsyncJob {
 public:
  explicit LoadTokenizerJob(std::string path) : path_(std::move(path)) {}
  ~LoadTokenizerJob() override { hy_vocab_release(vocab_); }
  hyperion_status Execute() override { return hy_vocab_load(path_.c_str(), &vocab_); }
  Napi::Value Result(Napi::Env env) override { return NewTokenizerObject(env, vocab_); }

 private:
  std::string path_;
  hy_vocab *vocab_ = nullptr;
};

static Napi::Value LoadTokenizer(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  if (!info[0].IsString()) return ThrowInvalidArgument(env, "path", "path must be a string");
  return StartAsyncJob(env, std::make_unique<LoadTokenizerJob>(info[0].As<Napi::String>().Utf8Value()),
                       "hyperion-vocab");
}

Napi::Function TokenizerHandle::Define(Napi::Env env) {
  return DefineClass(env, "NativeTokenizer",
                     {InstanceMethod("tokenize", &TokenizerHandle::Tokenize),
                      InstanceMethod("detokenize", &TokenizerHandle::Detokenize),
                      InstanceMethod("tokenText", &TokenizerHandle::TokenText),
                      InstanceMethod("info", &TokenizerHandle::Info),
                      InstanceMethod("release", &TokenizerHandle::Release)});
}

void RegisterTokenizer(Napi::Env env, Napi::Object exports) {
  Napi::Function ctor = TokenizerHandle::Define(env);
  GetAddonData(env)->tokenizer_ctor = Napi::Persistent(ctor);
  exports.Set("loadTokenizer", Napi::Function::New(env, LoadTokenizer, "loadTokenizer"));
}
