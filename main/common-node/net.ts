/**
 * Endpoint network settings shared by the CLI and the engine: the PEM certificates of `--ca`
 * (RFC 7468 §5 textual encoding of X.509 certificates) and the keychain secret of proxy credentials.
 * Node-only (the UI does not load it).
 */
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { ErrorCode, TetherError, errorMessage } from '../common/errors.js';

/** The keychain secret (account `<endpoint>/proxy`): `user:password` for the endpoint's HTTP proxy. */
export const PROXY_SECRET = 'proxy';

/** How a user stores the proxy credentials of an endpoint, as a command line (values come from stdin). */
export function proxySecretCommand(endpoint: string): string {
  return `printf '%s' 'USER:PASSWORD' | mcp-tether secret set ${endpoint} --proxy`;
}

/** One PEM certificate block. */
export const PEM_CERT_RE = /-----BEGIN CERTIFICATE-----\r?\n[A-Za-z0-9+/=\r\n]+?-----END CERTIFICATE-----/g;

/**
 * The certificates of a PEM bundle, each checked to be an X.509 certificate.
 * @param text PEM text: one or more `-----BEGIN CERTIFICATE-----` blocks (other blocks are ignored)
 * @param source where it came from, for the error message (a file name)
 * @returns the PEM blocks and their parsed certificates, in order
 * @throws TetherError INVALID_ARGUMENT (no certificate block, or a block that does not parse)
 */
export function parsePemCertificates(text: string, source: string): { pem: string; cert: X509Certificate }[] {
  const blocks = text.match(PEM_CERT_RE) ?? [];
  if (blocks.length === 0) {
    throw new TetherError(ErrorCode.INVALID_ARGUMENT, `${source} holds no PEM certificate`, {
      hint:
        'give a PEM file with one or more "-----BEGIN CERTIFICATE-----" blocks (the CA certificate, not a key); ' +
        'a DER (binary) certificate converts with: openssl x509 -inform der -in ca.der -out ca.pem',
    });
  }
  return blocks.map((pem, i) => {
    try {
      return { pem, cert: new X509Certificate(pem) };
    } catch (err) {
      throw new TetherError(
        ErrorCode.INVALID_ARGUMENT,
        `certificate ${i + 1} of ${source} is not a valid X.509 certificate: ${errorMessage(err)}`,
        { hint: 'check the file with: openssl x509 -in FILE -noout -text' },
        { cause: err },
      );
    }
  });
}

/**
 * Reads a `--ca` file: its certificates, re-joined as the PEM text stored in `endpoints.json`.
 * @throws TetherError INVALID_ARGUMENT (unreadable, or not PEM certificates)
 */
export function readCaFile(path: string): string {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new TetherError(
      ErrorCode.INVALID_ARGUMENT,
      `cannot read the CA file ${path}: ${errorMessage(err)}`,
      {},
      { cause: err },
    );
  }
  return `${parsePemCertificates(text, path)
    .map((c) => c.pem.replace(/\r\n/g, '\n'))
    .join('\n')}\n`;
}
