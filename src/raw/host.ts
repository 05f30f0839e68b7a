/**
 * host, 1:1: the names of the UTS namespace (uname(2), gethostname(2),
 * sethostname(2), getdomainname(2), setdomainname(2)).
 *
 * The kernel stores names as bytes (at most 64, no NUL). Strings are encoded
 * and decoded as UTF-8 unless an `encoding` is given; `'buffer'` returns the
 * bytes exactly.
 */
import { check } from '../core/errors';
import { native } from '../core/native';
import { validateBytes, validateEncoding, validateOptions, type Encoding } from '../core/validate';

/** The host family's binding (src/native/host.c); failing calls return -errno. */
export interface HostNative {
  uname(): Buffer[] | number;
  gethostname(): Buffer | number;
  sethostname(name: Uint8Array): number;
  getdomainname(): Buffer | number;
  setdomainname(name: Uint8Array): number;
}

declare module '../core/native' {
  interface Families {
    host: HostNative;
  }
}

/** The fields of `struct utsname`. */
export interface UtsName {
  /** Operating system name: `'Linux'`. */
  sysname: string;
  /** Host name in this UTS namespace (as `gethostname()`). */
  nodename: string;
  /** Kernel release, e.g. `'6.18.0'`. */
  release: string;
  /** Kernel version (build) string. */
  version: string;
  /** Hardware name, e.g. `'x86_64'`. */
  machine: string;
  /** NIS domain name (as `getdomainname()`), `'(none)'` when unset. */
  domainname: string;
}

export interface NameOptions {
  /** How to decode the name: a Buffer encoding, or `'buffer'` for the raw bytes. Default `'utf8'`. */
  encoding?: Encoding;
}

function decode(bytes: Buffer | number, syscall: string, options: unknown): string | Buffer {
  const { encoding = 'utf8' } = validateOptions<NameOptions>(options);
  const enc = validateEncoding(encoding, 'options.encoding');
  if (typeof bytes === 'number') check(bytes, syscall);
  const buf = bytes as Buffer;
  return enc === 'buffer' ? buf : buf.toString(enc);
}

/** uname(2): every field of `struct utsname`, decoded as UTF-8. */
export function uname(): UtsName {
  const r = native.host.uname();
  if (typeof r === 'number') check(r, 'uname');
  const [sysname, nodename, release, version, machine, domainname] = (r as Buffer[]).map((b) => b.toString('utf8'));
  return { sysname, nodename, release, version, machine, domainname } as UtsName;
}

/** gethostname(2): the host name of this UTS namespace. */
export function gethostname(options?: { encoding?: BufferEncoding }): string;
export function gethostname(options: { encoding: 'buffer' }): Buffer;
export function gethostname(options?: NameOptions): string | Buffer;
export function gethostname(options?: NameOptions): string | Buffer {
  return decode(native.host.gethostname(), 'gethostname', options);
}

/**
 * sethostname(2): sets the host name of the caller's UTS namespace. Needs
 * CAP_SYS_ADMIN there (EPERM otherwise); more than 64 bytes gives EINVAL.
 */
export function sethostname(name: string | Uint8Array): void {
  check(native.host.sethostname(validateBytes(name, 'name')), 'sethostname');
}

/** getdomainname(2): the NIS domain name of this UTS namespace (`'(none)'` when unset). */
export function getdomainname(options?: { encoding?: BufferEncoding }): string;
export function getdomainname(options: { encoding: 'buffer' }): Buffer;
export function getdomainname(options?: NameOptions): string | Buffer;
export function getdomainname(options?: NameOptions): string | Buffer {
  return decode(native.host.getdomainname(), 'getdomainname', options);
}

/** setdomainname(2): as `sethostname()`, for the NIS domain name. */
export function setdomainname(name: string | Uint8Array): void {
  check(native.host.setdomainname(validateBytes(name, 'name')), 'setdomainname');
}
