#!/usr/bin/env node
// The lambda-kafka command. Installed from the package it runs the compiled lib/; in the repository,
// where the TypeScript sources are, it runs them through tsx (so it never runs a stale build).
import { existsSync } from 'node:fs';

const source = new URL('../src/diagnose/cli.ts', import.meta.url);
if (existsSync(source)) {
  const { register } = await import('tsx/esm/api');
  register();
  await import(source.href);
} else {
  await import(new URL('../lib/diagnose/cli.js', import.meta.url).href);
}
