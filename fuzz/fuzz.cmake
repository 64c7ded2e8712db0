# The libFuzzer targets (included from CMakeLists.txt when HYPERION_FUZZ is ON).
# Each target is a thin libFuzzer entry over a "one input" checker in fuzz/*_input.c;
# the same checkers run the saved reproducers in the normal native test suite
# (native/tests/test_fuzz_regressions.c), so a crash found here stays fixed.
set(HYPERION_FUZZ_DIR "${CMAKE_CURRENT_SOURCE_DIR}/fuzz")
set(HYPERION_FUZZ_COMMON
  "${HYPERION_FUZZ_DIR}/fuzz_common.c"
  "${HYPERION_FUZZ_DIR}/json_check.c"
  "${HYPERION_FUZZ_DIR}/vocab_spec.c")

function(hyperion_fuzz_target name)
  add_executable(fuzz_${name} ${ARGN} ${HYPERION_FUZZ_COMMON})
  hyperion_target_setup(fuzz_${name})
  target_include_directories(fuzz_${name} PRIVATE "${HYPERION_FUZZ_DIR}")
  target_compile_options(fuzz_${name} PRIVATE -fsanitize=fuzzer)
  target_link_options(fuzz_${name} PRIVATE -fsanitize=fuzzer ${HYPERION_SAN_FLAGS})
  target_link_libraries(fuzz_${name} PRIVATE hyperion_core)
endfunction()

hyperion_fuzz_target(gguf "${HYPERION_FUZZ_DIR}/fuzz_gguf.c" "${HYPERION_FUZZ_DIR}/gguf_input.c")
hyperion_fuzz_target(gguf_struct "${HYPERION_FUZZ_DIR}/fuzz_gguf.c" "${HYPERION_FUZZ_DIR}/gguf_input.c"
                     "${HYPERION_FUZZ_DIR}/gguf_layout.c" "${HYPERION_FUZZ_DIR}/gguf_mutator.c")
target_compile_definitions(fuzz_gguf_struct PRIVATE HY_FUZZ_STRUCTURED=1)
hyperion_fuzz_target(gguf_reports "${HYPERION_FUZZ_DIR}/fuzz_gguf.c" "${HYPERION_FUZZ_DIR}/gguf_input.c"
                     "${HYPERION_FUZZ_DIR}/gguf_layout.c" "${HYPERION_FUZZ_DIR}/gguf_mutator.c")
target_compile_definitions(fuzz_gguf_reports PRIVATE HY_FUZZ_STRUCTURED=1 HY_FUZZ_REPORTS=1)
hyperion_fuzz_target(tokenizer "${HYPERION_FUZZ_DIR}/fuzz_tokenizer.c" "${HYPERION_FUZZ_DIR}/tokenizer_input.c")
hyperion_fuzz_target(sampler "${HYPERION_FUZZ_DIR}/fuzz_sampler.c" "${HYPERION_FUZZ_DIR}/sampler_input.c")
hyperion_fuzz_target(stop "${HYPERION_FUZZ_DIR}/fuzz_stop.c" "${HYPERION_FUZZ_DIR}/stop_input.c")

# The seed-corpus builder: a plain program (no fuzzer main) over the same core.
add_executable(fuzz_seeds "${HYPERION_FUZZ_DIR}/make_seeds.c" "${HYPERION_FUZZ_DIR}/gguf_layout.c" ${HYPERION_FUZZ_COMMON})
hyperion_target_setup(fuzz_seeds)
target_include_directories(fuzz_seeds PRIVATE "${HYPERION_FUZZ_DIR}")
target_link_options(fuzz_seeds PRIVATE ${HYPERION_SAN_FLAGS})
target_link_libraries(fuzz_seeds PRIVATE hyperion_core)
