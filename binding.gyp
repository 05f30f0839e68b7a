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
        "src/native/process.c",
        "src/native/host.c",
        "src/native/eventfd.c",
        "src/native/inotify.c",
        "src/native/fanotify.c",
        "src/native/timerfd.c",
        "src/native/signal.c",
        "src/native/helper.c",
        "src/native/work.c",
        "src/native/splice.c"
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
