// model_files.cc — verifyModel / getModelInfo on a path: read-only checks of a
// GGUF file on a native thread, answered as JSON (they never throw for a bad
// file; the report says what is wrong).
#include "addon.h"
#include "async_job.h"

#include <string>

class FileReportJob : public AsyncJob {
 public:
  FileReportJob(std::string path, bool verify, uint32_t context) : path_(std::move(path)), verify_(verify), context_(context) {}
  ~FileReportJob() override { hyperionFree(json_); }
  hyperion_status Execute() override {
    return verify_ ? hyperionVerifyModel(path_.c_str(), &json_) : hyperionGetModelInfo(path_.c_str(), context_, &json_);
  }
  Napi::Value Result(Napi::Env env) override { return Napi::String::New(env, json_ ? json_ : "null"); }

 private:
  std::string path_;
  bool verify_;
  uint32_t context_;
  char *json_ = nullptr;
};

static Napi::Value VerifyModel(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  if (!info[0].IsString()) return ThrowInvalidArgument(env, "path", "path must be a string");
  return StartAsyncJob(env, std::make_unique<FileReportJob>(info[0].As<Napi::String>().Utf8Value(), true, 0), "hyperion-verify");
}

static Napi::Value ModelInfo(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  if (!info[0].IsString()) return ThrowInvalidArgument(env, "path", "path must be a string");
  uint32_t context = info[1].IsNumber() ? info[1].As<Napi::Number>().Uint32Value() : 0;
  return StartAsyncJob(env, std::make_unique<FileReportJob>(info[0].As<Napi::String>().Utf8Value(), false, context), "hyperion-info");
}

void RegisterModelFiles(Napi::Env env, Napi::Object exports) {
  exports.Set("verifyModel", Napi::Function::New(env, VerifyModel, "verifyModel"));
  exports.Set("modelInfo", Napi::Function::New(env, ModelInfo, "modelInfo"));
}
