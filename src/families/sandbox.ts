/** The sandbox family: spawn() into namespaces and a new root, through butter-helper. */
export { spawn } from '../high/sandbox';
export type { Namespace, SandboxMount, SandboxOptions, SandboxSpawnOptions } from '../high/sandbox';
