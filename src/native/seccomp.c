/*
 * seccomp: seccomp(2) and the prctl(2) options that go with it, and the code
 * generator of Butter's filter compiler. Rules are checked in TypeScript
 * (src/high/seccomp*.ts, which also interprets and disassembles programs),
 * which hands them here as a flat array of words (seccompAssemble): this
 * resolves a profile's names and lays out the program, because a program is
 * compiled once per process and V8 runs that much code slowly the first time.
 * For the same reason the usual profile's JSON text is read here too
 * (seccompAssembleProfile); anything else is left to TypeScript.
 *
 * seccomp(2) takes a program as the
 * bytes of a `struct sock_filter` array, which the kernel validates itself
 * (EINVAL for a bad instruction, a jump out of the program or more than
 * BPF_MAXINSNS instructions).
 *
 * Filters, strict mode and no_new_privs belong to the calling thread, except
 * with SECCOMP_FILTER_FLAG_TSYNC, which gives every thread the caller's filter
 * (and its no_new_privs). glibc has no seccomp() wrapper: raw syscall.
 */
#include "butter.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <unistd.h>

static long sys_seccomp(unsigned int op, unsigned int flags, void *args) {
  return syscall(SYS_seccomp, op, flags, args);
}

/* seccompSetModeStrict() -> 0 | -errno. From here on the calling thread may only read, write, _exit and sigreturn. */
static napi_value js_seccomp_set_mode_strict(napi_env env, napi_callback_info info) {
  return butter_int(env, sys_seccomp(SECCOMP_SET_MODE_STRICT, 0, NULL) < 0 ? -errno : 0);
}

/*
 * seccompSetModeFilter(flags, program) -> 0 | -errno, or with NEW_LISTENER the
 * listener fd, which the caller owns and closes; with TSYNC a positive result
 * is the id of a thread that could not be synchronized (nothing was loaded).
 * `program` holds whole sock_filter records (the TS layer checked its length).
 */
static napi_value js_seccomp_set_mode_filter(napi_env env, napi_callback_info info) {
  uint32_t flags;
  const void *data;
  size_t len;
  if (!butter_args(env, info, "uB", &flags, &data, &len)) return NULL;
  struct sock_fprog prog = {.len = (unsigned short)(len / sizeof(struct sock_filter)), .filter = (struct sock_filter *)data};
  long r = sys_seccomp(SECCOMP_SET_MODE_FILTER, flags, &prog);
  return butter_int(env, r < 0 ? -errno : r);
}

/* seccompGetActionAvail(action) -> 0 (the kernel knows the action) | -errno (EOPNOTSUPP: it does not). */
static napi_value js_seccomp_get_action_avail(napi_env env, napi_callback_info info) {
  uint32_t action;
  if (!butter_args(env, info, "u", &action)) return NULL;
  return butter_int(env, sys_seccomp(SECCOMP_GET_ACTION_AVAIL, 0, &action) < 0 ? -errno : 0);
}

/* seccompGetNotifSizes() -> [notif, resp, data] (the kernel's struct sizes, in bytes) | -errno */
static napi_value js_seccomp_get_notif_sizes(napi_env env, napi_callback_info info) {
  struct seccomp_notif_sizes sizes;
  if (sys_seccomp(SECCOMP_GET_NOTIF_SIZES, 0, &sizes) < 0) return butter_errno_result(env, errno);
  napi_value r;
  napi_create_array_with_length(env, 3, &r);
  napi_set_element(env, r, 0, butter_int(env, sizes.seccomp_notif));
  napi_set_element(env, r, 1, butter_int(env, sizes.seccomp_notif_resp));
  napi_set_element(env, r, 2, butter_int(env, sizes.seccomp_data));
  return r;
}

/* prctlSetNoNewPrivs() -> 0 | -errno. One way only: the kernel has no call to clear it. */
static napi_value js_prctl_set_no_new_privs(napi_env env, napi_callback_info info) {
  return butter_int(env, prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 ? -errno : 0);
}

/* prctlGetNoNewPrivs() -> 0 | 1 | -errno */
static napi_value js_prctl_get_no_new_privs(napi_env env, napi_callback_info info) {
  int r = prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0);
  return butter_int(env, r < 0 ? -errno : r);
}

/* prctlGetSeccomp() -> SECCOMP_MODE_DISABLED | SECCOMP_MODE_FILTER | -errno (a strict-mode thread is killed by the call itself). */
static napi_value js_prctl_get_seccomp(napi_env env, napi_callback_info info) {
  int r = prctl(PR_GET_SECCOMP, 0, 0, 0, 0);
  return butter_int(env, r < 0 ? -errno : r);
}

/*
 * The code generator. Its input (built by compileRules in
 * src/high/seccomp.ts, which has checked every value) is 32-bit words:
 *
 *   fallback, badArch, n, arch[n], m, actions[m], then per syscall a rule
 *   is for: arch, nr, the rule's offset in actions
 *
 * where a rule in actions is its action's value, its number of checks and
 * per check: index, op, value high, value low, mask high, mask low. arch is
 * ARCH_*, with RECORD_NAMED for a record of every syscall of a list of names
 * (nr is then its index in the names argument); op is OP_*; the order of the
 * syscall records decides between the rules of one syscall. The program: load the arch and compare it with each
 * AUDIT_ARCH compiled for, else badArch; per AUDIT_ARCH, load the number
 * (x86_64 splits x32's off at bit 30) and binary-search it. The leaves are
 * runs of numbers with one action (a `ret`), or one syscall's rules, whose
 * arguments are read only there: the kernel's action cache (5.11) then knows
 * every syscall without argument rules without running the filter.
 */
enum { ARCH_X86_64, ARCH_X32, ARCH_AARCH64, ARCH_COUNT };
enum { OP_EQ, OP_NE, OP_LT, OP_LE, OP_GT, OP_GE, OP_MASKED_EQ, OP_COUNT };
#define X32_SYSCALL_BIT 0x40000000u
#define RECORD_NAMED 0x100 /* in a syscall record's arch: its nr is an index into names */
#define CHECK_WORDS 6
#define DATA_NR 0
#define DATA_ARCH 4
#define DATA_ARGS 16
static const uint32_t audit_arch[ARCH_COUNT] = {AUDIT_ARCH_X86_64, AUDIT_ARCH_X86_64, AUDIT_ARCH_AARCH64};

typedef struct {
  uint32_t arch, nr, value, nchecks;
  uint32_t at; /* the rule's offset in actions */
  const uint32_t *checks;
} rule;

/* A syscall's own rules, or a run of numbers from `start` with one action. */
typedef struct {
  uint64_t start;
  uint32_t value;
  const rule *rules; /* NULL for a run */
  uint32_t count;
} leaf;

/*
 * Code with symbolic forward labels: a label is an index into `pos`, placed
 * by a LABEL item; a conditional jump names two labels, `ja` one.
 */
enum { IT_INSN, IT_JUMP, IT_JA, IT_LABEL };
typedef struct {
  uint8_t kind;
  uint16_t code;
  uint32_t k, t, f;
} item;

typedef struct {
  item *items;
  size_t n, cap;
  uint32_t *pos;
  uint32_t labels, label_cap;
  bool failed; /* out of memory: everything after is ignored */
} assembler;

#define NEXT UINT32_MAX

/*
 * Makes room for element `n` of the array *items of *cap elements of `size`
 * bytes, doubling it (the first time to `first`); false when out of memory,
 * the array left as it was.
 */
static bool grow(void **items, size_t n, size_t *cap, size_t size, size_t first) {
  if (n < *cap) return true;
  size_t c = *cap ? *cap * 2 : first;
  void *p = realloc(*items, c * size);
  if (!p) return false;
  *items = p;
  *cap = c;
  return true;
}

static uint32_t label(assembler *a) {
  if (a->labels == a->label_cap) {
    uint32_t cap = a->label_cap ? a->label_cap * 2 : 256;
    uint32_t *pos = a->failed ? NULL : realloc(a->pos, cap * sizeof *pos);
    if (!pos) {
      a->failed = true;
      return 0;
    }
    a->pos = pos;
    a->label_cap = cap;
  }
  return a->labels++;
}

static void push(assembler *a, item it) {
  if (a->failed || !grow((void **)&a->items, a->n, &a->cap, sizeof *a->items, 512)) {
    a->failed = true;
    return;
  }
  a->items[a->n++] = it;
}

static void stmt(assembler *a, uint16_t code, uint32_t k) {
  push(a, (item){.kind = IT_INSN, .code = code, .k = k});
}

static void place(assembler *a, uint32_t l) {
  push(a, (item){.kind = IT_LABEL, .t = l});
}

/* A conditional jump; a NEXT target is the instruction after it. */
static void jump(assembler *a, uint16_t op, uint32_t k, uint32_t t, uint32_t f) {
  uint32_t next = t == NEXT || f == NEXT ? label(a) : NEXT;
  push(a, (item){.kind = IT_JUMP, .code = BPF_JMP | op | BPF_K, .k = k, .t = t == NEXT ? next : t, .f = f == NEXT ? next : f});
  if (next != NEXT) place(a, next);
}

static bool far(const assembler *a, uint32_t target, size_t at) {
  return a->pos[target] - at - 1 > 255;
}

/*
 * Places the labels; while some conditional jump is more than 255
 * instructions from a target (its offsets are 8-bit), sends that side to an
 * unconditional `ja` (32-bit offset) right after the jump, and lays out
 * again. Insertions only lengthen jumps, so a far jump stays far and this
 * ends. Returns the number of instructions, or 0 out of memory.
 */
static size_t layout(assembler *a) {
  for (;;) {
    if (a->failed) return 0;
    size_t n = 0, hops = 0;
    for (size_t i = 0; i < a->n; i++) {
      if (a->items[i].kind == IT_LABEL) a->pos[a->items[i].t] = (uint32_t)n;
      else n++;
    }
    for (size_t i = 0, at = 0; i < a->n; i++) {
      const item *it = &a->items[i];
      if (it->kind == IT_LABEL) continue;
      if (it->kind == IT_JUMP) hops += far(a, it->t, at) + far(a, it->f, at);
      at++;
    }
    if (hops == 0) return n;
    item *out = malloc((a->n + 2 * hops) * sizeof *out);
    if (!out) return 0;
    size_t m = 0;
    for (size_t i = 0, at = 0; i < a->n; i++) {
      item it = a->items[i];
      out[m++] = it;
      if (it.kind == IT_LABEL) continue;
      if (it.kind == IT_JUMP) {
        item *jmp = &out[m - 1];
        bool t_far = far(a, it.t, at), f_far = far(a, it.f, at);
        if (t_far) {
          uint32_t hop = label(a);
          out[m++] = (item){.kind = IT_LABEL, .t = hop};
          out[m++] = (item){.kind = IT_JA, .t = it.t};
          jmp->t = hop;
        }
        if (f_far) {
          uint32_t hop = label(a);
          out[m++] = (item){.kind = IT_LABEL, .t = hop};
          out[m++] = (item){.kind = IT_JA, .t = it.f};
          jmp->f = hop;
        }
      }
      at++;
    }
    free(a->items);
    a->items = out;
    a->n = a->cap = m;
  }
}

static void encode(const assembler *a, struct sock_filter *out) {
  uint32_t at = 0;
  for (size_t i = 0; i < a->n; i++) {
    const item *it = &a->items[i];
    if (it->kind == IT_LABEL) continue;
    if (it->kind == IT_INSN) out[at] = (struct sock_filter)BPF_STMT(it->code, it->k);
    else if (it->kind == IT_JA) out[at] = (struct sock_filter)BPF_STMT(BPF_JMP | BPF_JA, a->pos[it->t] - at - 1);
    else out[at] = (struct sock_filter)BPF_JUMP(it->code, it->k, a->pos[it->t] - at - 1, a->pos[it->f] - at - 1);
    at++;
  }
}

/* seccomp_data's arguments are in the task's byte order; both architectures here are little-endian, so the high half is at +4. */
static void load_arg(assembler *a, uint32_t index, bool high) {
  stmt(a, BPF_LD | BPF_W | BPF_ABS, DATA_ARGS + 8 * index + (high ? 4 : 0));
}

/* One 64-bit comparison in 32-bit halves, high word first: falls through when it holds, jumps to `fail` when not. */
static void emit_check(assembler *a, const uint32_t *c, uint32_t fail) {
  uint32_t index = c[0], op = c[1], hi = c[2], lo = c[3], mhi = c[4], mlo = c[5];
  uint32_t pass = label(a), low_word = label(a);
  switch (op) {
    case OP_EQ:
    case OP_MASKED_EQ:
      if (!(op == OP_MASKED_EQ && mhi == 0 && hi == 0)) {
        load_arg(a, index, true);
        if (op == OP_MASKED_EQ && mhi != UINT32_MAX) stmt(a, BPF_ALU | BPF_AND | BPF_K, mhi);
        jump(a, BPF_JEQ, hi, NEXT, fail);
      }
      load_arg(a, index, false);
      if (op == OP_MASKED_EQ && mlo != UINT32_MAX) stmt(a, BPF_ALU | BPF_AND | BPF_K, mlo);
      jump(a, BPF_JEQ, lo, pass, fail);
      break;
    case OP_NE:
      load_arg(a, index, true);
      jump(a, BPF_JEQ, hi, low_word, pass);
      place(a, low_word);
      load_arg(a, index, false);
      jump(a, BPF_JEQ, lo, fail, pass);
      break;
    case OP_GT:
    case OP_GE:
      load_arg(a, index, true);
      jump(a, BPF_JGT, hi, pass, NEXT);
      jump(a, BPF_JEQ, hi, low_word, fail);
      place(a, low_word);
      load_arg(a, index, false);
      jump(a, op == OP_GT ? BPF_JGT : BPF_JGE, lo, pass, fail);
      break;
    default: /* OP_LT, OP_LE */
      load_arg(a, index, true);
      jump(a, BPF_JGT, hi, fail, NEXT);
      jump(a, BPF_JEQ, hi, low_word, pass);
      place(a, low_word);
      load_arg(a, index, false);
      jump(a, op == OP_LT ? BPF_JGE : BPF_JGT, lo, fail, pass);
  }
  place(a, pass);
}

static void emit_leaf(assembler *a, const leaf *l, uint32_t fallback) {
  if (!l->rules) {
    stmt(a, BPF_RET | BPF_K, l->value);
    return;
  }
  for (uint32_t i = 0; i < l->count; i++) {
    const rule *r = &l->rules[i];
    uint32_t next = label(a);
    for (uint32_t j = 0; j < r->nchecks; j++) emit_check(a, r->checks + j * CHECK_WORDS, next);
    stmt(a, BPF_RET | BPF_K, r->value);
    place(a, next);
  }
  stmt(a, BPF_RET | BPF_K, fallback);
}

/* A binary search over leaves [lo, hi), the syscall number in A. */
static void emit_search(assembler *a, const leaf *leaves, size_t lo, size_t hi, uint32_t fallback) {
  if (hi - lo == 1) {
    emit_leaf(a, &leaves[lo], fallback);
    return;
  }
  size_t mid = (lo + hi) / 2;
  uint32_t right = label(a);
  jump(a, BPF_JGE, (uint32_t)leaves[mid].start, right, NEXT);
  emit_search(a, leaves, lo, mid, fallback);
  place(a, right);
  emit_search(a, leaves, mid, hi, fallback);
}

static void push_leaf(leaf *out, size_t *n, leaf l) {
  if (!l.rules && *n > 0 && !out[*n - 1].rules && out[*n - 1].value == l.value) return;
  out[(*n)++] = l;
}

/*
 * The numbers [lo, hi) of one arch as leaves, and their search. `rules` are
 * that arch's, sorted by number then order given. A rule without checks
 * decides for every call: later rules of its syscall can never apply.
 */
static void emit_arch(assembler *a, const rule *rules, size_t count, uint64_t lo, uint64_t hi, uint32_t fallback) {
  /* At most a run before each syscall, the syscall, and a run after the last. */
  leaf *leaves = malloc((2 * count + 1) * sizeof *leaves);
  if (!leaves) {
    a->failed = true;
    return;
  }
  size_t n = 0;
  uint64_t at = lo;
  for (size_t i = 0; i < count;) {
    size_t end = i + 1;
    while (end < count && rules[end].nr == rules[i].nr) end++;
    uint32_t nr = rules[i].nr;
    if (nr >= lo && nr < hi) {
      if (nr > at) push_leaf(leaves, &n, (leaf){.start = at, .value = fallback});
      size_t live = i;
      while (live < end - 1 && rules[live].nchecks > 0) live++;
      if (rules[i].nchecks == 0) push_leaf(leaves, &n, (leaf){.start = nr, .value = rules[i].value});
      else push_leaf(leaves, &n, (leaf){.start = nr, .rules = &rules[i], .count = (uint32_t)(live - i + 1)});
      at = (uint64_t)nr + 1;
    }
    i = end;
  }
  if (at < hi) push_leaf(leaves, &n, (leaf){.start = at, .value = fallback});
  emit_search(a, leaves, 0, n, fallback);
  free(leaves);
}

static int by_key(const void *x, const void *y) {
  uint64_t a = *(const uint64_t *)x, b = *(const uint64_t *)y;
  return (a > b) - (a < b);
}

/*
 * `rules` sorted by arch, number, then order given, into `out`: as 64-bit
 * keys (2 bits of arch, 32 of number, 30 of order), which sort several
 * times faster than the structs.
 */
static bool sort_rules(const rule *rules, size_t count, rule *out) {
  uint64_t *keys = malloc((count ? count : 1) * sizeof *keys);
  if (!keys) return false;
  for (size_t i = 0; i < count; i++) keys[i] = (uint64_t)rules[i].arch << 62 | (uint64_t)rules[i].nr << 30 | i;
  qsort(keys, count, sizeof *keys, by_key);
  for (size_t i = 0; i < count; i++) out[i] = rules[keys[i] & ((1u << 30) - 1)];
  free(keys);
  return true;
}

/*
 * A syscall table as scripts/seccomp-syscalls.js writes it ("name number"
 * pairs separated by spaces), hashed by name: a profile names hundreds of
 * syscalls, which are resolved here rather than by JS, cold.
 */
#define TABLE_SLOTS 1024 /* a power of two, over twice the syscalls of any table */
typedef struct {
  char *text;
  struct {
    const char *name;
    uint32_t len, nr;
  } slot[TABLE_SLOTS];
} syscall_table;

static uint32_t name_hash(const char *s, size_t len) {
  uint32_t h = 2166136261u; /* FNV-1a */
  for (size_t i = 0; i < len; i++) h = (h ^ (uint8_t)s[i]) * 16777619u;
  return h;
}

/* The table in JS string `v`; NULL (errno set) out of memory or when it is not one. */
static syscall_table *table_load(napi_env env, napi_value v) {
  size_t len;
  if (napi_get_value_string_utf8(env, v, NULL, 0, &len) != napi_ok) return errno = EINVAL, NULL;
  syscall_table *t = calloc(1, sizeof *t);
  char *text = t ? malloc(len + 1) : NULL;
  if (!text) {
    free(t);
    return errno = ENOMEM, NULL;
  }
  napi_get_value_string_utf8(env, v, text, len + 1, &len);
  t->text = text;
  size_t count = 0;
  for (char *p = text; *p;) {
    char *name = p, *end;
    while (*p && *p != ' ') p++;
    uint32_t name_len = (uint32_t)(p - name);
    unsigned long nr = *p ? strtoul(p + 1, &end, 10) : 0;
    if (!*p || end == p + 1 || ++count > TABLE_SLOTS / 2) {
      free(text);
      free(t);
      return errno = EINVAL, NULL;
    }
    uint32_t h = name_hash(name, name_len);
    while (t->slot[h % TABLE_SLOTS].name) h++;
    t->slot[h % TABLE_SLOTS].name = name;
    t->slot[h % TABLE_SLOTS].len = name_len;
    t->slot[h % TABLE_SLOTS].nr = (uint32_t)nr;
    p = *end ? end + 1 : end;
  }
  return t;
}

static bool table_find(const syscall_table *t, const char *name, size_t len, uint32_t *nr) {
  for (uint32_t h = name_hash(name, len);; h++) {
    const char *s = t->slot[h % TABLE_SLOTS].name;
    if (!s) return false;
    if (t->slot[h % TABLE_SLOTS].len == len && memcmp(s, name, len) == 0) {
      *nr = t->slot[h % TABLE_SLOTS].nr;
      return true;
    }
  }
}

typedef struct {
  rule *rules;
  size_t n, cap;
} rule_list;

static bool add(rule_list *l, rule r) {
  if (l->n == (size_t)1 << 30) return false; /* sort_rules keeps the order in 30 bits */
  if (!grow((void **)&l->rules, l->n, &l->cap, sizeof *l->rules, 256)) return false;
  l->rules[l->n++] = r;
  return true;
}

static const char *skip_ws(const char *p) {
  while (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t') p++;
  return p;
}

/*
 * Where each list of `json` (JSON.stringify of an array of arrays of
 * strings) starts, after its '['; false when it is not such a text.
 */
static bool index_lists(char *json, char ***lists, size_t *n) {
  size_t count = 0, cap = 0;
  char **out = NULL;
  char *p = json;
  if (*p++ != '[') return false;
  while (*p == '[') {
    if (count == cap) {
      cap = cap ? cap * 2 : 64;
      char **grown = realloc(out, cap * sizeof *out);
      if (!grown) break;
      out = grown;
    }
    out[count++] = ++p;
    /* To the list's end: a ']' outside a string. */
    for (bool in_string = false; *p && (in_string || *p != ']'); p++) {
      if (in_string && *p == '\\' && p[1]) p++;
      else if (*p == '"') in_string = !in_string;
    }
    if (*p != ']') break;
    p++;
    if (*p == ',') p++;
  }
  if (*p != ']') {
    free(out);
    return false;
  }
  *lists = out;
  *n = count;
  return true;
}

/*
 * The rules the syscall records of `w` give, in order; a NAMED record's
 * names (`lists`, from index_lists) are resolved in `tables` (per arch, its
 * syscall table), and names the arch has not are skipped, as a profile's
 * are. Returns 0, EINVAL when the words are not what compileRules writes,
 * or ENOMEM.
 */
static int read_rules(napi_env env, const uint32_t *actions, size_t nactions, const uint32_t *w, size_t len,
                      char *const *lists, size_t nlists, napi_value tables, rule_list *out) {
  syscall_table *loaded[ARCH_COUNT] = {NULL};
  int err = len % 3 ? EINVAL : 0;
  for (size_t i = 0; !err && i < len / 3; i++) {
    uint32_t arch = w[3 * i] & ~RECORD_NAMED, at = w[3 * i + 2];
    bool named = w[3 * i] & RECORD_NAMED;
    if (arch >= ARCH_COUNT || at >= nactions || nactions - at < 2) {
      err = EINVAL;
      break;
    }
    uint32_t nchecks = actions[at + 1];
    const uint32_t *checks = &actions[at + 2];
    if (nchecks > (nactions - at - 2) / CHECK_WORDS) err = EINVAL;
    for (uint32_t j = 0; !err && j < nchecks; j++) {
      if (checks[j * CHECK_WORDS] > 5 || checks[j * CHECK_WORDS + 1] >= OP_COUNT) err = EINVAL;
    }
    rule r = {.arch = arch, .nr = w[3 * i + 1], .value = actions[at], .nchecks = nchecks, .at = at, .checks = checks};
    if (err) break;
    if (!named) {
      if (!add(out, r)) err = ENOMEM;
      continue;
    }
    napi_value table;
    if (!loaded[arch]) {
      if (napi_get_element(env, tables, arch, &table) != napi_ok || !(loaded[arch] = table_load(env, table))) {
        err = errno;
        break;
      }
    }
    if (r.nr >= nlists) {
      err = EINVAL;
      break;
    }
    /* The list's strings, as JSON writes them: one with a backslash has a quote, a backslash or a control character, which no syscall's name has. */
    for (const char *p = skip_ws(lists[r.nr]); !err && *p == '"';) {
      const char *name = ++p;
      bool escaped = false;
      while (*p && *p != '"') {
        if (*p == '\\') escaped = true, p++;
        if (*p) p++;
      }
      if (!*p) break;
      if (!escaped && table_find(loaded[arch], name, (size_t)(p - name), &r.nr) && !add(out, r)) err = ENOMEM;
      p = skip_ws(p + 1);
      if (*p == ',') p = skip_ws(p + 1);
    }
  }
  for (int i = 0; i < ARCH_COUNT; i++) {
    if (loaded[i]) free(loaded[i]->text);
    free(loaded[i]);
  }
  return err;
}

/*
 * seccompAssemble(words: Uint32Array, names: string (JSON of string[][]), tables: string[])
 *   -> [program (Uint8Array), the rules' syscalls (Uint32Array: arch, nr, rule offset)] | -ENOMEM
 */
static napi_value assemble(napi_env env, const uint32_t *w, size_t len, char *const *lists, size_t nlists, napi_value tables);

static napi_value js_seccomp_assemble(napi_env env, napi_callback_info info) {
  napi_value v, names, tables;
  if (!butter_args(env, info, "vvv", &v, &names, &tables)) return NULL;
  napi_typedarray_type type;
  size_t len, json_len, nlists = 0;
  uint32_t *w;
  char *json = NULL, **lists = NULL;
  if (napi_get_typedarray_info(env, v, &type, &len, (void **)&w, NULL, NULL) != napi_ok || type != napi_uint32_array ||
      napi_get_value_string_utf8(env, names, NULL, 0, &json_len) != napi_ok) {
    napi_throw_type_error(env, "ERR_BUTTER_INTERNAL", "expected a Uint32Array of rules");
    return NULL;
  }
  if (!(json = malloc(json_len + 1))) return butter_errno_result(env, ENOMEM);
  napi_get_value_string_utf8(env, names, json, json_len + 1, &json_len);
  napi_value result = NULL;
  if (index_lists(json, &lists, &nlists)) result = assemble(env, w, len, lists, nlists, tables);
  else napi_throw_type_error(env, "ERR_BUTTER_INTERNAL", "expected a Uint32Array of rules");
  free(lists);
  free(json);
  return result;
}

/* The program for the words `w` and the names `lists` (see read_rules): [program, resolved] | -ENOMEM, or throws when the words are not what compileRules writes. */
static napi_value assemble(napi_env env, const uint32_t *w, size_t len, char *const *lists, size_t nlists, napi_value tables) {
  if (len < 3 || w[2] < 1 || w[2] > ARCH_COUNT || len < 3 + (size_t)w[2]) {
    napi_throw_type_error(env, "ERR_BUTTER_INTERNAL", "expected a Uint32Array of rules");
    return NULL;
  }
  uint32_t fallback = w[0], bad_arch = w[1], narch = w[2];
  const uint32_t *arches = &w[3];
  bool has[ARCH_COUNT] = {false};
  for (uint32_t i = 0; i < narch; i++) {
    if (arches[i] >= ARCH_COUNT) {
      napi_throw_type_error(env, "ERR_BUTTER_INTERNAL", "expected a Uint32Array of rules");
      return NULL;
    }
    has[arches[i]] = true;
  }
  size_t head = 3 + narch + 1;
  size_t nactions = len < head ? 0 : w[head - 1];
  rule_list list = {0};
  int err = len < head || nactions > len - head ? EINVAL : 0;
  if (!err) err = read_rules(env, &w[head], nactions, &w[head + nactions], len - head - nactions, lists, nlists, tables, &list);
  if (err) {
    free(list.rules);
    if (err == ENOMEM) return butter_errno_result(env, ENOMEM);
    napi_throw_type_error(env, "ERR_BUTTER_INTERNAL", "expected a Uint32Array of rules");
    return NULL;
  }
  /* What the rules are for, in the order given, before the sort puts them in the program's. */
  napi_value resolved, ab;
  uint32_t *words;
  if (napi_create_arraybuffer(env, list.n * 3 * sizeof *words, (void **)&words, &ab) != napi_ok ||
      napi_create_typedarray(env, napi_uint32_array, list.n * 3, ab, 0, &resolved) != napi_ok) {
    free(list.rules);
    return NULL;
  }
  for (size_t i = 0; i < list.n; i++) {
    words[3 * i] = list.rules[i].arch;
    words[3 * i + 1] = list.rules[i].nr;
    words[3 * i + 2] = list.rules[i].at;
  }
  size_t count = list.n;
  rule *rules = malloc((count ? count : 1) * sizeof *rules);
  if (!rules || !sort_rules(list.rules, count, rules)) {
    free(rules);
    free(list.rules);
    return butter_errno_result(env, ENOMEM);
  }
  free(list.rules);
  size_t first[ARCH_COUNT + 1] = {0}; /* each arch's rules are rules[first[arch], first[arch + 1]) */
  for (size_t i = 0; i < count; i++) first[rules[i].arch + 1]++;
  for (int i = 0; i < ARCH_COUNT; i++) first[i + 1] += first[i];

  assembler a = {0};
  stmt(&a, BPF_LD | BPF_W | BPF_ABS, DATA_ARCH);
  /* The AUDIT_ARCH values, once each, in the order of the arches given. */
  uint32_t audits[ARCH_COUNT], starts[ARCH_COUNT], naudit = 0;
  for (uint32_t i = 0; i < narch; i++) {
    uint32_t audit = audit_arch[arches[i]], j = 0;
    while (j < naudit && audits[j] != audit) j++;
    if (j < naudit) continue;
    audits[naudit] = audit;
    starts[naudit] = label(&a);
    jump(&a, BPF_JEQ, audit, starts[naudit], NEXT);
    naudit++;
  }
  stmt(&a, BPF_RET | BPF_K, bad_arch);
  for (uint32_t i = 0; i < naudit; i++) {
    place(&a, starts[i]);
    stmt(&a, BPF_LD | BPF_W | BPF_ABS, DATA_NR);
    if (audits[i] == AUDIT_ARCH_AARCH64) {
      emit_arch(&a, &rules[first[ARCH_AARCH64]], first[ARCH_AARCH64 + 1] - first[ARCH_AARCH64], 0, (uint64_t)1 << 32, fallback);
      continue;
    }
    /* One AUDIT_ARCH for two ABIs: x32's numbers are those with bit 30 set (and above, which it refuses). */
    uint32_t x32 = label(&a);
    jump(&a, BPF_JGE, X32_SYSCALL_BIT, x32, NEXT);
    if (has[ARCH_X86_64]) emit_arch(&a, &rules[first[ARCH_X86_64]], first[ARCH_X86_64 + 1] - first[ARCH_X86_64], 0, X32_SYSCALL_BIT, fallback);
    else stmt(&a, BPF_RET | BPF_K, bad_arch);
    place(&a, x32);
    if (has[ARCH_X32]) emit_arch(&a, &rules[first[ARCH_X32]], first[ARCH_X32 + 1] - first[ARCH_X32], X32_SYSCALL_BIT, (uint64_t)1 << 32, fallback);
    else stmt(&a, BPF_RET | BPF_K, bad_arch);
  }
  size_t n = a.failed ? 0 : layout(&a);
  napi_value result = NULL, program;
  if (n == 0) result = butter_errno_result(env, ENOMEM);
  else {
    void *bytes;
    if (napi_create_arraybuffer(env, n * sizeof(struct sock_filter), &bytes, &ab) == napi_ok &&
        napi_create_typedarray(env, napi_uint8_array, n * sizeof(struct sock_filter), ab, 0, &program) == napi_ok &&
        napi_create_array_with_length(env, 2, &result) == napi_ok) {
      encode(&a, bytes);
      napi_set_element(env, result, 0, program);
      napi_set_element(env, result, 1, resolved);
    } else result = NULL;
  }
  free(a.items);
  free(a.pos);
  free(rules);
  return result;
}

/*
 * The profile reader for seccompProfile's usual case, a Docker/OCI profile's
 * JSON text: it reads the text as JSON.parse and the reader in
 * src/high/seccomp-profile.ts would (and must stay with them:
 * test/seccomp.test.mjs compares the programs of both), and writes the words
 * compileRules would, so that the first call in a process runs no profile
 * reader in V8, which would run it cold. Whatever is unusual, every error
 * among it, it does not handle: the JS reader reads it, and its messages are
 * the only ones. So it is strict where JS is lenient: an escape in a
 * string, a key twice, a number with a fraction or an exponent, "name".
 */
typedef struct {
  const char *p, *end;
  int depth;
} cursor;

static void ws(cursor *c) {
  while (c->p < c->end && (*c->p == ' ' || *c->p == '\n' || *c->p == '\r' || *c->p == '\t')) c->p++;
}

static bool eat(cursor *c, char ch) {
  ws(c);
  if (c->p == c->end || *c->p != ch) return false;
  c->p++;
  return true;
}

/* A string without escapes: its characters [*s, *s + *len). */
static bool str(cursor *c, const char **s, size_t *len) {
  if (!eat(c, '"')) return false;
  *s = c->p;
  while (c->p < c->end && *c->p != '"') {
    if ((uint8_t)*c->p < 0x20 || *c->p == '\\') return false;
    c->p++;
  }
  if (c->p == c->end) return false;
  *len = (size_t)(c->p++ - *s);
  return true;
}

static bool is(const char *s, size_t len, const char *lit) {
  return strlen(lit) == len && memcmp(s, lit, len) == 0;
}

/* A non-negative integer written without fraction or exponent, at most 2^53 - 1 (a safe integer). */
static bool integer(cursor *c, uint64_t *v) {
  ws(c);
  const char *start = c->p;
  uint64_t n = 0;
  while (c->p < c->end && *c->p >= '0' && *c->p <= '9') {
    n = n * 10 + (uint64_t)(*c->p++ - '0');
    if (n > ((uint64_t)1 << 53) - 1) return false;
  }
  if (c->p == start || (*start == '0' && c->p - start > 1)) return false;
  if (c->p < c->end && (*c->p == '.' || *c->p == 'e' || *c->p == 'E')) return false;
  *v = n;
  return true;
}

static bool digits(cursor *c) {
  const char *start = c->p;
  while (c->p < c->end && *c->p >= '0' && *c->p <= '9') c->p++;
  return c->p > start;
}

/* null, which the JS reader takes for a missing value (`?? []`) nearly everywhere. */
static bool null(cursor *c) {
  ws(c);
  if (c->end - c->p < 4 || memcmp(c->p, "null", 4) != 0) return false;
  c->p += 4;
  return true;
}

/* Any JSON value, checked as JSON.parse would and passed over. */
static bool skip(cursor *c) {
  ws(c);
  if (c->p == c->end) return false;
  char ch = *c->p;
  if (ch == '"') {
    for (c->p++; c->p < c->end && *c->p != '"'; c->p++) {
      if ((uint8_t)*c->p < 0x20) return false;
      if (*c->p != '\\') continue;
      if (++c->p == c->end) return false;
      if (*c->p == 'u') {
        for (int i = 0; i < 4; i++) {
          if (++c->p == c->end || !((*c->p >= '0' && *c->p <= '9') || ((*c->p | 0x20) >= 'a' && (*c->p | 0x20) <= 'f'))) return false;
        }
      } else if (!*c->p || !strchr("\"\\/bfnrt", *c->p)) return false;
    }
    if (c->p == c->end) return false;
    c->p++;
    return true;
  }
  if (ch == '[' || ch == '{') {
    char close = ch == '[' ? ']' : '}';
    if (++c->depth > 64) return false;
    c->p++;
    if (!eat(c, close)) {
      do {
        ws(c);
        if (ch == '{' && (c->p == c->end || *c->p != '"' || !skip(c) || !eat(c, ':'))) return false;
        if (!skip(c)) return false;
      } while (eat(c, ','));
      if (!eat(c, close)) return false;
    }
    c->depth--;
    return true;
  }
  static const char *const literals[] = {"true", "false", "null"};
  for (int i = 0; i < 3; i++) {
    size_t n = strlen(literals[i]);
    if ((size_t)(c->end - c->p) >= n && memcmp(c->p, literals[i], n) == 0) {
      c->p += n;
      return true;
    }
  }
  if (ch == '-') c->p++;
  if (c->p < c->end && *c->p == '0') c->p++;
  else if (!digits(c)) return false;
  if (c->p < c->end && *c->p == '.' && (c->p++, !digits(c))) return false;
  if (c->p < c->end && (*c->p == 'e' || *c->p == 'E')) {
    c->p++;
    if (c->p < c->end && (*c->p == '+' || *c->p == '-')) c->p++;
    if (!digits(c)) return false;
  }
  return true;
}

/*
 * An object's next key, its ':' read: 1, or 0 at the object's end, -1 when
 * the text is not one. `*seen` holds the keys of `known` read so far (a key
 * twice is not handled); *which is the key's index in `known`, or -1.
 */
static int next_key(cursor *c, bool first, const char *const *known, uint32_t *seen, int *which) {
  if (eat(c, '}')) return 0;
  if (!first && !eat(c, ',')) return -1;
  const char *k;
  size_t len;
  if (!str(c, &k, &len) || !eat(c, ':')) return -1;
  *which = -1;
  for (int i = 0; known[i]; i++) {
    if (!is(k, len, known[i])) continue;
    if (*seen & (1u << i)) return -1;
    *seen |= 1u << i;
    *which = i;
  }
  return 1;
}

/* The profile's names for the architectures Butter knows: SCMP_ARCH_* at the top, Go's names in includes/excludes. */
static const char *const scmp_arches[ARCH_COUNT] = {"SCMP_ARCH_X86_64", "SCMP_ARCH_X32", "SCMP_ARCH_AARCH64"};
static const char *const go_arches[ARCH_COUNT] = {"amd64", "x32", "arm64"};

typedef struct {
  const char *s;
  size_t len;
} span;

typedef struct {
  uint32_t *w;
  size_t n, cap;
} words;

typedef struct {
  char *text; /* a copy, which the names lists point into */
  span caps[64];
  size_t ncaps;
  uint32_t kernel[4]; /* the running kernel's version as the JS reader splits release(); UINT32_MAX: a part not a number */
  size_t nkernel;
  words actions, records;
  char **lists;
  size_t nlists, lists_cap;
  bool nomem;
} profile_reader;

static void put(profile_reader *r, words *to, uint32_t w) {
  if (!grow((void **)&to->w, to->n, &to->cap, sizeof *to->w, 1024)) {
    r->nomem = true;
    return;
  }
  to->w[to->n++] = w;
}

/* An array of strings: the architectures (ids, or ARCH_COUNT for one Butter does not know) it names of `names`, into ids[*n]. */
static bool arch_list(cursor *c, const char *const *names, uint32_t *ids, size_t *n, size_t max) {
  *n = 0;
  if (null(c)) return true;
  if (!eat(c, '[')) return false;
  if (eat(c, ']')) return true;
  do {
    const char *s;
    size_t len;
    if (!str(c, &s, &len) || *n == max) return false;
    uint32_t id = 0;
    while (id < ARCH_COUNT && !is(s, len, names[id])) id++;
    ids[(*n)++] = id;
  } while (eat(c, ','));
  return eat(c, ']');
}

static bool has_cap(const profile_reader *r, const char *s, size_t len) {
  for (size_t i = 0; i < r->ncaps; i++) {
    if (r->caps[i].len == len && memcmp(r->caps[i].s, s, len) == 0) return true;
  }
  return false;
}

/* An includes or excludes: whether the container has all its caps / any of them, its arches, whether the kernel is at least its minKernel. */
typedef struct {
  bool all_caps, any_cap, kernel_at_least, has_min_kernel;
  uint32_t arches;
  size_t narches;
} selector;

static bool read_selector(profile_reader *r, cursor *c, selector *out) {
  static const char *const keys[] = {"caps", "arches", "minKernel", NULL};
  *out = (selector){.all_caps = true};
  int which;
  if (null(c)) return true;
  if (!eat(c, '{')) return false;
  uint32_t seen = 0;
  int more;
  for (bool first = true; (more = next_key(c, first, keys, &seen, &which)) > 0; first = false) {
    if (which == 0) {
      if (null(c)) continue;
      if (!eat(c, '[')) return false;
      if (eat(c, ']')) continue;
      do {
        const char *s;
        size_t len;
        if (!str(c, &s, &len)) return false;
        if (has_cap(r, s, len)) out->any_cap = true;
        else out->all_caps = false;
      } while (eat(c, ','));
      if (!eat(c, ']')) return false;
    } else if (which == 1) {
      uint32_t ids[16];
      if (!arch_list(c, go_arches, ids, &out->narches, 16)) return false;
      for (size_t i = 0; i < out->narches; i++) out->arches |= 1u << ids[i];
    } else if (which == 2) {
      /* The JS reader's kernelAtLeast, on versions of at most four parts, each at most 9 digits. */
      const char *s;
      size_t len;
      if (!str(c, &s, &len) || len == 0) return false;
      uint32_t want[4];
      int n = 0;
      for (size_t i = 0; i < len;) {
        size_t start = i;
        uint32_t v = 0;
        while (i < len && s[i] >= '0' && s[i] <= '9' && i - start < 9) v = v * 10 + (uint32_t)(s[i++] - '0');
        if (i == start || n == 4 || (i < len && (s[i] != '.' || ++i == len))) return false;
        want[n++] = v;
      }
      out->has_min_kernel = true;
      out->kernel_at_least = true;
      for (int i = 0; i < n; i++) {
        uint32_t have = (size_t)i < r->nkernel ? r->kernel[i] : 0;
        if (have == UINT32_MAX) return false;
        if (have != want[i]) {
          out->kernel_at_least = have > want[i];
          break;
        }
      }
    } else if (!skip(c)) return false;
  }
  if (more < 0) return false;
  return true;
}

/* An OCI action and its errnoRet (EPERM when absent), as the JS reader's action() and actionValue(). */
static bool action_value(const char *s, size_t len, bool has_data, uint64_t data, uint32_t *out) {
  if (!has_data) data = 1;
  if (is(s, len, "SCMP_ACT_ALLOW")) *out = SECCOMP_RET_ALLOW;
  else if (is(s, len, "SCMP_ACT_LOG")) *out = SECCOMP_RET_LOG;
  else if (is(s, len, "SCMP_ACT_KILL") || is(s, len, "SCMP_ACT_KILL_THREAD")) *out = SECCOMP_RET_KILL_THREAD;
  else if (is(s, len, "SCMP_ACT_KILL_PROCESS")) *out = SECCOMP_RET_KILL_PROCESS;
  else if (is(s, len, "SCMP_ACT_TRAP")) *out = SECCOMP_RET_TRAP;
  else if (is(s, len, "SCMP_ACT_NOTIFY")) *out = SECCOMP_RET_USER_NOTIF;
  else if (is(s, len, "SCMP_ACT_ERRNO") && data <= 4095) *out = SECCOMP_RET_ERRNO | (uint32_t)data;
  else if (is(s, len, "SCMP_ACT_TRACE") && data <= 0xffff) *out = SECCOMP_RET_TRACE | (uint32_t)data;
  else return false;
  return true;
}

/* An argument's value: a safe integer, or a string of digits up to 2^64 - 1. */
static bool arg_value(cursor *c, uint64_t *v) {
  ws(c);
  if (c->p == c->end || *c->p != '"') return integer(c, v);
  const char *s;
  size_t len;
  if (!str(c, &s, &len) || len == 0) return false;
  uint64_t n = 0;
  for (size_t i = 0; i < len; i++) {
    if (s[i] < '0' || s[i] > '9' || n > (UINT64_MAX - (uint64_t)(s[i] - '0')) / 10) return false;
    n = n * 10 + (uint64_t)(s[i] - '0');
  }
  *v = n;
  return true;
}

/* An args entry, as the words of a check. */
static bool read_arg(cursor *c, uint32_t *check) {
  static const char *const keys[] = {"index", "value", "valueTwo", "op", NULL};
  static const char *const ops[OP_COUNT] = {"SCMP_CMP_EQ", "SCMP_CMP_NE", "SCMP_CMP_LT", "SCMP_CMP_LE", "SCMP_CMP_GT", "SCMP_CMP_GE", "SCMP_CMP_MASKED_EQ"};
  uint64_t index = 6, value = 0, two = 0;
  uint32_t op = OP_COUNT;
  bool has_value = false;
  const char *two_at = NULL;
  int which;
  if (!eat(c, '{')) return false;
  uint32_t seen = 0;
  int more;
  for (bool first = true; (more = next_key(c, first, keys, &seen, &which)) > 0; first = false) {
    if (which == 0 && !integer(c, &index)) return false;
    if (which == 1 && !(has_value = arg_value(c, &value))) return false;
    if (which == 2) {
      two_at = c->p;
      if (!skip(c)) return false;
    }
    if (which == 3) {
      const char *s;
      size_t len;
      if (!str(c, &s, &len)) return false;
      for (op = 0; op < OP_COUNT && !is(s, len, ops[op]); op++) continue;
    }
    if (which < 0 && !skip(c)) return false;
  }
  if (more < 0) return false;
  if (index > 5 || op == OP_COUNT || !has_value) return false;
  uint64_t mask = UINT64_MAX;
  if (op == OP_MASKED_EQ) {
    /* libseccomp's masked equality: `value` is the mask, `valueTwo` what the masked argument must equal. */
    mask = value;
    cursor t = {.p = two_at, .end = c->end};
    if (two_at && !null(&t) && !arg_value(&t, &two)) return false;
    value = two;
  }
  uint32_t words[CHECK_WORDS] = {(uint32_t)index, op, (uint32_t)(value >> 32), (uint32_t)value, (uint32_t)(mask >> 32), (uint32_t)mask};
  memcpy(check, words, sizeof words);
  return true;
}

static bool applies(const selector *inc, const selector *exc, uint32_t arch) {
  return inc->all_caps && !exc->any_cap && (inc->narches == 0 || inc->arches & (1u << arch)) && !(exc->arches & (1u << arch)) &&
         (!inc->has_min_kernel || inc->kernel_at_least) && !(exc->has_min_kernel && exc->kernel_at_least);
}

/* A syscalls entry: its rule's words, and a record per architecture of `arches` it is for. */
static bool read_entry(profile_reader *r, cursor *c, const uint32_t *arches, uint32_t narch) {
  static const char *const keys[] = {"names", "action", "errnoRet", "args", "includes", "excludes", "name", NULL};
  static char none[] = "]";
  const char *act = NULL;
  size_t act_len = 0;
  uint64_t data = 0;
  bool has_data = false;
  uint32_t checks[16 * CHECK_WORDS], nchecks = 0;
  char *names = none;
  selector inc = {.all_caps = true}, exc = {.all_caps = true};
  int which;
  if (!eat(c, '{')) return false;
  uint32_t seen = 0;
  int more;
  for (bool first = true; (more = next_key(c, first, keys, &seen, &which)) > 0; first = false) {
    if (which == 0) {
      if (null(c)) continue;
      ws(c);
      names = r->text + (c->p - r->text) + 1;
      if (!eat(c, '[')) return false;
      if (eat(c, ']')) continue;
      do {
        const char *s;
        size_t len;
        if (!str(c, &s, &len)) return false;
      } while (eat(c, ','));
      if (!eat(c, ']')) return false;
    } else if (which == 1) {
      if (!str(c, &act, &act_len)) return false;
    } else if (which == 2) {
      if (!null(c) && !(has_data = integer(c, &data))) return false;
    } else if (which == 3) {
      if (null(c)) continue;
      if (!eat(c, '[')) return false;
      if (eat(c, ']')) continue;
      do {
        if (nchecks == 16 || !read_arg(c, &checks[nchecks++ * CHECK_WORDS])) return false;
      } while (eat(c, ','));
      if (!eat(c, ']')) return false;
    } else if (which == 4 || which == 5) {
      if (!read_selector(r, c, which == 4 ? &inc : &exc)) return false;
    } else if (which == 6 || !skip(c)) return false;
  }
  if (more < 0) return false;
  uint32_t value;
  if (!act || !action_value(act, act_len, has_data, data, &value)) return false;
  uint32_t rule = (uint32_t)r->actions.n;
  put(r, &r->actions, value);
  put(r, &r->actions, nchecks);
  for (uint32_t i = 0; i < nchecks * CHECK_WORDS; i++) put(r, &r->actions, checks[i]);
  if (!grow((void **)&r->lists, r->nlists, &r->lists_cap, sizeof *r->lists, 64)) return r->nomem = true, false;
  r->lists[r->nlists++] = names;
  for (uint32_t i = 0; i < narch; i++) {
    if (!applies(&inc, &exc, arches[i])) continue;
    put(r, &r->records, arches[i] | RECORD_NAMED);
    put(r, &r->records, (uint32_t)(r->nlists - 1));
    put(r, &r->records, rule);
  }
  return true;
}

/* The profile in `c` for `main`: its default action, architectures, and rules and their records (see read_rules) into r. */
static bool read_profile(profile_reader *r, cursor *c, uint32_t main, uint32_t *fallback, uint32_t *arches, uint32_t *narch) {
  static const char *const keys[] = {"defaultAction", "defaultErrnoRet", "architectures", "archMap", "syscalls", NULL};
  static const char *const map_keys[] = {"architecture", "subArchitectures", NULL};
  /* Its keys in any order: where each value is, the text checked as JSON on the way. */
  const char *at[5] = {NULL};
  int which;
  if (!eat(c, '{')) return false;
  uint32_t seen = 0;
  int more;
  for (bool first = true; (more = next_key(c, first, keys, &seen, &which)) > 0; first = false) {
    ws(c);
    if (which >= 0) at[which] = c->p;
    if (!skip(c)) return false;
  }
  if (more < 0) return false;
  ws(c);
  if (c->p != c->end) return false;

  cursor v = {.end = c->end};
  const char *act;
  size_t act_len;
  uint64_t data = 0;
  if (!at[0] || (v.p = at[0], !str(&v, &act, &act_len))) return false;
  bool has_data = at[1] && (v.p = at[1], !null(&v));
  if (has_data && !integer(&v, &data)) return false;
  if (!action_value(act, act_len, has_data, data, fallback)) return false;

  /* The architectures: the main one's archMap entry (or the profile's list), those Butter knows. */
  uint32_t listed[16], mapped[16];
  size_t nlisted = 0, nmapped = 0;
  bool found = false;
  if (at[2] && (v.p = at[2], !arch_list(&v, scmp_arches, listed, &nlisted, 16))) return false;
  if (at[3] && (v.p = at[3], !null(&v))) {
    if (!eat(&v, '[')) return false;
    if (!eat(&v, ']')) {
      do {
        uint32_t arch = 0, subs[15];
        size_t nsubs = 0;
        bool named = false;
        if (!eat(&v, '{')) return false;
        uint32_t seen = 0;
        int more;
        for (bool first = true; (more = next_key(&v, first, map_keys, &seen, &which)) > 0; first = false) {
          if (which == 0) {
            const char *s;
            size_t len;
            if (!str(&v, &s, &len)) return false;
            while (arch < ARCH_COUNT && !is(s, len, scmp_arches[arch])) arch++;
            named = true;
          } else if (which == 1) {
            if (!arch_list(&v, scmp_arches, subs, &nsubs, 15)) return false;
          } else if (!skip(&v)) return false;
        }
        if (more < 0) return false;
        if (!named) return false;
        if (arch == main) {
          found = true;
          mapped[0] = arch;
          memcpy(&mapped[1], subs, nsubs * sizeof *subs);
          nmapped = 1 + nsubs;
        }
      } while (eat(&v, ','));
      if (!eat(&v, ']')) return false;
    }
  }
  if (found) {
    memcpy(listed, mapped, nmapped * sizeof *mapped);
    nlisted = nmapped;
  }
  arches[0] = main;
  *narch = 1;
  for (size_t i = 0; i < nlisted; i++) {
    uint32_t j = 0;
    while (j < *narch && arches[j] != listed[i]) j++;
    if (listed[i] < ARCH_COUNT && j == *narch) arches[(*narch)++] = listed[i];
  }
  if (at[4] && (v.p = at[4], !null(&v))) {
    if (!eat(&v, '[')) return false;
    if (!eat(&v, ']')) {
      do {
        if (!read_entry(r, &v, arches, *narch)) return false;
      } while (eat(&v, ','));
      if (!eat(&v, ']')) return false;
    }
  }
  return !r->nomem;
}

/*
 * seccompAssembleProfile(text, caps: string[], arch, tables) -> what
 * seccompAssemble returns, and the words compileRules would have given it
 * (Uint32Array) | undefined when the reader does not handle the profile (the
 * JS reader reads it) | -ENOMEM.
 */
static napi_value js_seccomp_assemble_profile(napi_env env, napi_callback_info info) {
  napi_value text, caps, tables, undefined;
  uint32_t main;
  if (!butter_args(env, info, "vvuv", &text, &caps, &main, &tables)) return NULL;
  napi_get_undefined(env, &undefined);
  profile_reader r = {0};
  /* The caller's capabilities, one buffer; a name not in ASCII is not handled (N-API would write a lone surrogate as U+FFFD). */
  uint32_t ncaps;
  size_t len, used = 0;
  char capbuf[2048];
  if (main >= ARCH_COUNT || napi_get_array_length(env, caps, &ncaps) != napi_ok || ncaps > 64) return undefined;
  for (uint32_t i = 0; i < ncaps; i++) {
    napi_value v;
    if (napi_get_element(env, caps, i, &v) != napi_ok ||
        napi_get_value_string_utf8(env, v, capbuf + used, sizeof capbuf - used, &len) != napi_ok || used + len + 1 >= sizeof capbuf) {
      return undefined;
    }
    for (size_t j = 0; j < len; j++) {
      if ((uint8_t)capbuf[used + j] >= 0x80) return undefined;
    }
    r.caps[r.ncaps++] = (span){capbuf + used, len};
    used += len + 1;
  }
  struct utsname u;
  if (uname(&u) < 0) return undefined;
  for (const char *p = u.release; *p && r.nkernel < 4;) {
    const char *start = p;
    uint32_t v = 0;
    while (*p >= '0' && *p <= '9' && p - start < 9) v = v * 10 + (uint32_t)(*p++ - '0');
    r.kernel[r.nkernel++] = p > start && (!*p || *p == '.' || *p == '-') ? v : UINT32_MAX;
    while (*p && *p != '.' && *p != '-') p++;
    if (*p) p++;
  }
  if (napi_get_value_string_utf8(env, text, NULL, 0, &len) != napi_ok) return undefined;
  char *copy = malloc(len + 1);
  if (!copy) return butter_errno_result(env, ENOMEM);
  napi_get_value_string_utf8(env, text, copy, len + 1, &len);
  r.text = copy;
  cursor c = {.p = copy, .end = copy + len};
  uint32_t fallback, arches[ARCH_COUNT], narch;
  napi_value result = undefined;
  if (read_profile(&r, &c, main, &fallback, arches, &narch)) {
    /* As compileRules writes them: fallback, badArch, n, arch[n], m, actions[m], records. */
    size_t head = 4 + narch, n = head + r.actions.n + r.records.n;
    uint32_t *w;
    napi_value ab, all, assembled;
    if (napi_create_arraybuffer(env, n * sizeof *w, (void **)&w, &ab) != napi_ok ||
        napi_create_typedarray(env, napi_uint32_array, n, ab, 0, &all) != napi_ok) {
      result = NULL;
    } else {
      w[0] = fallback;
      w[1] = SECCOMP_RET_KILL_PROCESS;
      w[2] = narch;
      memcpy(&w[3], arches, narch * sizeof *arches);
      w[head - 1] = (uint32_t)r.actions.n;
      if (r.actions.n) memcpy(&w[head], r.actions.w, r.actions.n * sizeof *w);
      if (r.records.n) memcpy(&w[head + r.actions.n], r.records.w, r.records.n * sizeof *w);
      result = assembled = assemble(env, w, n, r.lists, r.nlists, tables);
      bool is_array = false;
      if (assembled && napi_is_array(env, assembled, &is_array) == napi_ok && is_array) napi_set_element(env, assembled, 2, all);
    }
  } else if (r.nomem) result = butter_errno_result(env, ENOMEM);
  free(r.actions.w);
  free(r.records.w);
  free(r.lists);
  free(copy);
  return result;
}

void butter_init_seccomp(napi_env env, napi_value exports) {
  static const butter_fn fns[] = {
      {"seccompSetModeStrict", js_seccomp_set_mode_strict},
      {"seccompSetModeFilter", js_seccomp_set_mode_filter},
      {"seccompGetActionAvail", js_seccomp_get_action_avail},
      {"seccompGetNotifSizes", js_seccomp_get_notif_sizes},
      {"prctlSetNoNewPrivs", js_prctl_set_no_new_privs},
      {"prctlGetNoNewPrivs", js_prctl_get_no_new_privs},
      {"prctlGetSeccomp", js_prctl_get_seccomp},
      {"seccompAssemble", js_seccomp_assemble},
      {"seccompAssembleProfile", js_seccomp_assemble_profile},
  };
  butter_export(env, exports, fns, BUTTER_COUNT(fns));

  napi_value c;
  napi_create_object(env, &c);
  /* seccomp(2) operations: 3.17 (strict and filter mode themselves: 2.6.12 and 3.5, through prctl) */
  BUTTER_U32(c, SECCOMP_SET_MODE_STRICT);
  BUTTER_U32(c, SECCOMP_SET_MODE_FILTER);
  BUTTER_U32(c, SECCOMP_GET_ACTION_AVAIL); /* 4.14 */
  BUTTER_U32(c, SECCOMP_GET_NOTIF_SIZES);  /* 5.0 */
  /* filter flags */
  BUTTER_U32(c, SECCOMP_FILTER_FLAG_TSYNC);              /* 3.17 */
  BUTTER_U32(c, SECCOMP_FILTER_FLAG_LOG);                /* 4.14 */
  BUTTER_U32(c, SECCOMP_FILTER_FLAG_SPEC_ALLOW);         /* 4.17 */
  BUTTER_U32(c, SECCOMP_FILTER_FLAG_NEW_LISTENER);       /* 5.0 */
  BUTTER_U32(c, SECCOMP_FILTER_FLAG_TSYNC_ESRCH);        /* 5.7 */
  BUTTER_U32(c, SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV); /* 5.19 */
  /* actions, in the kernel's order of precedence: 3.5 unless noted */
  BUTTER_U32(c, SECCOMP_RET_KILL_PROCESS); /* 4.14 */
  BUTTER_U32(c, SECCOMP_RET_KILL_THREAD);  /* 4.14 (the name; SECCOMP_RET_KILL is 3.5) */
  BUTTER_U32(c, SECCOMP_RET_KILL);
  BUTTER_U32(c, SECCOMP_RET_TRAP);
  BUTTER_U32(c, SECCOMP_RET_ERRNO);
  BUTTER_U32(c, SECCOMP_RET_USER_NOTIF); /* 5.0 */
  BUTTER_U32(c, SECCOMP_RET_TRACE);
  BUTTER_U32(c, SECCOMP_RET_LOG); /* 4.14 */
  BUTTER_U32(c, SECCOMP_RET_ALLOW);
  BUTTER_U32(c, SECCOMP_RET_ACTION_FULL); /* 4.14 */
  BUTTER_U32(c, SECCOMP_RET_ACTION);
  BUTTER_U32(c, SECCOMP_RET_DATA);
  /* PR_GET_SECCOMP's answers */
  BUTTER_U32(c, SECCOMP_MODE_DISABLED); /* 2.6.23 */
  BUTTER_U32(c, SECCOMP_MODE_STRICT);   /* 2.6.23 */
  BUTTER_U32(c, SECCOMP_MODE_FILTER);   /* 3.5 */
  /* prctl options */
  BUTTER_U32(c, PR_SET_NO_NEW_PRIVS); /* 3.5 */
  BUTTER_U32(c, PR_GET_NO_NEW_PRIVS); /* 3.5 */
  BUTTER_U32(c, PR_GET_SECCOMP);      /* 2.6.23 */
  /* seccomp_data.arch values the compiler knows: 3.5 (the audit constants are older) */
  BUTTER_U32(c, AUDIT_ARCH_X86_64);
  BUTTER_U32(c, AUDIT_ARCH_AARCH64);
  napi_set_named_property(env, exports, "constants", c);
}
