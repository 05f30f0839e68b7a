/** `butter doctor`'s check of the zero-copy family: bytes moved pipe to pipe, pipe to file and file to file, in the kernel, and once off the loop. */
import { closeSync, constants, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { report, call, probe, errorText, expectEqual, type CallCheck, type Environment, type FamilyReport } from './check';

export async function check(env: Environment): Promise<FamilyReport> {
  const { butter } = env;
  const dir = mkdtempSync(join(tmpdir(), 'butter-doctor-'));
  const fds: number[] = [];
  const open = (fd: number): number => (fds.push(fd), fd);
  const calls: CallCheck[] = [];
  try {
    const [r1, w1] = butter.pipe2().map(open) as [number, number];
    const [r2, w2] = butter.pipe2().map(open) as [number, number];
    const a = open(openSync(join(dir, 'a'), 'w+'));
    const b = open(openSync(join(dir, 'b'), 'w+'));
    calls.push(probe(['pipe2', 'vmsplice', 'tee', 'splice'], () => {
      expectEqual('vmsplice() of 5 bytes', butter.vmsplice(w1, Buffer.from('hello')), 5, '5');
      expectEqual('tee() of the pipe', butter.tee(r1, w2, 5), 5, '5');
      const moved = butter.splice(r1, null, a, 0n, 5);
      expectEqual('splice() into the file at offset 0', moved.offOut, 5n, 'the offset advanced to 5n');
      expectEqual('the file', readFileSync(join(dir, 'a'), 'latin1'), 'hello', "'hello'");
      return 'vmsplice into a pipe, tee to another, splice into a file at an offset';
    }));
    calls.push(probe(['copyFileRange', 'sendfile'], () => {
      expectEqual('copyFileRange()', butter.copyFileRange(a, 0n, b, 0n, 5).bytes, 5, '5');
      expectEqual('sendfile() into a pipe', butter.sendfile(w1, b, 0n, 5).bytes, 5, '5');
      return 'file to file in the kernel, and a file into a pipe';
    }));
    try {
      const moved = await butter.promises.splice(r2, null, b, 5n, 5, 0, { signal: AbortSignal.timeout(2000) });
      calls.push(moved.bytes === 5
        ? call('promises.splice', 'ok', 'a splice ran on a work thread and resolved')
        : call('promises.splice', 'unavailable', `moved ${moved.bytes} bytes, not 5`));
    } catch (err) {
      calls.push(call('promises.splice', 'unavailable', errorText(err)));
    }
    // A reflink is the filesystem's to give: without one copyFile copies in the kernel, still ok.
    const reflink = await butter.copyFile(join(dir, 'b'), join(dir, 'clone'), constants.COPYFILE_FICLONE_FORCE).then(() => 'reflinks (FICLONE)', (err) => `copies with copy_file_range (no reflink: ${(err as { code?: string }).code})`);
    try {
      await butter.copyFile(join(dir, 'b'), join(dir, 'c'));
      expectEqual('copyFile()', readFileSync(join(dir, 'c'), 'latin1'), 'hellohello', "'hellohello' (the source)");
      calls.push(call('copyFile', 'ok', `${tmpdir()}: ${reflink}`));
    } catch (err) {
      calls.push(call('copyFile', 'unavailable', errorText(err)));
    }
  } catch (err) {
    calls.push(call('pipe2', 'unavailable', errorText(err)));
  } finally {
    for (const fd of fds) closeSync(fd);
    rmSync(dir, { recursive: true, force: true });
  }
  const bad = calls.filter((c) => c.status !== 'ok');
  if (bad.length > 0) return report('splice', calls, `${bad.map((c) => c.calls.join(', ')).join('; ')} failed`, 'see the detail');
  return report('splice', calls, 'data moved between pipes and files in the kernel, synchronously and off the loop');
}
