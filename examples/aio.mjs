// Reads the same blocks of a file two ways: Linux AIO with O_DIRECT (the disk, not the
// page cache; one io_submit for all of them), and POSIX AIO (glibc's threads).
// Run: node examples/aio.mjs [FILE]   (FILE on a file system with O_DIRECT; default: Node's own binary)
import { openSync, closeSync, fstatSync, constants } from 'node:fs';
import { LinuxAio, PosixAio, alignedBuffer } from 'butter';

const file = process.argv[2] ?? process.execPath;
const blocks = [0, 1, 2, 3].map((i) => i * 4096);

const direct = openSync(file, constants.O_RDONLY | constants.O_DIRECT);
const aio = new LinuxAio({ entries: blocks.length });
const viaKernel = blocks.map(() => alignedBuffer(4096));   // O_DIRECT: aligned memory, offsets and lengths
const read = await Promise.all(blocks.map((off, i) => aio.read(direct, viaKernel[i], off)));
console.log(`Linux AIO, O_DIRECT: ${read.join(' + ')} bytes of ${fstatSync(direct).size}`);
aio.close();
closeSync(direct);

const fd = openSync(file, 'r');
const posix = new PosixAio();
const viaThreads = blocks.map(() => Buffer.alloc(4096));
await Promise.all(blocks.map((off, i) => posix.read(fd, viaThreads[i], off)));
posix.close();
closeSync(fd);
console.log(`POSIX AIO: the same bytes: ${viaThreads.every((b, i) => b.equals(viaKernel[i]))}`);
