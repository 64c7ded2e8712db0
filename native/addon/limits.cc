// limits.cc — resource limits and usage for JS: the packed limits object the
// TS layer validated ({maxMemoryBytes, maxThreads, maxCpuPercent, timeoutMs,
// maxTokens}, 0 = none) to and from runtime/limits.h, and a model's usage
// figures. The bindings that use them are model.cc and session.cc.
#include "addon.h"
#include "addon_objects.h"

extern "C" {
#include "runtime/model.h"
}

static uint64_t Field(Napi::Object o, const char *key) {
  Napi::Value v = o.Get(key);
  if (!v.IsNumber()) return 0;
  double d = v.As<Napi::Number>().DoubleValue();
  return d > 0 ? (uint64_t)d : 0;
}

static uint32_t Field32(Napi::Object o, const char *key) {
  uint64_t v = Field(o, key);
  return v > UINT32_MAX ? UINT32_MAX : (uint32_t)v;
}

bool ReadLimits(Napi::Env env, Napi::Value value, hy_resource_limits *out) {
  *out = hy_resource_limits{};
  if (value.IsUndefined() || value.IsNull()) return true;
  if (!value.IsObject()) {
    ThrowInvalidArgument(env, "limits", "limits must be an object");
    return false;
  }
  Napi::Object o = value.As<Napi::Object>();
  out->max_memory_bytes = Field(o, "maxMemoryBytes");
  out->max_threads = Field32(o, "maxThreads");
  out->max_cpu_percent = Field32(o, "maxCpuPercent");
  out->timeout_ms = Field32(o, "timeoutMs");
  out->max_tokens = Field32(o, "maxTokens");
  return true;
}

Napi::Object LimitsObject(Napi::Env env, const hy_resource_limits &l) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("maxMemoryBytes", (double)l.max_memory_bytes);
  o.Set("maxThreads", l.max_threads);
  o.Set("maxCpuPercent", l.max_cpu_percent);
  o.Set("timeoutMs", l.timeout_ms);
  o.Set("maxTokens", l.max_tokens);
  return o;
}

Napi::Object ModelUsageObject(Napi::Env env, hy_model *model) {
  hy_model_usage u;
  hy_model_get_usage(model, &u);
  Napi::Object o = Napi::Object::New(env);
  o.Set("poolBytesInUse", (double)u.pool_bytes_in_use);
  o.Set("poolBytesPeak", (double)u.pool_bytes_peak);
  o.Set("mappedModelBytes", (double)u.mapped_bytes);
  o.Set("kvCacheBytes", (double)u.kv_cache_bytes);
  Napi::Object threads = Napi::Object::New(env);
  threads.Set("pool", u.threads);
  threads.Set("active", u.active_threads);
  o.Set("threads", threads);
  o.Set("cpuUserMs", (double)u.cpu_user_ns / 1e6);
  o.Set("cpuSystemMs", (double)u.cpu_system_ns / 1e6);
  o.Set("wallMs", (double)u.wall_ns / 1e6);
  o.Set("tokensProcessed", (double)u.tokens_processed);
  o.Set("tokensGenerated", (double)u.tokens_generated);
  o.Set("requestsServed", (double)u.requests);
  o.Set("activeSessions", u.active_sessions);
  return o;
}
