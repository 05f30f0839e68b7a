/** `butter doctor`'s check of the aio family: a Linux AIO context made, a read reaped through the 1:1 calls and one through LinuxAio's eventfd, a POSIX AIO read through glibc's threads, and the system's AIO limit. */
import { closeSync, mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { report, call, probe, errorText, expectEqual, readText, WAKE_TIMEOUT_MS, type CallCheck, type Environment, type Fact, type FamilyReport } from './check';

export async function check(env: Environment): Promise<FamilyReport> {
  const { butter } = env;
  const { IOCB_CMD_PREAD } = butter.constants;
  const facts: Record<string, Fact> = {};
  // io_setup fails with EAGAIN once every context's nr_events adds up to fs.aio-max-nr.
  const max = readText('/proc/sys/fs/aio-max-nr')?.trim() ?? null;
  const used = readText('/proc/sys/fs/aio-nr')?.trim() ?? null;
  if (max !== null && used !== null) facts['aio-nr'] = `${used} of fs.aio-max-nr ${max}`;
  const dir = mkdtempSync(join(tmpdir(), 'butter-doctor-'));
  const file = join(dir, 'f');
  writeFileSync(file, 'hello');
  const fd = openSync(file, 'r');
  const calls: CallCheck[] = [];
  try {
    calls.push(probe(['ioSetup', 'ioSubmit', 'ioGetevents', 'ioDestroy'], () => {
      const ctx = butter.ioSetup(1);
      try {
        const buffer = Buffer.alloc(5);
        expectEqual('ioSubmit() of one read', butter.ioSubmit(ctx, [{ opcode: IOCB_CMD_PREAD, fd, buffer, data: 7 }]), 1, '1');
        const [event] = butter.ioGetevents(ctx, 1, 1, 2_000_000_000n);
        expectEqual('the event', `${event?.data} ${event?.res} ${buffer}`, '7 5 hello', "data 7, 5 bytes, 'hello'");
      } finally {
        butter.ioDestroy(ctx);
      }
      return 'a context of 1, a read submitted and reaped, destroyed';
    }));
    // RWF_* newer than the headers Butter may be built with: an old kernel refuses them (ENOTSUP).
    const ctx = butter.ioSetup(1);
    try {
      for (const [name, version] of [['RWF_NOAPPEND', '6.9'], ['RWF_DONTCACHE', '6.14']] as const) {
        try {
          butter.ioSubmit(ctx, [{ opcode: butter.constants.IOCB_CMD_PREAD, fd, buffer: Buffer.alloc(1), rwFlags: butter.constants[name] }]);
          const [event] = butter.ioGetevents(ctx, 1, 1, 2_000_000_000n);
          facts[name] = event !== undefined && event.res >= 0 ? 'accepted' : `refused here (${event?.res})`;
        } catch (err) {
          facts[name] = `refused: ${(err as { code?: string }).code} (Linux ${version})`;
        }
      }
    } finally {
      butter.ioDestroy(ctx);
    }
    const aio = new butter.LinuxAio({ entries: 1 });
    try {
      const buffer = Buffer.alloc(5);
      const fsync = aio.fsync(fd);
      const timeout = new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`no completion within ${WAKE_TIMEOUT_MS} ms`)), WAKE_TIMEOUT_MS).unref());
      const n = await Promise.race([Promise.all([aio.read(fd, buffer, 0), fsync]), timeout]);
      calls.push(n[0] === 5 ? call('LinuxAio', 'ok', 'a read and an fsync (on a kernel worker) completed through the eventfd') : call('LinuxAio', 'unavailable', `read ${n[0]} bytes, not 5`));
    } catch (err) {
      calls.push(call('LinuxAio', 'unavailable', errorText(err)));
    } finally {
      aio.close();
    }
    const posix = new butter.PosixAio();
    try {
      const timeout = new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`no completion within ${WAKE_TIMEOUT_MS} ms`)), WAKE_TIMEOUT_MS).unref());
      const n = await Promise.race([posix.read(fd, Buffer.alloc(5), 0), timeout]);
      calls.push(n === 5 ? call('PosixAio', 'ok', "a read ran on glibc's AIO threads and completed through the eventfd") : call('PosixAio', 'unavailable', `read ${n} bytes, not 5`));
    } catch (err) {
      calls.push(call('PosixAio', 'unavailable', errorText(err)));
    } finally {
      posix.close();
    }
  } catch (err) {
    calls.push(call('ioSetup', 'unavailable', errorText(err)));
  } finally {
    closeSync(fd);
    rmSync(dir, { recursive: true, force: true });
  }
  const bad = calls.filter((c) => c.status !== 'ok');
  if (bad.length > 0) {
    const detail = bad.map((c) => c.detail).join('; ');
    const fix = /ENOSYS/.test(detail) ? 'a kernel built with CONFIG_AIO' : /EAGAIN/.test(detail) ? 'raise fs.aio-max-nr, or close other AIO contexts' : 'see the detail';
    return report('aio', calls, `${bad.map((c) => c.calls.join(', ')).join('; ')} failed`, fix, facts);
  }
  return report('aio', calls, 'Linux AIO contexts and glibc\'s POSIX AIO work; completions reach the loop through an eventfd', null, facts);
}
