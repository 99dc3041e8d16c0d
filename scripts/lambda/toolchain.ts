/**
 * The C/C++ toolchain that builds native code for one of Lambda's architectures on this machine:
 * the machine's own compilers, or Debian's cross compilers (arm64 on x86_64), with the environment
 * that points configure scripts, cmake and node-gyp at them. Used for the binding
 * (scripts/package/binding.ts) and for AWS's runtime interface client (ric.ts).
 */
import { createRequire } from 'node:module';
import { withoutNpmConfig } from './build-steps.js';
import { hostArchitecture } from './qemu.js';
import { type Architecture, type NodeRuntime, nodeArch } from './runtimes.js';

/**
 * The toolchain per architecture. arm64 is cross-built on x86_64 with Debian's cross compilers,
 * against the arm64 static archives Debian's multiarch packages install (libssl-dev:arm64 …, after
 * dpkg --add-architecture arm64), and the headers of the arm64 Node build.
 */
export interface Toolchain {
  /** The compilers' prefix: '' (the machine's own) or 'aarch64-linux-gnu-'. */
  prefix: string;
  /** Debian's package suffix for the static archives: '' or ':arm64'. */
  multiarch: string;
  /** Debian packages of the cross compilers, when cross-building. */
  compilers: string[];
  /** pkg-config's directory of the target's .pc files, when cross-building. */
  pkgConfig?: string;
}

export function toolchain(architecture: Architecture): Toolchain {
  if (architecture === hostArchitecture()) return { prefix: '', multiarch: '', compilers: [] };
  const triplet = architecture === 'arm64' ? 'aarch64-linux-gnu' : 'x86_64-linux-gnu';
  const debian = architecture === 'arm64' ? 'arm64' : 'amd64';
  return {
    prefix: `${triplet}-`,
    multiarch: `:${debian}`,
    compilers: [`gcc-${triplet.replace(/_/g, '-')}`, `g++-${triplet.replace(/_/g, '-')}`],
    pkgConfig: `/usr/lib/${triplet}/pkgconfig`,
  };
}

/** The environment that points librdkafka's configure and node-gyp at the toolchain. */
export function toolchainEnv(tools: Toolchain): NodeJS.ProcessEnv {
  if (tools.prefix === '') return {};
  const p = tools.prefix;
  return {
    CC: `${p}gcc`,
    CXX: `${p}g++`,
    LINK: `${p}g++`,
    AR: `${p}ar`,
    LD: `${p}ld`,
    NM: `${p}nm`,
    RANLIB: `${p}ranlib`,
    STRIP: `${p}strip`,
    OBJDUMP: `${p}objdump`,
    PKG_CONFIG_PATH: tools.pkgConfig,
    PKG_CONFIG_LIBDIR: tools.pkgConfig,
  };
}

/**
 * `node-gyp rebuild` of the addon in the working directory, against `node`'s headers and for its
 * architecture with the toolchain, run with this Node: its arguments and environment (npm's own
 * settings left out, so that a global nodedir cannot override --nodedir), plus the addon's `env`.
 */
export function nodeGypRebuild(
  node: NodeRuntime,
  jobs: string,
  env: NodeJS.ProcessEnv,
): { command: string; args: string[]; env: NodeJS.ProcessEnv } {
  const gyp = createRequire(import.meta.url).resolve('node-gyp/bin/node-gyp.js');
  return {
    command: process.execPath,
    args: [gyp, 'rebuild', `--nodedir=${node.dir}`, `--arch=${nodeArch(node.architecture)}`, '-j', jobs],
    env: { ...withoutNpmConfig(process.env), ...toolchainEnv(toolchain(node.architecture)), ...env },
  };
}
