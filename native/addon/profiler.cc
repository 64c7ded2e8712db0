// profiler.cc — the profiler for JS (DESIGN.md §5, §8): configuration and
// start on the main thread (they only flip flags), everything that collects,
// analyses, measures the machine or writes files on a native thread of its own
// (StartAsyncJob), settling a Promise. Reports cross as the C core's JSON text
// (camelCase already); the TS layer parses and types them.
#include "addon.h"
#include "async_job.h"

#include <string>

extern "C" {
#include "core/internal.h"
#include "model/gguf.h"
}

namespace {

// ---- configuration and sessions (cheap: main thread) ---------------------------

uint32_t U32(Napi::Object o, const char *key, uint32_t fallback) {
  Napi::Value v = o.Get(key);
  return v.IsNumber() ? v.As<Napi::Number>().Uint32Value() : fallback;
}

int Flag(Napi::Object o, const char *key, int fallback) {
  Napi::Value v = o.Get(key);
  return v.IsBoolean() ? (v.As<Napi::Boolean>().Value() ? 1 : 0) : fallback;
}

// init({trackFunctions, trackMemory, trackCache, sampleIntervalMs, bufferEvents}); the TS
// layer validated the values, the C core checks the ranges again.
Napi::Value Init(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  hyperion_profiler_config c;
  hyperionProfilerConfigDefaults(&c);
  if (info[0].IsObject()) {
    Napi::Object o = info[0].As<Napi::Object>();
    c.track_functions = Flag(o, "trackFunctions", c.track_functions);
    c.track_memory = Flag(o, "trackMemory", c.track_memory);
    c.track_cache = Flag(o, "trackCache", c.track_cache);
    c.sample_interval_ms = U32(o, "sampleIntervalMs", c.sample_interval_ms);
    c.buffer_events = U32(o, "bufferEvents", c.buffer_events);
  }
  if (hyperionInitProfiler(&c) != HYPERION_OK) return ThrowLastError(env);
  return env.Undefined();
}

Napi::Value Start(const Napi::CallbackInfo &info) {
  if (hyperionStartProfiling() != HYPERION_OK) return ThrowLastError(info.Env());
  return info.Env().Undefined();
}

Napi::Value IsProfiling(const Napi::CallbackInfo &info) {
  return Napi::Boolean::New(info.Env(), hyperionIsProfiling() != 0);
}

// Test teardown: stop everything and free every buffer. Only safe while no
// zone is open on any thread (no model work in flight).
Napi::Value Shutdown(const Napi::CallbackInfo &info) {
  hyperionShutdownProfiler();
  return info.Env().Undefined();
}

// ---- jobs ------------------------------------------------------------------------

// A C call that produces text (a JSON report or the table) into *out; resolves with a string.
class TextJob : public AsyncJob {
 public:
  enum Kind { kSummary, kHotspots, kBottlenecks, kTable };
  TextJob(Kind kind, uint32_t n) : kind_(kind), n_(n) {}
  ~TextJob() override { hyperionFree(text_); }
  hyperion_status Execute() override {
    switch (kind_) {
      case kSummary: return hyperionGetProfileSummary(&text_);
      case kHotspots: return hyperionGetHotspots(n_, &text_);
      case kBottlenecks: return hyperionAnalyzeBottlenecks(&text_);
      case kTable: return hyperionGetProfileTable(&text_);
    }
    return HYPERION_INTERNAL;
  }
  Napi::Value Result(Napi::Env env) override { return Napi::String::New(env, text_ ? text_ : ""); }

 private:
  Kind kind_;
  uint32_t n_;
  char *text_ = nullptr;
};

class StopJob : public AsyncJob {
 public:
  hyperion_status Execute() override { return hyperionStopProfiling(); }
  Napi::Value Result(Napi::Env env) override { return env.Undefined(); }
};

class SaveJob : public AsyncJob {
 public:
  SaveJob(std::string path, hyperion_profile_format format) : path_(std::move(path)), format_(format) {}
  hyperion_status Execute() override { return hyperionSaveProfile(path_.c_str(), format_); }
  Napi::Value Result(Napi::Env env) override { return env.Undefined(); }

 private:
  std::string path_;
  hyperion_profile_format format_;
};

class LimitsJob : public AsyncJob {
 public:
  hyperion_status Execute() override { return hyperionGetMachineLimits(&limits_); }
  Napi::Value Result(Napi::Env env) override {
    Napi::Object o = Napi::Object::New(env);
    o.Set("bandwidthGbps", limits_.bandwidth_gbps);
    o.Set("bandwidthGbpsMt", limits_.bandwidth_gbps_mt);
    o.Set("mtThreads", limits_.mt_threads);
    o.Set("peakGflopsScalar", limits_.peak_gflops_scalar);
    o.Set("peakGflopsSimd", limits_.peak_gflops_simd);
    o.Set("peakGflopsSimdMt", limits_.peak_gflops_simd_mt);
    o.Set("simdIsa", limits_.simd_isa ? limits_.simd_isa : "scalar");
    o.Set("machineBalance", limits_.bandwidth_gbps > 0 ? limits_.peak_gflops_simd / limits_.bandwidth_gbps : 0.0);
    o.Set("probeBufferBytes", (double)limits_.probe_buffer_bytes);
    o.Set("llcBytes", (double)limits_.llc_bytes);
    o.Set("probeMs", limits_.probe_ms);
    return o;
  }

 private:
  hyperion_machine_limits limits_{};
};

// What one token of decode must read from a model file: every weight but the
// token embedding, plus one embedding row (the whole embedding again when the
// output projection is tied to it). Reads the GGUF header only.
class ModelFactsJob : public AsyncJob {
 public:
  explicit ModelFactsJob(std::string path) : path_(std::move(path)) {}
  hyperion_status Execute() override {
    hy_gguf *g = nullptr;
    hyperion_status s = hy_gguf_open(path_.c_str(), &g);
    if (s != HYPERION_OK) return s;
    bool has_output = false;
    for (uint64_t i = 0; i < hy_gguf_tensor_count(g); i++) {
      const hy_tensor *t = hy_gguf_tensor_at(g, i);
      std::string name = t->name;
      weight_bytes_ += (double)t->n_bytes;
      tensors_++;
      if (name == "token_embd.weight") {
        embedding_bytes_ = (double)t->n_bytes;
        embedding_row_bytes_ = (double)t->row_bytes;
        continue;
      }
      if (name == "output.weight") has_output = true;
      per_token_ += (double)t->n_bytes;
    }
    tied_ = !has_output;
    per_token_ += tied_ ? embedding_bytes_ : embedding_row_bytes_;
    hy_gguf_close(g);
    return HYPERION_OK;
  }
  Napi::Value Result(Napi::Env env) override {
    Napi::Object o = Napi::Object::New(env);
    o.Set("path", path_);
    o.Set("weightBytes", weight_bytes_);
    o.Set("weightBytesPerToken", per_token_);
    o.Set("embeddingBytes", embedding_bytes_);
    o.Set("embeddingRowBytes", embedding_row_bytes_);
    o.Set("tiedOutput", Napi::Boolean::New(env, tied_));
    o.Set("tensors", tensors_);
    return o;
  }

 private:
  std::string path_;
  double weight_bytes_ = 0, per_token_ = 0, embedding_bytes_ = 0, embedding_row_bytes_ = 0, tensors_ = 0;
  bool tied_ = false;
};

Napi::Value Stop(const Napi::CallbackInfo &info) {
  return StartAsyncJob(info.Env(), std::make_unique<StopJob>(), "hyperion-prof");
}

Napi::Value Summary(const Napi::CallbackInfo &info) {
  return StartAsyncJob(info.Env(), std::make_unique<TextJob>(TextJob::kSummary, 0), "hyperion-prof");
}

Napi::Value Hotspots(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  if (!info[0].IsNumber()) return ThrowInvalidArgument(env, "n", "n must be a number");
  return StartAsyncJob(env, std::make_unique<TextJob>(TextJob::kHotspots, info[0].As<Napi::Number>().Uint32Value()),
                       "hyperion-prof");
}

Napi::Value Bottlenecks(const Napi::CallbackInfo &info) {
  return StartAsyncJob(info.Env(), std::make_unique<TextJob>(TextJob::kBottlenecks, 0), "hyperion-prof");
}

Napi::Value Table(const Napi::CallbackInfo &info) {
  return StartAsyncJob(info.Env(), std::make_unique<TextJob>(TextJob::kTable, 0), "hyperion-prof");
}

Napi::Value Save(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  if (!info[0].IsString()) return ThrowInvalidArgument(env, "path", "path must be a string");
  if (!info[1].IsNumber()) return ThrowInvalidArgument(env, "format", "format must be a number");
  int format = info[1].As<Napi::Number>().Int32Value();
  if (format < HYPERION_PROFILE_CHROME_TRACE || format > HYPERION_PROFILE_BOTH)
    return ThrowInvalidArgument(env, "format", "format must be chrome, summary or both");
  return StartAsyncJob(env, std::make_unique<SaveJob>(info[0].As<Napi::String>().Utf8Value(), (hyperion_profile_format)format),
                       "hyperion-prof");
}

Napi::Value Limits(const Napi::CallbackInfo &info) {
  return StartAsyncJob(info.Env(), std::make_unique<LimitsJob>(), "hyperion-probe");
}

Napi::Value ModelFacts(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  if (!info[0].IsString()) return ThrowInvalidArgument(env, "model.path", "the model's path must be a string");
  return StartAsyncJob(env, std::make_unique<ModelFactsJob>(info[0].As<Napi::String>().Utf8Value()), "hyperion-prof");
}

}  // namespace

Napi::Value ProfileJsonToValue(Napi::Env env, const char *json) {
  if (!json) return env.Null();
  Napi::Object global = env.Global();
  Napi::Function parse = global.Get("JSON").As<Napi::Object>().Get("parse").As<Napi::Function>();
  return parse.Call({Napi::String::New(env, json)});
}

void RegisterProfiler(Napi::Env env, Napi::Object exports) {
  exports.Set("profilerInit", Napi::Function::New(env, Init, "profilerInit"));
  exports.Set("profilerStart", Napi::Function::New(env, Start, "profilerStart"));
  exports.Set("profilerStop", Napi::Function::New(env, Stop, "profilerStop"));
  exports.Set("profilerIsProfiling", Napi::Function::New(env, IsProfiling, "profilerIsProfiling"));
  exports.Set("profilerSummary", Napi::Function::New(env, Summary, "profilerSummary"));
  exports.Set("profilerHotspots", Napi::Function::New(env, Hotspots, "profilerHotspots"));
  exports.Set("profilerBottlenecks", Napi::Function::New(env, Bottlenecks, "profilerBottlenecks"));
  exports.Set("profilerTable", Napi::Function::New(env, Table, "profilerTable"));
  exports.Set("profilerSave", Napi::Function::New(env, Save, "profilerSave"));
  exports.Set("profilerShutdown", Napi::Function::New(env, Shutdown, "profilerShutdown"));
  exports.Set("machineLimits", Napi::Function::New(env, Limits, "machineLimits"));
  exports.Set("profilerModelFacts", Napi::Function::New(env, ModelFacts, "profilerModelFacts"));
}
