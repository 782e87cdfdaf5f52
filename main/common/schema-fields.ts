/**
 * The field-level rules of `endpoints.json` that the schemas in schemas.ts are built from: header
 * maps (names, credential-looking names and values, protocol headers), URLs (schemes, no
 * credentials in them), proxy URLs, SSH destinations, the client metadata document URL.
 */
import { z } from 'zod';

/**
 * Header names that carry credentials. They belong in the OS keychain, never in endpoints.json,
 * so a plain `--header` with one of these names is refused (SECRET_IN_CONFIG).
 */
export const SECRET_HEADER_RE =
  /auth|cookie|token|secret|passw|passphrase|key|credential|session|jwt|bearer|signature/i;

/**
 * URL query parameters that carry credentials (`?api_key=…`, `?access_token=…`, `?sig=…`): refused
 * in endpoint URLs (SECRET_IN_CONFIG) like credential headers, since the URL is stored in plain text.
 */
const SECRET_QUERY_PARAM_RE = new RegExp(`${SECRET_HEADER_RE.source}|^(sig|pwd|pass)$`, 'i');

/**
 * Header values that are credentials whatever the header's name: an HTTP authentication scheme
 * and its credentials (RFC 9110 §11.4: `Bearer …`, `Basic …`) or a JWT (RFC 7519 §3, three
 * base64url parts, the first a JSON object: `eyJ…`). Refused like {@link SECRET_HEADER_RE} names.
 */
const SECRET_HEADER_VALUE_RE =
  /^\s*(?:(?:bearer|basic|digest|token|negotiate|dpop)\s+\S{8,}|eyJ[\w-]+\.[\w-]+\.[\w-]*)\s*$/i;

/** What to use instead of a credential in a header or URL. */
const USE_AUTH_HINT =
  'pass it with --auth bearer or --auth header:NAME and store it with `mcp-tether secret set` (the OS keychain)';

/** RFC 9110 §5.1 field-name token. */
export const HEADER_NAME_RE = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/**
 * Header names the transports set themselves, per request: HTTP framing and hop-by-hop fields
 * (RFC 9110 §7.2, §8.6, §7.6.1, RFC 9112 §6.1), content negotiation (`Accept`, `Content-Type`),
 * the WebSocket handshake (RFC 6455 §4.1), and MCP's own (MCP 2025-11-25 basic/transports:
 * `Mcp-Session-Id`, `MCP-Protocol-Version`, `Last-Event-ID`; MCP 2026-07-28 basic/transports/
 * streamable-http: `Mcp-Method`, `Mcp-Name`, `Mcp-Param-*`). A static `--header` or the secret
 * header of `--auth header:NAME` with one of these names would be ignored or clash: refused.
 */
export const PROTOCOL_HEADER_RE =
  /^(host|content-length|content-type|transfer-encoding|connection|keep-alive|te|upgrade|accept|last-event-id|mcp-session-id|mcp-protocol-version|mcp-method|mcp-name|mcp-param-.*|sec-websocket-.*)$/i;

/**
 * A map of extra HTTP header name → value: RFC 9110 names, no credential-looking name or value
 * (SECRET_IN_CONFIG, pointing at `--auth`), no header the protocol or transport sets.
 */
export const headerMap = z
  .record(
    z.string().regex(HEADER_NAME_RE, 'not a valid HTTP header name (RFC 9110 §5.1)'),
    z.string().regex(/^[\t\x20-\x7e\x80-\xff]*$/, 'header values must not contain control characters'),
  )
  .superRefine((headers, ctx) => {
    for (const [name, value] of Object.entries(headers)) {
      if (PROTOCOL_HEADER_RE.test(name)) {
        ctx.addIssue({
          code: 'custom',
          path: [name],
          message: `"${name}" is set by MCP Tether's transport on each request (HTTP or MCP protocol header); it cannot be a static header: remove it`,
        });
      } else if (SECRET_HEADER_RE.test(name)) {
        ctx.addIssue({
          code: 'custom',
          path: [name],
          message: `"${name}" looks like a credential; secrets are kept in the OS keychain, never in endpoints.json: ${USE_AUTH_HINT}`,
          params: { tetherCode: 'SECRET_IN_CONFIG' },
        });
      } else if (SECRET_HEADER_VALUE_RE.test(value)) {
        ctx.addIssue({
          code: 'custom',
          path: [name],
          message: `the value of "${name}" looks like a credential (an authentication scheme and its credentials, or a JWT); secrets are kept in the OS keychain, never in endpoints.json: ${USE_AUTH_HINT}`,
          params: { tetherCode: 'SECRET_IN_CONFIG' },
        });
      }
    }
  });

const checkedUrl = z.string().superRefine((value, ctx) => {
  if (/\p{Cc}/u.test(value)) {
    ctx.addIssue({
      code: 'custom',
      message: 'the URL contains a control character (a newline, a tab…): type it on one line',
    });
    return;
  }
  let u: URL;
  try {
    u = new URL(value);
  } catch {
    ctx.addIssue({ code: 'custom', message: `"${value}" is not a URL (example: https://host:8080/mcp)` });
    return;
  }
  if (!['http:', 'https:', 'ws:', 'wss:'].includes(u.protocol)) {
    ctx.addIssue({
      code: 'custom',
      message: `unsupported scheme "${u.protocol}": use http, https, ws or wss`,
    });
  }
  if (u.username || u.password) {
    ctx.addIssue({
      code: 'custom',
      message: 'credentials in the URL are not allowed; they would be stored in plain text',
      params: { tetherCode: 'SECRET_IN_CONFIG' },
    });
  }
  const secretParam = [...u.searchParams.keys()].find((k) => SECRET_QUERY_PARAM_RE.test(k));
  if (secretParam !== undefined) {
    ctx.addIssue({
      code: 'custom',
      message: `the query parameter "${secretParam}" looks like a credential and would be stored in plain text: ${USE_AUTH_HINT}`,
      params: { tetherCode: 'SECRET_IN_CONFIG' },
    });
  }
});

/**
 * An endpoint URL, stored as the WHATWG URL parser serializes it (`new URL(v).href`): tabs and
 * newlines typed into it are gone (so it cannot forge a line in `engine.log`), the host is
 * lowercase and punycode, and the path is percent-encoded.
 */
export const url = checkedUrl.transform((v) => {
  try {
    return new URL(v).href;
  } catch {
    return v; // refused above
  }
});

/** An HTTP(S) proxy's URL: http:// or https://, host and port, no credentials and no path. */
export const proxyUrl = z.string().superRefine((value, ctx) => {
  let u: URL;
  try {
    u = new URL(value);
  } catch {
    ctx.addIssue({ code: 'custom', message: `"${value}" is not a URL (example: http://proxy.example:3128)` });
    return;
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') {
    ctx.addIssue({
      code: 'custom',
      message: `unsupported proxy scheme "${u.protocol}": use an http:// or https:// proxy (SOCKS is not supported)`,
    });
  }
  if (u.username || u.password) {
    ctx.addIssue({
      code: 'custom',
      message:
        "credentials in the proxy URL are not allowed; they would be stored in plain text: give --proxy without them, then store them in the OS keychain: printf '%s' 'USER:PASSWORD' | mcp-tether secret set <name> --proxy",
      params: { tetherCode: 'SECRET_IN_CONFIG' },
    });
  }
  if ((u.pathname !== '/' && u.pathname !== '') || u.search || u.hash) {
    ctx.addIssue({ code: 'custom', message: 'a proxy URL is scheme, host and port only (no path or query)' });
  }
});

/** `[user@]host[:port]` (IPv6 in brackets), or a `Host` alias of the ssh config. */
const SSH_DESTINATION_RE = /^(?:[^@\s]+@)?(?:\[[^\]\s]+\]|[^:@\s[\]]+)(?::\d{1,5})?$/;
/** An SSH destination as ssh(1) takes it (see SSH_DESTINATION_RE). */
export const sshDestination = z
  .string()
  .regex(
    SSH_DESTINATION_RE,
    'not an SSH destination: use [user@]host[:port] or a Host alias from ~/.ssh/config',
  );

/** The https URL of a Client ID Metadata Document (draft-ietf-oauth-client-id-metadata-document). */
export const clientMetadataUrl = z.url({
  protocol: /^https$/,
  error: 'the client metadata document must be an https:// URL',
});
