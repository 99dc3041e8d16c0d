#!/usr/bin/env node
// The lambda-kafka command, run from the repository's TypeScript sources through tsx.
import { register } from 'tsx/esm/api';

register();
await import('../src/diagnose/cli.ts');
