/**
 * Classic BPF as seccomp takes it: an interpreter of every instruction the
 * kernel's seccomp checker accepts, and a disassembler (the compiler's code
 * generator, which lays out forward jumps with trampolines where a
 * conditional jump's 8-bit offset cannot reach, is C: src/native/seccomp.c).
 * Programs are `struct sock_filter` arrays in this machine's byte order; the
 * data they read is `struct seccomp_data`.
 */
import { invalidArgValue } from '../core/errors';
import { SOCK_FILTER_SIZE } from '../raw/seccomp';

const LE = new Uint8Array(Uint16Array.of(1).buffer)[0] === 1;

// Instruction classes, sizes, modes, operations (linux/bpf_common.h).
export const BPF_LD = 0x00, BPF_LDX = 0x01, BPF_ST = 0x02, BPF_STX = 0x03, BPF_ALU = 0x04, BPF_JMP = 0x05, BPF_RET = 0x06, BPF_MISC = 0x07;
export const BPF_W = 0x00, BPF_IMM = 0x00, BPF_ABS = 0x20, BPF_MEM = 0x60, BPF_LEN = 0x80;
export const BPF_ADD = 0x00, BPF_SUB = 0x10, BPF_MUL = 0x20, BPF_DIV = 0x30, BPF_OR = 0x40, BPF_AND = 0x50,
  BPF_LSH = 0x60, BPF_RSH = 0x70, BPF_NEG = 0x80, BPF_MOD = 0x90, BPF_XOR = 0xa0;
export const BPF_JA = 0x00, BPF_JEQ = 0x10, BPF_JGT = 0x20, BPF_JGE = 0x30, BPF_JSET = 0x40;
export const BPF_K = 0x00, BPF_X = 0x08, BPF_A = 0x10, BPF_TAX = 0x00, BPF_TXA = 0x80;
const BPF_MEMWORDS = 16;

/** Offsets in `struct seccomp_data` (linux/seccomp.h). */
export const DATA_NR = 0, DATA_ARCH = 4, DATA_IP = 8, DATA_ARGS = 16, SECCOMP_DATA_SIZE = 64;

/** One decoded `struct sock_filter`. */
export interface Instruction {
  code: number;
  jt: number;
  jf: number;
  k: number;
}

/** The instructions of a program's bytes. */
export function decode(program: Uint8Array): Instruction[] {
  const view = new DataView(program.buffer, program.byteOffset, program.byteLength);
  const out: Instruction[] = [];
  for (let at = 0; at + SOCK_FILTER_SIZE <= program.byteLength; at += SOCK_FILTER_SIZE) {
    out.push({ code: view.getUint16(at, LE), jt: program[at + 2], jf: program[at + 3], k: view.getUint32(at + 4, LE) });
  }
  return out;
}

/** What a program runs on: one syscall as `struct seccomp_data` holds it. */
export interface SeccompData {
  nr: number;
  arch: number;
  instructionPointer: bigint;
  args: readonly bigint[];
}

function word(data: SeccompData, offset: number): number {
  if (offset === DATA_NR) return data.nr >>> 0;
  if (offset === DATA_ARCH) return data.arch >>> 0;
  const v = offset < DATA_ARGS ? data.instructionPointer : data.args[(offset - DATA_ARGS) >> 3] ?? 0n;
  // Little-endian: the low half first.
  const low = (offset & 4) === 0 === LE;
  return Number(low ? v & 0xffffffffn : (v >> 32n) & 0xffffffffn);
}

function bad(pc: number, insn: Instruction, why: string): TypeError {
  return invalidArgValue('filter', `instruction ${pc} (code 0x${insn.code.toString(16)})`, why);
}

/**
 * Runs a program on one syscall as the kernel would, and returns its 32-bit
 * verdict. Throws ERR_INVALID_ARG_VALUE for a program the kernel would refuse
 * to load (an instruction seccomp does not allow, a read outside
 * seccomp_data, a jump past the end, no return at the end).
 */
export function run(insns: readonly Instruction[], data: SeccompData): number {
  let A = 0;
  let X = 0;
  const mem = new Uint32Array(BPF_MEMWORDS);
  for (let pc = 0; pc < insns.length; pc++) {
    const insn = insns[pc];
    const { code, k } = insn;
    switch (code & 0x07) {
      case BPF_LD:
      case BPF_LDX: {
        let v: number;
        const mode = code & 0xe0;
        if (code & 0x18) throw bad(pc, insn, 'loads only 32-bit words in seccomp');
        if (mode === BPF_ABS && (code & 7) === BPF_LD) {
          if (k % 4 !== 0 || k >= SECCOMP_DATA_SIZE) throw bad(pc, insn, 'reads outside struct seccomp_data');
          v = word(data, k);
        } else if (mode === BPF_IMM) v = k;
        else if (mode === BPF_LEN) v = SECCOMP_DATA_SIZE;
        else if (mode === BPF_MEM && k < BPF_MEMWORDS) v = mem[k];
        else throw bad(pc, insn, 'is not a load seccomp allows');
        if ((code & 7) === BPF_LD) A = v >>> 0;
        else X = v >>> 0;
        break;
      }
      case BPF_ST:
      case BPF_STX:
        if (code !== (code & 7) || k >= BPF_MEMWORDS) throw bad(pc, insn, 'is not a store seccomp allows');
        mem[k] = code === BPF_ST ? A : X;
        break;
      case BPF_ALU: {
        const op = code & 0xf0;
        const src = code & BPF_X ? X : k;
        if (code & ~0xf8 & ~BPF_ALU) throw bad(pc, insn, 'is not an ALU instruction');
        switch (op) {
          case BPF_ADD: A = (A + src) >>> 0; break;
          case BPF_SUB: A = (A - src) >>> 0; break;
          case BPF_MUL: A = Math.imul(A, src) >>> 0; break;
          case BPF_DIV:
            if (src === 0) { if (!(code & BPF_X)) throw bad(pc, insn, 'divides by a zero constant'); return 0; }
            A = Math.floor(A / src) >>> 0; break;
          case BPF_MOD:
            if (src === 0) { if (!(code & BPF_X)) throw bad(pc, insn, 'divides by a zero constant'); return 0; }
            A = (A % src) >>> 0; break;
          case BPF_OR: A = (A | src) >>> 0; break;
          case BPF_AND: A = (A & src) >>> 0; break;
          case BPF_XOR: A = (A ^ src) >>> 0; break;
          case BPF_LSH: A = src >= 32 ? 0 : (A << src) >>> 0; break;
          case BPF_RSH: A = src >= 32 ? 0 : A >>> src; break;
          case BPF_NEG: A = -A >>> 0; break;
          default: throw bad(pc, insn, 'is not an ALU operation');
        }
        break;
      }
      case BPF_JMP: {
        const op = code & 0xf0;
        if (op === BPF_JA) {
          if (code !== (BPF_JMP | BPF_JA)) throw bad(pc, insn, 'is not a jump');
          pc += k;
        } else {
          const src = code & BPF_X ? X : k;
          let taken: boolean;
          if (op === BPF_JEQ) taken = A === src;
          else if (op === BPF_JGT) taken = A > src;
          else if (op === BPF_JGE) taken = A >= src;
          else if (op === BPF_JSET) taken = (A & src) !== 0;
          else throw bad(pc, insn, 'is not a jump');
          pc += taken ? insn.jt : insn.jf;
        }
        if (pc + 1 >= insns.length) throw bad(pc, insn, 'jumps past the end');
        break;
      }
      case BPF_RET:
        if ((code & 0x18) === BPF_A) return A;
        if ((code & 0x18) === BPF_K) return k >>> 0;
        throw bad(pc, insn, 'is not a return');
      case BPF_MISC:
        if ((code & 0xf8) === BPF_TAX) X = A;
        else if ((code & 0xf8) === BPF_TXA) A = X;
        else throw bad(pc, insn, 'is not TAX or TXA');
        break;
    }
  }
  throw invalidArgValue('filter', `${insns.length} instructions`, 'must end with a return');
}

const fields: Record<number, string> = { [DATA_NR]: 'nr', [DATA_ARCH]: 'arch', [DATA_IP]: 'ip', [DATA_IP + 4]: 'ip+4' };
for (let i = 0; i < 6; i++) {
  fields[DATA_ARGS + 8 * i] = `args[${i}]${LE ? '' : '+0 (high)'}`;
  fields[DATA_ARGS + 8 * i + 4] = `args[${i}]+4${LE ? ' (high)' : ''}`;
}
const aluNames: Record<number, string> = {
  [BPF_ADD]: 'add', [BPF_SUB]: 'sub', [BPF_MUL]: 'mul', [BPF_DIV]: 'div', [BPF_OR]: 'or', [BPF_AND]: 'and',
  [BPF_LSH]: 'lsh', [BPF_RSH]: 'rsh', [BPF_NEG]: 'neg', [BPF_MOD]: 'mod', [BPF_XOR]: 'xor',
};
const jumpNames: Record<number, string> = { [BPF_JEQ]: 'jeq', [BPF_JGT]: 'jgt', [BPF_JGE]: 'jge', [BPF_JSET]: 'jset' };
const hex = (k: number): string => `0x${(k >>> 0).toString(16)}`;

/**
 * One line per instruction: `0004: jeq #0x27 jt 0005 jf 0006`, jump targets as
 * instruction numbers, loads written `$data[k]` as libseccomp's scmp_bpf_disasm
 * writes them and followed by the seccomp_data field they read, returns
 * followed by `describe(k)` when given.
 */
export function disassemble(insns: readonly Instruction[], describe?: (verdict: number) => string): string {
  const pad = (n: number): string => String(n).padStart(4, '0');
  return insns
    .map(({ code, jt, jf, k }, pc) => {
      let text: string;
      switch (code & 7) {
        case BPF_LD:
        case BPF_LDX: {
          const op = (code & 7) === BPF_LD ? 'ld' : 'ldx';
          const mode = code & 0xe0;
          if (mode === BPF_ABS) text = `${op} $data[${k}]${fields[k] ? ` ; ${fields[k]}` : ''}`;
          else if (mode === BPF_IMM) text = `${op} #${hex(k)}`;
          else if (mode === BPF_LEN) text = `${op} #len`;
          else if (mode === BPF_MEM) text = `${op} M[${k}]`;
          else text = `${op} ?`;
          break;
        }
        case BPF_ST: text = `st M[${k}]`; break;
        case BPF_STX: text = `stx M[${k}]`; break;
        case BPF_ALU: text = (code & 0xf0) === BPF_NEG ? 'neg' : `${aluNames[code & 0xf0] ?? '?'} ${code & BPF_X ? 'x' : `#${hex(k)}`}`; break;
        case BPF_JMP:
          text = (code & 0xf0) === BPF_JA
            ? `ja ${pad(pc + 1 + k)}`
            : `${jumpNames[code & 0xf0] ?? '?'} ${code & BPF_X ? 'x' : `#${hex(k)}`} jt ${pad(pc + 1 + jt)} jf ${pad(pc + 1 + jf)}`;
          break;
        case BPF_RET: text = (code & 0x18) === BPF_A ? 'ret a' : `ret #${hex(k)}${describe ? ` ; ${describe(k)}` : ''}`; break;
        default: text = (code & 0xf8) === BPF_TXA ? 'txa' : 'tax';
      }
      return `${pad(pc)}: ${text}`;
    })
    .join('\n');
}
