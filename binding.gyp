{
  "variables": {
    "butter_sanitize%": 0
  },
  "targets": [
    {
      "target_name": "butter",
      "sources": [
        "src/native/addon.c",
        "src/native/handle.c",
        "src/native/drain.c",
        "src/native/poll_uv.c",
        "src/native/poll_epoll.c",
        "src/native/helper.c",
        "src/native/work.c",
        "<!@(node scripts/native-families.js)"
      ],
      "defines": [
        "NAPI_VERSION=8",
        "_GNU_SOURCE"
      ],
      "cflags": [
        "-std=gnu11",
        "-Wall",
        "-Wextra",
        "-Wno-unused-parameter",
        "-fvisibility=hidden"
      ],
      "conditions": [
        [
          "butter_sanitize==1",
          {
            "cflags": [
              "-fsanitize=address,undefined",
              "-fno-omit-frame-pointer",
              "-fno-sanitize-recover=undefined"
            ],
            "ldflags": [
              "-fsanitize=address,undefined"
            ]
          }
        ]
      ]
    },
    {
      "target_name": "butter-helper",
      "type": "executable",
      "sources": [
        "src/helper/butter-helper.c"
      ],
      "defines": [
        "_GNU_SOURCE"
      ],
      "cflags": [
        "-std=gnu11",
        "-Wall",
        "-Wextra"
      ],
      "conditions": [
        [
          "butter_sanitize==1",
          {
            "cflags": [
              "-fsanitize=address,undefined",
              "-fno-omit-frame-pointer",
              "-fno-sanitize-recover=undefined"
            ],
            "ldflags": [
              "-fsanitize=address,undefined"
            ]
          }
        ]
      ]
    }
  ]
}
