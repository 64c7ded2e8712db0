// maker.cc — makeModel(): the project's random-weight model maker, run on a
// native thread, with progress delivered to JS and an abort flag.
#include "addon.h"
#include "async_job.h"

#include <cstring>
#include <ctime>
#include <string>

extern "C" {
#include "model/model_maker.h"
}

namespace {

struct Progress {
  uint64_t done, total;
};

class MakeModelJob : public AsyncJob {
 public:
  MakeModelJob(std::string path, std::string shape, std::string type, uint64_t seed, bool tied, std::string name)
      : path_(std::move(path)), shape_(std::move(shape)), type_(std::move(type)), seed_(seed), tied_(tied), name_(std::move(name)) {}
  ~MakeModelJob() override {
    if (progress_tsfn_) progress_tsfn_.Release();
  }
  void SetProgress(Napi::ThreadSafeFunction tsfn) { progress_tsfn_ = tsfn; }
  volatile int *abort_flag() { return &abort_; }

  hyperion_status Execute() override {
    hy_make_model_params p;
    memset(&p, 0, sizeof p);
    p.shape_name = shape_.c_str();
    p.type_name = type_.c_str();
    p.seed = seed_;
    p.tied = tied_ ? 1 : 0;
    p.model_name = name_.empty() ? nullptr : name_.c_str();
    p.progress = OnProgress;
    p.progress_user = this;
    p.abort_flag = &abort_;
    uint64_t start = hy_clock_ns();
    hyperion_status s = hy_make_model(&p, path_.c_str());
    elapsed_ms_ = (double)(hy_clock_ns() - start) / 1e6;
    return s;
  }
  Napi::Value Result(Napi::Env env) override {
    Napi::Object o = Napi::Object::New(env);
    o.Set("path", path_);
    o.Set("shape", shape_);
    o.Set("type", type_);
    o.Set("seed", (double)seed_);
    o.Set("bytes", (double)total_);
    o.Set("ms", elapsed_ms_);
    return o;
  }

 private:
  static uint64_t hy_clock_ns() {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
  }
  // On the job thread: forward at most one update per percent, never blocking.
  static void OnProgress(void *user, uint64_t done, uint64_t total) {
    auto *self = static_cast<MakeModelJob *>(user);
    self->total_ = total;
    int percent = total ? (int)(done * 100 / total) : 100;
    if (percent == self->last_percent_ || !self->progress_tsfn_) return;
    self->last_percent_ = percent;
    auto *p = new Progress{done, total};
    if (self->progress_tsfn_.NonBlockingCall(p, [](Napi::Env env, Napi::Function fn, Progress *data) {
          if (env != nullptr && fn != nullptr) fn.Call({Napi::Number::New(env, (double)data->done), Napi::Number::New(env, (double)data->total)});
          delete data;
        }) != napi_ok)
      delete p;
  }

  std::string path_, shape_, type_;
  uint64_t seed_;
  bool tied_;
  std::string name_;
  volatile int abort_ = 0;
  int last_percent_ = -1;
  uint64_t total_ = 0;
  double elapsed_ms_ = 0;
  Napi::ThreadSafeFunction progress_tsfn_;
};

// The job's abort flag, reachable from JS through a small handle object.
Napi::Value MakeModel(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  if (!info[0].IsString()) return ThrowInvalidArgument(env, "path", "path must be a string");
  if (!info[1].IsObject()) return ThrowInvalidArgument(env, "options", "options must be an object");
  Napi::Object o = info[1].As<Napi::Object>();
  auto str = [&](const char *key) { return o.Get(key).IsString() ? o.Get(key).As<Napi::String>().Utf8Value() : std::string(); };
  uint64_t seed = o.Get("seed").IsNumber() ? (uint64_t)o.Get("seed").As<Napi::Number>().Int64Value() : 0;
  auto job = std::make_unique<MakeModelJob>(info[0].As<Napi::String>().Utf8Value(), str("shape"), str("type"), seed,
                                            o.Get("tied").ToBoolean(), str("name"));
  if (info[2].IsFunction()) {
    auto tsfn = Napi::ThreadSafeFunction::New(env, info[2].As<Napi::Function>(), "hyperion-make-progress", 64, 1);
    job->SetProgress(tsfn);
  }
  volatile int *flag = job->abort_flag();
  Napi::Promise promise = StartAsyncJob(env, std::move(job), "hyperion-make");
  // abort(): sets the flag the maker polls between rows. The job outlives this
  // function until the promise settles, and JS calls abort only before that.
  Napi::Object handle = Napi::Object::New(env);
  handle.Set("promise", promise);
  handle.Set("abort", Napi::Function::New(env, [flag](const Napi::CallbackInfo &) { *flag = 1; }, "abort"));
  return handle;
}

Napi::Value Shapes(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  Napi::Array shapes = Napi::Array::New(env);
  uint32_t i = 0;
  for (size_t k = 0; k < hy_make_model_shape_count; k++, i++) {
    const hy_make_model_shape *s = &hy_make_model_shapes[k];
    Napi::Object o = Napi::Object::New(env);
    o.Set("name", s->name);
    o.Set("vocab", s->n_vocab);
    o.Set("embedding", s->n_embd);
    o.Set("layers", s->n_layer);
    o.Set("heads", s->n_head);
    o.Set("kvHeads", s->n_head_kv);
    o.Set("feedForward", s->n_ff);
    o.Set("context", s->n_ctx);
    shapes.Set(i, o);
  }
  Napi::Array types = Napi::Array::New(env);
  i = 0;
  for (size_t k = 0; k < hy_make_model_type_count; k++, i++) types.Set(i, hy_make_model_types[k].name);
  Napi::Object out = Napi::Object::New(env);
  out.Set("shapes", shapes);
  out.Set("types", types);
  return out;
}

}  // namespace

void RegisterMaker(Napi::Env env, Napi::Object exports) {
  exports.Set("makeModel", Napi::Function::New(env, MakeModel, "makeModel"));
  exports.Set("makerCatalog", Napi::Function::New(env, Shapes, "makerCatalog"));
}
