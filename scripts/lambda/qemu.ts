/**
 * Running a program built for another of Lambda's architectures on this machine: an arm64 `node`
 * on x86_64 through QEMU's user-mode emulation (Debian `qemu-user-static`), invoked explicitly, so
 * nothing is registered with the kernel (binfmt_misc). Its libraries come from where its loader
 * looks: the host's multiarch directories (`libc6:arm64`, `libstdc++6:arm64`), or a minimal root
 * when the command runs inside one (chroot: the static QEMU binary is copied in). Not Lambda's
 * speed: an emulated instruction costs many.
 */
import { existsSync } from 'node:fs';
import { arch } from 'node:os';
import { join } from 'node:path';
import type { Architecture } from './runtimes.js';

/** The architecture this machine runs natively. */
export function hostArchitecture(): Architecture | undefined {
  return arch() === 'x64' ? 'x86_64' : arch() === 'arm64' ? 'arm64' : undefined;
}

const QEMU: Record<Architecture, string> = { x86_64: 'qemu-x86_64-static', arm64: 'qemu-aarch64-static' };

/** The static QEMU binary for `architecture` on this machine's PATH, or why there is none. */
export function qemuBinary(architecture: Architecture): string {
  for (const dir of [...(process.env.PATH ?? '').split(':'), '/usr/bin', '/usr/local/bin']) {
    const candidate = join(dir || '.', QEMU[architecture]);
    if (dir && existsSync(candidate)) return candidate;
  }
  throw new Error(
    `${QEMU[architecture]} is not installed: running ${architecture} code on ${arch()} needs QEMU's user-mode emulation (apt-get install qemu-user-static; npm test's setup installs it).`,
  );
}

/** The command prefix that runs an `architecture` program here: nothing when it is native, QEMU otherwise. */
export function emulation(architecture: Architecture): string[] {
  return architecture === hostArchitecture() ? [] : [qemuBinary(architecture)];
}
