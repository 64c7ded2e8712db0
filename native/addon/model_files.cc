// model_files.cc — verifyModel / getModelInfo on a path: read-only checks of a
// GGUF file on a native thread, answered as JSON (they never throw for a bad
// file; the report says what is wrong).
#include "addon.h"
#include "async_job.h"

#include <string>

class FileReportJob : public AsyncJob {
 public:
  enum Kind { VERIFY, INFO, INSPECT };
  FileReportJob(std::string path, Kind kind, uint32_t context) : path_(std::move(path)), kind_(kind), context_(context) {}
  ~FileReportJob() override { hyperionFree(json_); }
  hyperion_status Execute() override {
    switch (kind_) {
      case VERIFY: return hyperionVerifyModel(path_.c_str(), &json_);
      case INFO: return hyperionGetModelInfo(path_.c_str(), context_, &json_);
      case INSPECT: return hyperionInspectModel(path_.c_str(), &json_);
    }
    return HYPERION_INTERNAL;
  }
  Napi::Value Result(Napi::Env env) override { return Napi::String::New(env, json_ ? json_ : "null"); }

 private:
  std::string path_;
  Kind kind_;
  uint32_t context_;
  char *json_ = nullptr;
};

static Napi::Value VerifyModel(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  if (!info[0].IsString()) return ThrowInvalidArgument(env, "path", "path must be a string");
  return StartAsyncJob(env, std::make_unique<FileReportJob>(info[0].As<Napi::String>().Utf8Value(), FileReportJob::VERIFY, 0), "hyperion-verify");
}

static Napi::Value ModelInfo(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  if (!info[0].IsString()) return ThrowInvalidArgument(env, "path", "path must be a string");
  uint32_t context = info[1].IsNumber() ? info[1].As<Napi::Number>().Uint32Value() : 0;
  return StartAsyncJob(env, std::make_unique<FileReportJob>(info[0].As<Napi::String>().Utf8Value(), FileReportJob::INFO, context), "hyperion-info");
}

static Napi::Value InspectModel(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  if (!info[0].IsString()) return ThrowInvalidArgument(env, "path", "path must be a string");
  return StartAsyncJob(env, std::make_unique<FileReportJob>(info[0].As<Napi::String>().Utf8Value(), FileReportJob::INSPECT, 0), "hyperion-inspect");
}

void RegisterModelFiles(Napi::Env env, Napi::Object exports) {
  exports.Set("verifyModel", Napi::Function::New(env, VerifyModel, "verifyModel"));
  exports.Set("modelInfo", Napi::Function::New(env, ModelInfo, "modelInfo"));
  exports.Set("inspectModel", Napi::Function::New(env, InspectModel, "inspectModel"));
}
