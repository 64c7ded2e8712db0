// model.cc — loadModel / Model for JS: loading and evaluation run on native
// threads of their own (AsyncJob); the JS object holds a counted reference to
// the native model, never a raw pointer JS could see.
#include "addon.h"
#include "addon_objects.h"
#include "async_job.h"
#include "usage_channel.h"

#include <cstring>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

extern "C" {
#include "core/internal.h"
#include "kernels/types.h"
#include "runtime/model.h"
}

// What the leak check at the model's last release found (memory.cc's
// debugger, runtime/model.c's budget). Shared with the C observer, which may
// run on another thread after the JS object is gone.
struct ModelLeakBox {
  std::mutex lock;
  bool released = false;
  std::string name, text, json;
  uint64_t bytes = 0, blocks = 0, tracked = 0;
};

static void OnModelReleased(const hy_model_leak_report *r, void *user) {
  auto *holder = static_cast<std::shared_ptr<ModelLeakBox> *>(user);
  {
    std::lock_guard<std::mutex> hold((*holder)->lock);
    ModelLeakBox &b = **holder;
    b.released = true;
    b.name = r->name ? r->name : "";
    b.bytes = r->bytes;
    b.blocks = r->blocks;
    b.tracked = r->tracked;
    b.text = r->text ? r->text : "";
    b.json = r->json ? r->json : "";
  }
  delete holder;
}

class ModelHandle : public Napi::ObjectWrap<ModelHandle>, public NativeResource {
 public:
  static Napi::Function Define(Napi::Env env);
  ModelHandle(const Napi::CallbackInfo &info) : Napi::ObjectWrap<ModelHandle>(info), env_(info.Env()) {}
  ~ModelHandle() override { Release(); }  // garbage-collected without dispose()
  void Adopt(hy_model *model) {
    model_ = model;
    hy_model_set_release_observer(model, OnModelReleased, new std::shared_ptr<ModelLeakBox>(leaks_));
    TrackResource(env_, this);
    NoteExternalMemory(env_);
  }
  hy_model *model() const { return model_; }
  void ReleaseAtExit() override {
    StopUsageCallback();
    if (model_) hy_model_dispose(model_);
    model_ = nullptr;
  }
  uint64_t NativeBytes() const override { return model_ ? hy_model_memory_bytes(model_) : 0; }

 private:
  void Release() {
    if (!model_) return;
    UntrackResource(env_, this);
    StopUsageCallback();
    hy_model_dispose(model_);  // requests in flight hold their own references
    model_ = nullptr;
  }
  // Once the budget's callback is removed no call runs or starts, so the
  // channel can close (main thread).
  void StopUsageCallback() {
    if (!usage_) return;
    if (model_) hyperionSetMemoryBudgetCallback(model_->budget, nullptr, 0, nullptr, nullptr);
    usage_->Close();
  }
  Napi::Value Info(const Napi::CallbackInfo &info);
  Napi::Value Evaluate(const Napi::CallbackInfo &info);
  Napi::Value Dispose(const Napi::CallbackInfo &info);
  Napi::Value Tokenizer(const Napi::CallbackInfo &info);
  Napi::Value CreateSession(const Napi::CallbackInfo &info);
  Napi::Value LeakReport(const Napi::CallbackInfo &info);
  Napi::Value SetLimits(const Napi::CallbackInfo &info);
  Napi::Value GetLimits(const Napi::CallbackInfo &info);
  Napi::Value GetUsage(const Napi::CallbackInfo &info);
  Napi::Value SetUsageCallback(const Napi::CallbackInfo &info);
  napi_env env_;
  hy_model *model_ = nullptr;
  std::unique_ptr<UsageChannel> usage_;  // the model's usage thresholds (setUsageCallback)
  std::shared_ptr<ModelLeakBox> leaks_ = std::make_shared<ModelLeakBox>();
};

hy_model *NativeModelOf(Napi::Env env, Napi::Value value) {
  Napi::Function ctor = GetAddonData(env)->model_ctor.Value();
  if (!value.IsObject() || !value.As<Napi::Object>().InstanceOf(ctor)) return nullptr;
  return ModelHandle::Unwrap(value.As<Napi::Object>())->model();
}

// ---- loadModel(path, {threads, contextSize, batchSize, kvCacheType, repackWeights}) ---------

class LoadJob : public AsyncJob {
 public:
  LoadJob(std::string path, hy_model_params params, Napi::Function ctor)
      : path_(std::move(path)), params_(params), ctor_(Napi::Persistent(ctor)) {}
  hyperion_status Execute() override { return hy_model_load(path_.c_str(), &params_, &model_); }
  Napi::Value Result(Napi::Env env) override {
    Napi::Object obj = ctor_.New({});
    if (obj.IsEmpty()) return obj;  // the environment is shutting down: Discard() frees the model
    ModelHandle::Unwrap(obj)->Adopt(model_);
    model_ = nullptr;
    return obj;
  }
  void Discard() override {
    if (model_) hy_model_dispose(model_);
    model_ = nullptr;
  }

 private:
  std::string path_;
  hy_model_params params_;
  Napi::FunctionReference ctor_;
  hy_model *model_ = nullptr;
};

static Napi::Value LoadModel(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  if (!info[0].IsString()) return ThrowInvalidArgument(env, "path", "path must be a string");
  hy_model_params params{};
  if (info[1].IsObject()) {
    Napi::Object o = info[1].As<Napi::Object>();
    if (!ReadLimits(env, o.Get("limits"), &params.limits)) return env.Undefined();
    if (o.Get("threads").IsNumber()) params.threads = o.Get("threads").As<Napi::Number>().Int32Value();
    if (o.Get("contextSize").IsNumber()) params.context_size = o.Get("contextSize").As<Napi::Number>().Uint32Value();
    if (o.Get("batchSize").IsNumber()) params.batch_size = o.Get("batchSize").As<Napi::Number>().Uint32Value();
    // validated in TS ('f16' | 'f32'); anything else keeps the default
    if (o.Get("kvCacheType").IsString() && o.Get("kvCacheType").As<Napi::String>().Utf8Value() == "f32")
      params.kv_cache = HY_KV_CACHE_F32;
    // validated in TS (boolean, default true)
    params.repack_weights = o.Get("repackWeights").IsBoolean() ? o.Get("repackWeights").As<Napi::Boolean>().Value() : 1;
  } else {
    params.repack_weights = 1;
  }
  Napi::Function model_ctor = GetAddonData(env)->model_ctor.Value();
  return StartAsyncJob(env, std::make_unique<LoadJob>(info[0].As<Napi::String>().Utf8Value(), params, model_ctor),
                       "hyperion-load");
}

// ---- model.info() -----------------------------------------------------------

Napi::Value ModelHandle::Info(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  if (!model_ || model_->disposed.load()) {
    hy_error_raise(HYPERION_DISPOSED, __FILE__, __LINE__, "load the model again", nullptr, 0, "the model has been disposed");
    return ThrowLastError(env);
  }
  const hy_llama_hparams &hp = model_->llama->hp;
  Napi::Object o = Napi::Object::New(env);
  o.Set("architecture", hp.arch);
  o.Set("vocabSize", hp.n_vocab);
  o.Set("contextLength", hp.n_ctx_train);
  o.Set("embeddingLength", hp.n_embd);
  o.Set("layers", hp.n_layer);
  o.Set("heads", hp.n_head);
  o.Set("kvHeads", hp.n_head_kv);
  o.Set("headDim", hp.head_dim);
  o.Set("feedForwardLength", hp.n_ff);
  o.Set("ropeFreqBase", hp.rope_freq_base);
  o.Set("ropeScaling", hy_rope_scaling_name(hp.rope_scaling));
  o.Set("rmsEpsilon", hp.rms_eps);
  o.Set("tiedOutput", Napi::Boolean::New(env, hp.tied_output != 0));
  o.Set("fileSize", (double)hy_gguf_file_size(model_->llama->gguf));
  o.Set("threads", hy_threadpool_size(model_->pool));
  o.Set("contextSize", model_->params.context_size);
  o.Set("loadMs", (double)model_->load_ns / 1e6);
  o.Set("batchSize", hy_model_batch_size(model_));
  o.Set("kvCacheType", model_->params.kv_cache == HY_KV_CACHE_F32 ? "f32" : "f16");
  o.Set("hasVocabulary", Napi::Boolean::New(env, model_->vocab != nullptr));
  o.Set("repackedTensors", model_->llama->n_repacked);
  o.Set("repackedBytes", (double)model_->llama->repacked_bytes);
  // parameters and the tensor-type histogram
  double params = 0;
  Napi::Object types = Napi::Object::New(env);
  const hy_gguf *g = model_->llama->gguf;
  for (uint64_t i = 0; i < hy_gguf_tensor_count(g); i++) {
    const hy_tensor *t = hy_gguf_tensor_at(g, i);
    double elems = (double)t->ne[0] * (double)t->ne[1] * (double)t->ne[2] * (double)t->ne[3];
    params += elems;
    const hy_type_info *ti = hy_type_get(t->type);
    const char *name = ti ? ti->name : "unknown";
    Napi::Object entry = types.Has(name) ? types.Get(name).As<Napi::Object>() : Napi::Object::New(env);
    double count = entry.Has("tensors") ? entry.Get("tensors").As<Napi::Number>().DoubleValue() : 0;
    double bytes = entry.Has("bytes") ? entry.Get("bytes").As<Napi::Number>().DoubleValue() : 0;
    entry.Set("tensors", count + 1);
    entry.Set("bytes", bytes + (double)t->n_bytes);
    types.Set(name, entry);
  }
  o.Set("parameters", params);
  o.Set("tensorTypes", types);
  return o;
}

// ---- model.evaluate(Int32Array, allLogits) ------------------------------------

class EvaluateJob : public AsyncJob {
 public:
  EvaluateJob(hy_model *model, std::vector<int32_t> tokens, bool all) : model_(model), tokens_(std::move(tokens)), all_(all) {}
  ~EvaluateJob() override { hy_model_release(model_); }
  hyperion_status Execute() override {
    size_t rows = all_ ? tokens_.size() : 1;
    logits_.resize(rows * model_->llama->hp.n_vocab);
    return hy_model_evaluate(model_, tokens_.data(), (uint32_t)tokens_.size(), all_ ? 1 : 0, logits_.data(), nullptr);
  }
  Napi::Value Result(Napi::Env env) override {
    NoteExternalMemory(env);
    Napi::Float32Array out = Napi::Float32Array::New(env, logits_.size());
    std::memcpy(out.Data(), logits_.data(), logits_.size() * sizeof(float));
    return out;
  }

 private:
  hy_model *model_;
  std::vector<int32_t> tokens_;
  bool all_;
  std::vector<float> logits_;
};

Napi::Value ModelHandle::Evaluate(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  if (!info[0].IsTypedArray() || info[0].As<Napi::TypedArray>().TypedArrayType() != napi_int32_array)
    return ThrowInvalidArgument(env, "tokens", "tokens must be an Int32Array");
  if (!model_ || hy_model_acquire(model_) != HYPERION_OK) {
    if (!model_) hy_error_raise(HYPERION_DISPOSED, __FILE__, __LINE__, nullptr, nullptr, 0, "the model has been disposed");
    return ThrowLastError(env);
  }
  Napi::Int32Array arr = info[0].As<Napi::Int32Array>();
  std::vector<int32_t> tokens(arr.Data(), arr.Data() + arr.ElementLength());
  return StartAsyncJob(env, std::make_unique<EvaluateJob>(model_, std::move(tokens), info[1].ToBoolean()), "hyperion-eval");
}

Napi::Value ModelHandle::Dispose(const Napi::CallbackInfo &info) {
  Release();
  NoteExternalMemory(info.Env());
  return info.Env().Undefined();
}

// ---- model.tokenizer() / model.createSession(contextSize) ----------------------

static Napi::Value ModelDisposed(Napi::Env env) {
  hy_error_raise(HYPERION_DISPOSED, __FILE__, __LINE__, "load the model again", nullptr, 0, "the model has been disposed");
  return ThrowLastError(env);
}

// The model's tokenizer (a NativeTokenizer sharing its vocabulary), or null
// for a file without one.
Napi::Value ModelHandle::Tokenizer(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  if (!model_ || model_->disposed.load()) return ModelDisposed(env);
  if (!model_->vocab) return env.Null();
  return NewTokenizerObject(env, model_->vocab);
}

// createSession(contextSize, limits?)
Napi::Value ModelHandle::CreateSession(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  if (!model_ || model_->disposed.load()) return ModelDisposed(env);
  uint32_t context_size = info[0].IsNumber() ? info[0].As<Napi::Number>().Uint32Value() : 0;
  hy_resource_limits limits;
  if (!ReadLimits(env, info[1], &limits)) return env.Undefined();
  return NewSessionObject(env, model_, context_size, &limits);
}

// ---- limits and usage ---------------------------------------------------------

// setResourceLimits(packed): replaces all of them
Napi::Value ModelHandle::SetLimits(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  if (!model_ || model_->disposed.load()) return ModelDisposed(env);
  hy_resource_limits limits;
  if (!ReadLimits(env, info[0], &limits)) return env.Undefined();
  if (hy_model_set_limits(model_, &limits) != HYPERION_OK) return ThrowLastError(env);
  return env.Undefined();
}

Napi::Value ModelHandle::GetLimits(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  if (!model_ || model_->disposed.load()) return ModelDisposed(env);
  hy_resource_limits limits;
  hy_model_get_limits(model_, &limits);
  return LimitsObject(env, limits);
}

Napi::Value ModelHandle::GetUsage(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  if (!model_ || model_->disposed.load()) return ModelDisposed(env);
  return ModelUsageObject(env, model_);
}

// setUsageCallback(fn | null, thresholds: number[]): fn({threshold, rising,
// inUseBytes, limitBytes, tag}) on the main thread when the model's memory
// crosses a fraction of its maxMemoryMb
Napi::Value ModelHandle::SetUsageCallback(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  if (!model_ || model_->disposed.load()) return ModelDisposed(env);
  if (!info[0].IsFunction()) {
    StopUsageCallback();
    return env.Undefined();
  }
  if (!info[1].IsArray()) return ThrowInvalidArgument(env, "thresholds", "thresholds must be an array");
  Napi::Array list = info[1].As<Napi::Array>();
  double th[HYPERION_MEMORY_MAX_THRESHOLDS];
  uint32_t n = list.Length();
  if (n == 0 || n > HYPERION_MEMORY_MAX_THRESHOLDS)
    return ThrowInvalidArgument(env, "thresholds", "1 to 8 thresholds");
  for (uint32_t i = 0; i < n; i++) th[i] = list.Get(i).ToNumber().DoubleValue();
  if (!usage_) usage_ = std::make_unique<UsageChannel>();
  usage_->Open(env, info[0].As<Napi::Function>(), "hyperion-model-usage");
  if (hyperionSetMemoryBudgetCallback(model_->budget, th, n, UsageChannel::Callback, usage_.get()) != HYPERION_OK) {
    hyperion_error e = *hyperionGetLastError();
    usage_->Close();
    hy_error_restore(&e);
    return ThrowLastError(env);
  }
  return env.Undefined();
}

// null until the native model's last reference went, then what it left behind.
Napi::Value ModelHandle::LeakReport(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  std::lock_guard<std::mutex> hold(leaks_->lock);
  if (!leaks_->released) return env.Null();
  Napi::Object o = Napi::Object::New(env);
  o.Set("name", leaks_->name);
  o.Set("bytes", (double)leaks_->bytes);
  o.Set("blocks", (double)leaks_->blocks);
  o.Set("trackedBlocks", (double)leaks_->tracked);
  o.Set("text", leaks_->text);
  o.Set("json", leaks_->json);
  return o;
}

Napi::Function ModelHandle::Define(Napi::Env env) {
  return DefineClass(env, "NativeModel",
                     {InstanceMethod("info", &ModelHandle::Info), InstanceMethod("evaluate", &ModelHandle::Evaluate),
                      InstanceMethod("dispose", &ModelHandle::Dispose),
                      InstanceMethod("tokenizer", &ModelHandle::Tokenizer),
                      InstanceMethod("createSession", &ModelHandle::CreateSession),
                      InstanceMethod("leakReport", &ModelHandle::LeakReport),
                      InstanceMethod("setResourceLimits", &ModelHandle::SetLimits),
                      InstanceMethod("getResourceLimits", &ModelHandle::GetLimits),
                      InstanceMethod("getResourceUsage", &ModelHandle::GetUsage),
                      InstanceMethod("setUsageCallback", &ModelHandle::SetUsageCallback)});
}

void RegisterModel(Napi::Env env, Napi::Object exports) {
  Napi::Function ctor = ModelHandle::Define(env);
  GetAddonData(env)->model_ctor = Napi::Persistent(ctor);
  exports.Set("NativeModel", ctor);
  exports.Set("loadModel", Napi::Function::New(env, LoadModel, "loadModel"));
}
