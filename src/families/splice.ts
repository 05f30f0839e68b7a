/** The zero-copy family: splice, tee, vmsplice, sendfile, copy_file_range and pipes, 1:1 (their Promise forms are in `promises`). */
export { splice, tee, vmsplice, sendfile, copyFileRange, pipe2, getPipeSize, setPipeSize } from '../raw/splice';
export type { SpliceResult, SendfileResult } from '../raw/splice';
export { Pipe, sendFile, copyFile, proxy, pipeline, teeTo } from '../high/splice';
export type { PipeOptions, SendFileOptions, ProxyResult, PipelineResult, TeeOutput } from '../high/splice';
