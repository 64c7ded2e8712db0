// addon.cc — module entry: version, CPU features, SIMD switches, and the
// registration of every other binding file.
#include "addon.h"

extern "C" {
#include "hyperion_kernels.h"
}

AddonData *GetAddonData(Napi::Env env) {
  return env.GetInstanceData<AddonData>();
}

static Napi::Value Version(const Napi::CallbackInfo &info) {
  return Napi::String::New(info.Env(), hyperionVersion());
}

static Napi::Value CpuFeatures(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  const hyperion_cpu_features *f = hyperionGetCpuFeatures();
  Napi::Object o = Napi::Object::New(env);
  o.Set("arch", f->arch);
  o.Set("modelName", f->model_name);
  o.Set("logicalCores", f->logical_cores);
  o.Set("physicalCores", f->physical_cores);
  const struct { const char *name; int value; } flags[] = {
      {"sse42", f->sse42},       {"avx", f->avx},           {"avx2", f->avx2},         {"fma", f->fma},
      {"f16c", f->f16c},         {"avx512f", f->avx512f},   {"avx512bw", f->avx512bw}, {"avx512vl", f->avx512vl},
      {"avx512vnni", f->avx512vnni}, {"neon", f->neon},     {"dotprod", f->dotprod},   {"osSavesYmm", f->os_saves_ymm},
      {"osSavesZmm", f->os_saves_zmm},
  };
  for (const auto &flag : flags) o.Set(flag.name, Napi::Boolean::New(env, flag.value != 0));
  o.Set("bestIsa", hyperionIsaName(hyperionBestIsa()));
  Napi::Object kernels = Napi::Object::New(env);
  Napi::Array groups = Napi::Array::New(env);
  uint32_t i = 0;
  for (const char *const *g = hyperionKernelGroups(); *g; g++, i++) {
    hyperion_isa isa = HYPERION_ISA_SCALAR;
    hyperionGetKernelIsa(*g, &isa);
    kernels.Set(*g, hyperionIsaName(isa));
    groups.Set(i, *g);
  }
  o.Set("kernels", kernels);
  o.Set("kernelGroups", groups);
  return o;
}

static Napi::Value EnableSimd(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  if (!info[0].IsString()) return ThrowInvalidArgument(env, "ops", "ops must be a string");
  if (!info[1].IsBoolean()) return ThrowInvalidArgument(env, "on", "on must be a boolean");
  std::string ops = info[0].As<Napi::String>();
  if (hyperionEnableSIMD(ops.c_str(), info[1].As<Napi::Boolean>() ? 1 : 0) != HYPERION_OK) return ThrowLastError(env);
  return env.Undefined();
}

static Napi::Object Init(Napi::Env env, Napi::Object exports) {
  env.SetInstanceData(new AddonData());
  exports.Set("version", Napi::Function::New(env, Version, "version"));
  exports.Set("cpuFeatures", Napi::Function::New(env, CpuFeatures, "cpuFeatures"));
  exports.Set("enableSimd", Napi::Function::New(env, EnableSimd, "enableSimd"));
  RegisterErrors(env, exports);
  RegisterLogging(env, exports);
  RegisterMemory(env, exports);
  RegisterModel(env, exports);
  RegisterModelFiles(env, exports);
  RegisterMaker(env, exports);
  RegisterBench(env, exports);
  RegisterTokenizer(env, exports);
  RegisterSession(env, exports);
  RegisterProfiler(env, exports);
  RegisterTesting(env, exports);
  return exports;
}

NODE_API_MODULE(hyperion, Init)
