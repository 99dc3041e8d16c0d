import { describe, expect, it } from 'vitest';
import { loadSigner, mskIamTokenRefresh } from '../../src/config/msk-iam.js';

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
});
