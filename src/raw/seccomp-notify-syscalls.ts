/**
 * Syscall names for notifications, by `seccomp_data.arch` and number: a
 * reverse index of the seccomp family's tables (generated at build time from
 * the kernel headers, src/high/seccomp-syscalls.ts), built on first use per
 * architecture. x86_64's AUDIT_ARCH also carries x32 (numbers with bit 30
 * set); an architecture without a table (i386, arm) has no names: `null`.
 */
import { syscallTables } from '../high/seccomp-syscalls';

const AUDIT_ARCH_X86_64 = 0xc000003e;
const AUDIT_ARCH_AARCH64 = 0xc00000b7;
const X32_SYSCALL_BIT = 0x40000000;

const byNumber = new Map<string, Map<number, string>>();

function index(arch: string): Map<number, string> {
  let map = byNumber.get(arch);
  if (map === undefined) {
    map = new Map();
    const words = syscallTables[arch].split(' ');
    for (let i = 0; i < words.length; i += 2) map.set(Number(words[i + 1]), words[i]);
    byNumber.set(arch, map);
  }
  return map;
}

/** The name of syscall `nr` made by a process of `arch` (an `AUDIT_ARCH_*`), or null when no table has it. */
export function syscallName(arch: number, nr: number): string | null {
  let table: string;
  if (arch === AUDIT_ARCH_X86_64) table = (nr & X32_SYSCALL_BIT) !== 0 ? 'x32' : 'x86_64';
  else if (arch === AUDIT_ARCH_AARCH64) table = 'aarch64';
  else return null;
  return index(table).get(nr) ?? null;
}
