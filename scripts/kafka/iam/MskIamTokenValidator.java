package lambdakafka.iam;

import java.io.IOException;
import java.net.URI;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeMap;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import javax.security.auth.callback.Callback;
import javax.security.auth.callback.UnsupportedCallbackException;
import javax.security.auth.login.AppConfigurationEntry;
import org.apache.kafka.common.security.auth.AuthenticateCallbackHandler;
import org.apache.kafka.common.security.oauthbearer.OAuthBearerExtensionsValidatorCallback;
import org.apache.kafka.common.security.oauthbearer.OAuthBearerToken;
import org.apache.kafka.common.security.oauthbearer.OAuthBearerValidatorCallback;

/**
 * Checks an OAUTHBEARER token the way Amazon MSK's IAM listener checks the token of
 * aws-msk-iam-sasl-signer-js: the token is a base64url presigned URL of
 * {@code GET https://kafka.<region>.amazonaws.com/?Action=kafka-cluster:Connect}, signed with SigV4
 * (service kafka-cluster). Checked here: the host and the region, the action, the algorithm, the
 * credential scope, the signature against the secret of the access key (read from a properties file
 * of accessKeyId=secretAccessKey on every check, so that tests can issue new credentials, and end a
 * session by writing its key again with no secret), the
 * signing date against this clock (5 minutes of skew, as AWS allows) and X-Amz-Expires. Not
 * checked: the session token against STS, and authorization of topic and group actions (MSK
 * evaluates the role's kafka-cluster:* policy for each request; here every authenticated client may
 * do everything). A refusal names its cause in the error status the client receives.
 *
 * JAAS options: {@code credentialsFile} and {@code region}.
 */
public final class MskIamTokenValidator implements AuthenticateCallbackHandler {
    private static final DateTimeFormatter AMZ_DATE =
            DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss'Z'").withZone(ZoneOffset.UTC);
    private static final long SKEW_MS = 5 * 60 * 1000;
    private static final String SERVICE = "kafka-cluster";

    private Path credentialsFile;
    private String region;

    @Override
    public void configure(Map<String, ?> configs, String mechanism, List<AppConfigurationEntry> entries) {
        Map<String, ?> options = entries.get(0).getOptions();
        credentialsFile = Path.of((String) options.get("credentialsFile"));
        region = (String) options.get("region");
    }

    @Override
    public void handle(Callback[] callbacks) throws IOException, UnsupportedCallbackException {
        for (Callback callback : callbacks) {
            if (callback instanceof OAuthBearerValidatorCallback validator) {
                try {
                    validator.token(check(validator.tokenValue()));
                } catch (Refused refused) {
                    validator.error(refused.getMessage(), null, null);
                }
            } else if (callback instanceof OAuthBearerExtensionsValidatorCallback extensions) {
                extensions.inputExtensions().map().keySet().forEach(extensions::valid);
            } else {
                throw new UnsupportedCallbackException(callback);
            }
        }
    }

    private static final class Refused extends Exception {
        Refused(String message) {
            super(message);
        }
    }

    private OAuthBearerToken check(String token) throws Refused {
        URI url;
        try {
            url = URI.create(new String(Base64.getUrlDecoder().decode(token), StandardCharsets.UTF_8));
        } catch (IllegalArgumentException e) {
            throw new Refused("malformed_token: not a base64url presigned URL");
        }
        Map<String, String> query = new TreeMap<>();
        for (String pair : url.getRawQuery() == null ? new String[0] : url.getRawQuery().split("&")) {
            int eq = pair.indexOf('=');
            query.put(decode(eq < 0 ? pair : pair.substring(0, eq)), eq < 0 ? "" : decode(pair.substring(eq + 1)));
        }
        String host = url.getHost();
        if (!("kafka." + region + ".amazonaws.com").equals(host)) {
            throw new Refused("wrong_region: signed for host " + host + ", this cluster is kafka." + region + ".amazonaws.com");
        }
        if (!"kafka-cluster:Connect".equals(query.get("Action"))) {
            throw new Refused("wrong_action: Action is " + query.get("Action") + ", not kafka-cluster:Connect");
        }
        if (!"AWS4-HMAC-SHA256".equals(query.get("X-Amz-Algorithm"))) {
            throw new Refused("wrong_algorithm: " + query.get("X-Amz-Algorithm"));
        }
        String[] scope = query.getOrDefault("X-Amz-Credential", "").split("/");
        if (scope.length != 5 || !"aws4_request".equals(scope[4]) || !SERVICE.equals(scope[3])) {
            throw new Refused("malformed_credential: " + query.get("X-Amz-Credential"));
        }
        if (!region.equals(scope[2])) {
            throw new Refused("wrong_region: signed for region " + scope[2] + ", this cluster is in " + region);
        }
        Instant signedAt;
        long expiresMs;
        try {
            signedAt = Instant.from(AMZ_DATE.parse(query.get("X-Amz-Date")));
            // The signer writes what is left of expiring credentials, in seconds with a fraction (or below 0).
            expiresMs = new java.math.BigDecimal(query.get("X-Amz-Expires")).movePointRight(3).longValue();
        } catch (RuntimeException e) {
            throw new Refused("malformed_token: X-Amz-Date or X-Amz-Expires");
        }
        long now = System.currentTimeMillis();
        if (signedAt.toEpochMilli() > now + SKEW_MS) {
            throw new Refused("clock_skew: signed at " + signedAt + ", more than 5 minutes ahead of the broker");
        }
        long expiresAt = signedAt.toEpochMilli() + expiresMs;
        if (expiresAt <= now) {
            throw new Refused("expired_token: expired at " + Instant.ofEpochMilli(expiresAt));
        }
        String secret = secretOf(scope[0]);
        if (secret == null || secret.isEmpty()) {
            throw new Refused("unknown_access_key: " + scope[0] + (secret == null ? "" : " (its session ended)"));
        }
        String expected = signature(url, query, scope, secret);
        if (!MessageDigest.isEqual(expected.getBytes(StandardCharsets.US_ASCII),
                query.getOrDefault("X-Amz-Signature", "").getBytes(StandardCharsets.US_ASCII))) {
            throw new Refused("signature_mismatch: the signature does not match the secret of " + scope[0]);
        }
        return new Token(token, scope[0], signedAt.toEpochMilli(), expiresAt);
    }

    private String secretOf(String accessKeyId) throws Refused {
        Properties credentials = new Properties();
        try (var in = Files.newInputStream(credentialsFile)) {
            credentials.load(in);
        } catch (IOException e) {
            throw new Refused("server_error: cannot read " + credentialsFile);
        }
        return credentials.getProperty(accessKeyId);
    }

    /** SigV4 for a presigned GET of "/" with only the host header signed (the signer's request). */
    private static String signature(URI url, Map<String, String> query, String[] scope, String secret) throws Refused {
        if (!"host".equals(query.get("X-Amz-SignedHeaders"))) {
            throw new Refused("malformed_token: X-Amz-SignedHeaders is " + query.get("X-Amz-SignedHeaders"));
        }
        StringBuilder canonicalQuery = new StringBuilder();
        for (Map.Entry<String, String> entry : query.entrySet()) {
            if (entry.getKey().equals("X-Amz-Signature") || entry.getKey().equals("User-Agent")) continue;
            if (canonicalQuery.length() > 0) canonicalQuery.append('&');
            canonicalQuery.append(encode(entry.getKey())).append('=').append(encode(entry.getValue()));
        }
        String canonicalRequest = String.join("\n", "GET", "/", canonicalQuery, "host:" + url.getHost(), "", "host",
                hex(sha256("")));
        String date = query.get("X-Amz-Date");
        String credentialScope = String.join("/", scope[1], scope[2], scope[3], scope[4]);
        String toSign = String.join("\n", "AWS4-HMAC-SHA256", date, credentialScope,
                hex(sha256(canonicalRequest)));
        byte[] key = hmac(("AWS4" + secret).getBytes(StandardCharsets.UTF_8), scope[1]);
        for (String part : new String[] {scope[2], scope[3], scope[4]}) key = hmac(key, part);
        return hex(hmac(key, toSign));
    }

    private static String decode(String text) {
        return URLDecoder.decode(text.replace("+", "%2B"), StandardCharsets.UTF_8);
    }

    /** RFC 3986 percent-encoding of everything but unreserved characters, as SigV4 wants. */
    private static String encode(String text) {
        StringBuilder out = new StringBuilder();
        for (byte b : text.getBytes(StandardCharsets.UTF_8)) {
            char c = (char) (b & 0xff);
            if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || "-_.~".indexOf(c) >= 0) {
                out.append(c);
            } else {
                out.append('%').append(String.format("%02X", b & 0xff));
            }
        }
        return out.toString();
    }

    private static byte[] sha256(String text) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8));
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static byte[] hmac(byte[] key, String text) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(key, "HmacSHA256"));
            return mac.doFinal(text.getBytes(StandardCharsets.UTF_8));
        } catch (java.security.GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    private static String hex(byte[] bytes) {
        return HexFormat.of().formatHex(bytes);
    }

    @Override
    public void close() {}

    /** What the broker keeps of a valid token: its lifetime ends the session (KIP-368 re-authentication). */
    private record Token(String value, String principalName, Long startTimeMs, long lifetimeMs)
            implements OAuthBearerToken {
        @Override
        public Set<String> scope() {
            return Set.of();
        }
    }
}
