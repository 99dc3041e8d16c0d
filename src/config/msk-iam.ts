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

interface Signed {
  token: string;
  expiryTime: number;
}
interface Credentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
  expiration?: Date;
}
type Signer = {
  generateAuthToken(options: { region: string }): Promise<Signed>;
  generateAuthTokenFromCredentialsProvider?(options: {
    region: string;
    awsCredentialsProvider: () => Promise<Credentials>;
  }): Promise<Signed>;
};

/** MSK's and the signer's longest token: 15 minutes. */
/**
 * How long after a token that had lapsed (expired before anything renewed it: the process was
 * frozen) the broker's refusals of it are expected: librdkafka's lines reach JavaScript a moment
 * after the attempt, which may be after the new token was signed.
 */
const LAPSE_GRACE_MS = 10_000;
export const MAX_TOKEN_LIFETIME_MS = 900_000;

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

/**
 * Lambda's credentials, from the environment, read at each signing (a rotation is used by the next
 * token), as expiring within `lifetimeMs`: the signer signs for what is left of the credentials.
 * Undefined where the environment has none (the signer's default chain then, at its 15 minutes).
 */
function environmentCredentials(lifetimeMs: number): (() => Promise<Credentials>) | undefined {
  const { AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN, AWS_CREDENTIAL_EXPIRATION } = process.env;
  if (!AWS_ACCESS_KEY_ID || !AWS_SECRET_ACCESS_KEY) return undefined;
  const expires = AWS_CREDENTIAL_EXPIRATION ? Date.parse(AWS_CREDENTIAL_EXPIRATION) : Number.POSITIVE_INFINITY;
  return async () => ({
    accessKeyId: AWS_ACCESS_KEY_ID,
    secretAccessKey: AWS_SECRET_ACCESS_KEY,
    ...(AWS_SESSION_TOKEN && { sessionToken: AWS_SESSION_TOKEN }),
    expiration: new Date(Math.min(expires, Date.now() + lifetimeMs)),
  });
}

async function sign(region: string, lifetimeMs: number, load: () => Promise<Signer>): Promise<OAuthBearerToken> {
  const signer = await load();
  let signed: Signed;
  try {
    const credentials = environmentCredentials(lifetimeMs);
    signed =
      credentials && signer.generateAuthTokenFromCredentialsProvider
        ? await signer.generateAuthTokenFromCredentialsProvider({ region, awsCredentialsProvider: credentials })
        : await signer.generateAuthToken({ region });
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
}

/** The `oauthbearer_token_refresh_cb` for MSK IAM in `region`. */
export function mskIamTokenRefresh(
  region: string,
  load: () => Promise<Signer> = () => loadSigner(),
  lifetimeMs = MAX_TOKEN_LIFETIME_MS,
) {
  return (): Promise<OAuthBearerToken> => sign(region, lifetimeMs, load);
}

/** A client of the binding: its native handle takes a new token at any time. */
interface TokenClient {
  _client?: { setOAuthBearerToken(value: string, lifetime: number, principal: string, extensions: string[]): void };
}

/**
 * The token the clients of this process use, signed when librdkafka asks (at 80 % of the last
 * one's lifetime) and, after a freeze that passed that point, again before the invocation's first
 * request, rather than whenever librdkafka's own renewal gets to run. Neither beats librdkafka's
 * threads, which reconnect at the thaw with the token they hold: the broker refuses that attempt
 * as expired, which `lapsed()` tells apart from a refusal nothing explains (docs/msk-iam.md).
 */
export class MskIamTokens {
  readonly #region: string;
  readonly #lifetimeMs: number;
  readonly #load: () => Promise<Signer>;
  readonly #clients = new Set<WeakRef<TokenClient>>();
  /** When the current token was signed, and when it expires (0: none signed yet). */
  #signedAt = 0;
  #expiresAt = 0;
  /** When a token that had expired unrenewed was last replaced, and when signing last failed (0: never). */
  #lapseEndedAt = 0;
  #failedAt = 0;

  constructor(region: string, lifetimeMs: number, load: () => Promise<Signer> = () => loadSigner()) {
    this.#region = region;
    this.#lifetimeMs = lifetimeMs;
    this.#load = load;
  }

  /** librdkafka's oauthbearer_token_refresh_cb. */
  readonly refresh = async (): Promise<OAuthBearerToken> => {
    let token: OAuthBearerToken;
    try {
      token = await sign(this.#region, this.#lifetimeMs, this.#load);
    } catch (error) {
      this.#failedAt = Date.now();
      throw error;
    }
    const now = Date.now();
    if (this.#expiresAt > 0 && now >= this.#expiresAt) this.#lapseEndedAt = now;
    this.#signedAt = now;
    this.#expiresAt = token.lifetime;
    return token;
  };

  /**
   * Whether the clients hold, or held a moment ago, a token that expired with nobody to renew it
   * (the process was frozen past its expiry): a broker refusing it as expired is then what a
   * thaw does, not a clock or credentials to fix; not once a signing failed since it expired (that
   * failure is the cause, logged). Measured by this process's clock, which signed it.
   */
  lapsed(now = Date.now()): boolean {
    // Expired, and no signing failed since: a failed one is why it stays expired (logged as such).
    if (this.#expiresAt > 0 && now >= this.#expiresAt) return this.#failedAt < this.#expiresAt;
    return this.#lapseEndedAt > 0 && now - this.#lapseEndedAt < LAPSE_GRACE_MS;
  }

  /** Hands new tokens to `client` too (a client built with this source's refresh callback). */
  track(client: object): void {
    this.#clients.add(new WeakRef(client as TokenClient));
  }

  /** Whether librdkafka's renewal is due (80 % of the lifetime gone) while it could not run. */
  due(now = Date.now()): boolean {
    return this.#expiresAt > 0 && now >= this.#signedAt + 0.8 * (this.#expiresAt - this.#signedAt);
  }

  /** Signs a new token and gives it to every live client; returns how many took it. */
  async renew(): Promise<number> {
    const token = await this.refresh();
    let given = 0;
    for (const ref of this.#clients) {
      const client = ref.deref();
      try {
        if (!client?._client) throw new Error('gone');
        client._client.setOAuthBearerToken(token.tokenValue, token.lifetime, token.principal, []);
        given++;
      } catch {
        // Closed or collected: it needs no token.
        this.#clients.delete(ref);
      }
    }
    return given;
  }
}

const sources = new Map<string, MskIamTokens>();

/** The process's token source for `region` and `lifetimeMs`: one, shared by every client built with it. */
export function mskIamTokens(region: string, lifetimeMs = MAX_TOKEN_LIFETIME_MS): MskIamTokens {
  const key = `${region}/${lifetimeMs}`;
  let source = sources.get(key);
  if (!source) {
    source = new MskIamTokens(region, lifetimeMs);
    sources.set(key, source);
  }
  return source;
}
