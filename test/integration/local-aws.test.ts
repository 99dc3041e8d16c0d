/** The tests' local Secrets Manager and SSM (moto_server): it starts even when the port it was given is taken first. */

import type { AddressInfo } from 'node:net';
import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { freePort } from '../../scripts/lambda/rie.js';
import { startLocalAws } from '../support/moto.js';

describe('startLocalAws', () => {
  it('starts on another port when the one it was given is taken before moto can listen on it', async () => {
    // Prepare: the first port handed out is already held, as when an outgoing connection is given it.
    const held = createServer();
    await new Promise<void>((resolve) => held.listen(0, '127.0.0.1', resolve));
    const taken = (held.address() as AddressInfo).port;
    const handedOut: number[] = [];
    const port = async () => {
      const next = handedOut.length === 0 ? taken : await freePort();
      handedOut.push(next);
      return next;
    };
    try {
      const aws = await startLocalAws({ port });
      try {
        expect(handedOut).toHaveLength(2);
        expect(aws.endpoint).toBe(`http://127.0.0.1:${handedOut[1]}`);
        expect((await fetch(`${aws.endpoint}/moto-api/`)).ok).toBe(true);
      } finally {
        await aws.stop();
      }
    } finally {
      held.close();
    }
  }, 120_000);
});
