import { describe, expect, it, vi } from 'vitest';
import { loadSigner, MskIamTokens, mskIamTokenRefresh } from '../../src/config/msk-iam.js';

describe('AWS_MSK_IAM token refresh', () => {
  it('signs a token with the role credentials, offline, and gives librdkafka its absolute expiry', async () => {
    // Prepare: credentials as Lambda provides them, through the environment
    const saved = { ...process.env };
    Object.assign(process.env, {
      AWS_ACCESS_KEY_ID: 'AKIAIOSFODNN7EXAMPLE',
      AWS_SECRET_ACCESS_KEY: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
      AWS_SESSION_TOKEN: 'example-session-token',
    });
    try {
      // Act
      const token = await mskIamTokenRefresh('eu-west-1')();

      // Assess: a base64url presigned kafka-cluster:Connect URL, valid for about 15 minutes
      const url = Buffer.from(token.tokenValue, 'base64url').toString('utf8');
      expect(url).toMatch(/^https:\/\/kafka\.eu-west-1\.amazonaws\.com\/\?Action=kafka-cluster%3AConnect/);
      expect(url).toContain('X-Amz-Credential=AKIAIOSFODNN7EXAMPLE');
      expect(token.lifetime).toBeGreaterThan(Date.now() + 10 * 60_000);
      expect(token.lifetime).toBeLessThanOrEqual(Date.now() + 15 * 60_000);
    } finally {
      process.env = saved;
    }
  });

  it('names the package to install when the signer is missing', async () => {
    const refresh = mskIamTokenRefresh('eu-west-1', () => loadSigner('aws-msk-iam-sasl-signer-js-not-installed'));
    await expect(refresh()).rejects.toThrow(
      'KAFKA_SASL_MECHANISM=AWS_MSK_IAM needs the package aws-msk-iam-sasl-signer-js: add it to the function',
    );
  });

  it('refuses to hand librdkafka a token signed with credentials that already expired, and says when they did', async () => {
    const expired = Date.now() - 5000;
    const signer = { generateAuthToken: async () => ({ token: 'dG9rZW4', expiryTime: expired }) };
    await expect(mskIamTokenRefresh('eu-west-1', async () => signer)()).rejects.toThrow(
      `AWS_MSK_IAM: the role's credentials expired at ${new Date(expired).toISOString()}: a token signed with them is refused`,
    );
  });

  it("names the region when the signer fails, and keeps the signer's reason", async () => {
    const signer = {
      generateAuthToken: async () => {
        throw new Error('AWS credentials cannot be empty to generate auth token.');
      },
    };
    await expect(mskIamTokenRefresh('eu-west-1', async () => signer)()).rejects.toThrow(
      'AWS_MSK_IAM: signing a token for eu-west-1 failed: AWS credentials cannot be empty to generate auth token.',
    );
  });

  it("signs with the environment's credentials for the lifetime asked, read again at each signing", async () => {
    const saved = { ...process.env };
    Object.assign(process.env, {
      AWS_ACCESS_KEY_ID: 'ASIAFIRSTKEY0000',
      AWS_SECRET_ACCESS_KEY: 'first-secret',
      AWS_SESSION_TOKEN: 'first-session',
    });
    try {
      const refresh = mskIamTokenRefresh('us-east-1', undefined, 30_000);
      const first = await refresh();
      process.env.AWS_ACCESS_KEY_ID = 'ASIASECONDKEY000';
      const second = await refresh();

      const url = (token: { tokenValue: string }) => Buffer.from(token.tokenValue, 'base64url').toString('utf8');
      expect(url(first)).toContain('X-Amz-Credential=ASIAFIRSTKEY0000');
      expect(url(second)).toContain('X-Amz-Credential=ASIASECONDKEY000');
      expect(Number(/X-Amz-Expires=([\d.]+)/.exec(url(first))?.[1])).toBeCloseTo(30, 0);
      expect(first.lifetime).toBeGreaterThan(Date.now() + 25_000);
      expect(first.lifetime).toBeLessThanOrEqual(Date.now() + 30_000);
    } finally {
      process.env = saved;
    }
  });
});

describe('the token source of a frozen environment', () => {
  const signer = (lifetimeMs: number) => ({
    generateAuthToken: async () => ({ token: `t${Date.now()}`, expiryTime: Date.now() + lifetimeMs }),
  });
  const client = () => {
    const given: string[] = [];
    return { given, _client: { setOAuthBearerToken: (value: string) => given.push(value) } };
  };

  it('is due once 80 % of the lifetime has passed (where librdkafka renews), not before', async () => {
    const tokens = new MskIamTokens('us-east-1', 10_000, async () => signer(10_000));
    expect(tokens.due()).toBe(false);
    await tokens.refresh();
    expect(tokens.due(Date.now() + 7_000)).toBe(false);
    expect(tokens.due(Date.now() + 8_100)).toBe(true);
  });

  it('has lapsed while its token is expired unrenewed, and for a moment after the new one, not otherwise', async () => {
    const tokens = new MskIamTokens('us-east-1', 60_000, async () => signer(60_000));
    expect(tokens.lapsed()).toBe(false);
    await tokens.refresh();
    expect(tokens.lapsed(Date.now() + 59_000)).toBe(false);
    expect(tokens.lapsed(Date.now() + 60_100)).toBe(true);
    await tokens.refresh();
    expect(tokens.lapsed()).toBe(false);

    // A freeze past the expiry: librdkafka's refusals of the old token arrive after the renewal.
    vi.useFakeTimers({ now: Date.now() });
    vi.advanceTimersByTime(75_000);
    await tokens.refresh();
    expect(tokens.lapsed()).toBe(true);
    vi.advanceTimersByTime(10_000);
    expect(tokens.lapsed()).toBe(false);
    vi.useRealTimers();
  });

  it('has not lapsed once a signing failed after its token expired: the failure is the cause', async () => {
    let fail = false;
    const tokens = new MskIamTokens('us-east-1', 60_000, async () => {
      if (fail) throw new Error('credentials expired');
      return signer(60_000);
    });
    await tokens.refresh();
    vi.useFakeTimers({ now: Date.now() });
    vi.advanceTimersByTime(75_000);
    expect(tokens.lapsed()).toBe(true);
    fail = true;
    await expect(tokens.refresh()).rejects.toThrow('credentials expired');
    expect(tokens.lapsed()).toBe(false);
    vi.useRealTimers();
  });

  it('gives a renewed token to every live client, and forgets a closed one', async () => {
    const tokens = new MskIamTokens('us-east-1', 10_000, async () => signer(10_000));
    const [a, b] = [client(), client()];
    const closed = {
      _client: {
        setOAuthBearerToken: () => {
          throw new Error('Client is disconnected');
        },
      },
    };
    for (const c of [a, b, closed]) tokens.track(c);

    expect(await tokens.renew()).toBe(2);
    expect(await tokens.renew()).toBe(2);
    expect(a.given).toHaveLength(2);
    expect(b.given).toEqual(a.given);
    expect(tokens.due()).toBe(false);
  });
});
