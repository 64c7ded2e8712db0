# The addon build that `npm install` runs (through node-gyp-build when no prebuild
# matches). Sources come from native/sources.json, the list CMake reads too.
# Each instruction-set group is its own static library with its own flags, so code
# compiled with -mavx512f (or -march=armv8.2-a+dotprod) lives only in those objects
# and is reached only through the dispatch table chosen from the CPU's features at start.
{
  "target_defaults": {
    "cflags": ["-O3", "-fno-omit-frame-pointer", "-fvisibility=hidden", "-Wall", "-Wextra", "-Wno-unused-parameter"],
    "cflags_c": ["-std=gnu11"],
    "cflags_cc": ["-std=gnu++17"],
    "cflags!": ["-fno-exceptions"],
    "cflags_cc!": ["-fno-exceptions"],
    "defines": ["_GNU_SOURCE", "HYPERION_HAVE_ZLIB=1", "HYPERION_BUILD_ADDON=1"],
    "include_dirs": ["native/include", "native"]
  },
  "conditions": [
    # The x86 instruction-set groups exist only on x86-64; elsewhere (arm64) the
    # dispatch tables hold the scalar kernels (native/kernels/dispatch.c).
    ["target_arch=='x64'", {
      "targets": [
        {
          "target_name": "hyperion_avx2",
          "type": "static_library",
          "sources": ["<!@(node scripts/native-sources.js avx2)"],
          "cflags": ["-mavx2", "-mfma", "-mf16c"]
        },
        {
          "target_name": "hyperion_avx512",
          "type": "static_library",
          "sources": ["<!@(node scripts/native-sources.js avx512)"],
          "cflags": ["-mavx2", "-mfma", "-mf16c", "-mavx512f", "-mavx512bw", "-mavx512vl", "-mavx512vnni"]
        }
      ]
    }],
    # The NEON groups exist only on arm64: Advanced SIMD needs no flag there;
    # the SDOT units get the dot-product extension (cflags on Linux,
    # OTHER_CFLAGS on macOS) and dispatch reaches them only when the CPU has it.
    ["target_arch=='arm64'", {
      "targets": [
        {
          "target_name": "hyperion_neon",
          "type": "static_library",
          "sources": ["<!@(node scripts/native-sources.js neon)"]
        },
        {
          "target_name": "hyperion_neon_dotprod",
          "type": "static_library",
          "sources": ["<!@(node scripts/native-sources.js neon_dotprod)"],
          "cflags": ["-march=armv8.2-a+dotprod"],
          "xcode_settings": { "OTHER_CFLAGS": ["-march=armv8.2-a+dotprod"] }
        }
      ]
    }]
  ],
  "targets": [
    {
      "target_name": "hyperion",
      "conditions": [
        ["target_arch=='x64'", { "dependencies": ["hyperion_avx2", "hyperion_avx512"] }],
        ["target_arch=='arm64'", { "dependencies": ["hyperion_neon", "hyperion_neon_dotprod"] }]
      ],
      "sources": [
        "<!@(node scripts/native-sources.js core)",
        "<!@(node scripts/native-sources.js addon)"
      ],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": ["NAPI_VERSION=8", "NODE_ADDON_API_DISABLE_CPP_EXCEPTIONS", "NODE_API_SWALLOW_UNTHROWABLE_EXCEPTIONS"],
      "libraries": ["-lpthread", "-ldl"]
    }
  ]
}
