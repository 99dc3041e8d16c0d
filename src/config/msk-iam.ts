/**
 * AWS_MSK_IAM: librdkafka speaks OAUTHBEARER and asks this callback for a token, which
 * aws-msk-iam-sasl-signer-js signs with the function role's credentials. The signer (and the
 * AWS SDK it brings) is loaded on first use only, so other mechanisms never pay for it.
 */

export interface OAuthBearerToken {
  tokenValue: string;
  /** Absolute expiry, ms since the epoch (what librdkafka's set_token expects). */
  lifetime: number;
  principal: string;
}

type Signer = { generateAuthToken(options: { region: string }): Promise<{ token: string; expiryTime: number }> };

const SIGNER_PACKAGE = 'aws-msk-iam-sasl-signer-js';

/** Imports the signer package (its name is a parameter only so the missing-package path can be tested). */
export async function loadSigner(packageName: string = SIGNER_PACKAGE): Promise<Signer> {
  try {
    const module = (await import(packageName)) as Signer & { default?: Signer };
    return typeof module.generateAuthToken === 'function' ? module : (module.default as Signer);
  } catch (error) {
    throw new Error(
      `KAFKA_SASL_MECHANISM=AWS_MSK_IAM needs the package ${SIGNER_PACKAGE}: add it to the function's dependencies (npm install ${SIGNER_PACKAGE}).`,
      { cause: error },
    );
  }
}

/** The `oauthbearer_token_refresh_cb` for MSK IAM in `region`. */
export function mskIamTokenRefresh(region: string, load: () => Promise<Signer> = () => loadSigner()) {
  return async (): Promise<OAuthBearerToken> => {
    const signer = await load();
    let signed: { token: string; expiryTime: number };
    try {
      signed = await signer.generateAuthToken({ region });
    } catch (error) {
      throw new Error(`AWS_MSK_IAM: signing a token for ${region} failed: ${(error as Error).message}`, {
        cause: error,
      });
    }
    // The signer signs what is left of expiring credentials, even when nothing is.
    if (signed.expiryTime <= Date.now()) {
      throw new Error(
        `AWS_MSK_IAM: the role's credentials expired at ${new Date(signed.expiryTime).toISOString()}: a token signed with them is refused`,
      );
    }
    return { tokenValue: signed.token, lifetime: signed.expiryTime, principal: '' };
  };
}
