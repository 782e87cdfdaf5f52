/**
 * The size rule of the keychain store (main/engine/secrets/store.ts): a value over the OS limit
 * (Windows Credential Manager: 2,560 bytes) is stored as parts that each fit, read back whole,
 * listed once and deleted with its parts; here against a real Secret Service (gnome-keyring on a
 * private bus) with the Windows limit.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  SecretStore,
  WINDOWS_MAX_SECRET_BYTES,
  joinSecret,
  maxSecretBytes,
  splitSecret,
} from '../../main/engine/secrets/store.js';
import { startKeyring, type Keyring } from '../helpers/keyring.js';

let keyring: Keyring;
let store: SecretStore;
const seen: string[] = [];

beforeAll(async () => {
  keyring = await startKeyring();
  // keytar (libsecret) is loaded into this process and reads the bus address from here.
  process.env['DBUS_SESSION_BUS_ADDRESS'] = keyring.address;
  store = new SecretStore({ maxValueBytes: WINDOWS_MAX_SECRET_BYTES, onValue: (v) => seen.push(v) });
});

afterAll(async () => {
  await keyring?.close();
});

/** A token response as large ones are: a long JWT access token, an id_token, a refresh token. */
function bigTokens(): string {
  const jwt = (n: number) => 'eyJ' + 'a'.repeat(n) + '.eyJ' + 'b'.repeat(n) + '.' + 'c'.repeat(342);
  return JSON.stringify({
    access_token: jwt(1800),
    id_token: jwt(1500),
    refresh_token: 'r'.repeat(900),
    token_type: 'Bearer',
    issuer: 'https://login.example.com/tenant/v2.0',
    note: 'naïve ünïcödé 🙂 survives the cut',
  });
}

describe('splitSecret (pure)', () => {
  it('leaves a value that fits alone, and cuts a larger one into parts that fit, between characters', () => {
    expect(maxSecretBytes('win32')).toBe(2560);
    expect(maxSecretBytes('darwin')).toBe(Infinity);
    expect(maxSecretBytes('linux')).toBe(Infinity);
    expect(splitSecret('x'.repeat(2560), 2560)).toBeUndefined();
    const value = '🙂'.repeat(700) + 'y'.repeat(2000); // 2800 + 2000 bytes
    const split = splitSecret(value, 2560)!;
    expect(split.parts.join('')).toBe(value);
    expect(split.parts.length).toBe(2);
    for (const p of split.parts) expect(Buffer.byteLength(p, 'utf8')).toBeLessThanOrEqual(2560);
    expect(split.marker).toMatch(/^mcp-tether-split:v1:2:[0-9a-f]{16}$/);
  });

  it('joins only a complete, matching set of parts', async () => {
    const split = splitSecret('z'.repeat(10), 4)!;
    expect(split.parts).toEqual(['zzzz', 'zzzz', 'zz']);
    const parts = (ps: (string | undefined)[]) => async (i: number) => ps[i - 1];
    expect(await joinSecret(split.marker, parts(split.parts))).toBe('z'.repeat(10));
    expect(await joinSecret(split.marker, parts(['zzzz', 'zzzz']))).toBeUndefined();
    expect(await joinSecret(split.marker, parts(['zzzz', 'zzzz', 'zy']))).toBeUndefined();
    expect(await joinSecret('plain-token', parts([]))).toBe('plain-token');
  });
});

describe('SecretStore with the Windows limit, on a real Secret Service', () => {
  it('stores a large token response as parts that fit, reads it whole, lists it once, deletes every part', async () => {
    const value = bigTokens();
    expect(Buffer.byteLength(value)).toBeGreaterThan(2 * WINDOWS_MAX_SECRET_BYTES);
    await store.set('big', 'oauth-tokens:https://login.example.com', value);

    const entry = await keyring.lookup('big/oauth-tokens:https://login.example.com');
    const n = Number(/^mcp-tether-split:v1:(\d+):/.exec(entry ?? '')?.[1]);
    expect(n).toBe(Math.ceil(Buffer.byteLength(value) / WINDOWS_MAX_SECRET_BYTES));
    let joined = '';
    for (let i = 1; i <= n; i++) {
      const part = await keyring.lookup(`big/oauth-tokens:https://login.example.com#part:${i}`);
      expect(Buffer.byteLength(part!)).toBeLessThanOrEqual(WINDOWS_MAX_SECRET_BYTES);
      joined += part;
    }
    expect(joined).toBe(value);

    expect(await store.get('big', 'oauth-tokens:https://login.example.com')).toBe(value);
    expect(await store.list('big')).toEqual([
      { endpoint: 'big', name: 'oauth-tokens:https://login.example.com' },
    ]);
    expect(seen).toContain(value);
    expect(seen.filter((v) => v.startsWith('mcp-tether-split:'))).toEqual([]);

    // Replaced by a small value: the parts go.
    await store.set('big', 'oauth-tokens:https://login.example.com', '{"access_token":"small"}');
    expect(await keyring.lookup('big/oauth-tokens:https://login.example.com')).toBe(
      '{"access_token":"small"}',
    );
    expect(await keyring.lookup('big/oauth-tokens:https://login.example.com#part:1')).toBeUndefined();

    await store.set('big', 'oauth-tokens:https://login.example.com', value);
    expect(await store.delete('big', 'oauth-tokens:https://login.example.com')).toBe(true);
    for (let i = 0; i <= n; i++) {
      const suffix = i ? `#part:${i}` : '';
      expect(await keyring.lookup(`big/oauth-tokens:https://login.example.com${suffix}`)).toBeUndefined();
    }
    expect(await store.list('big')).toEqual([]);
  });

  it('a damaged split value reads as none (a sign-in replaces it), never as a wrong value', async () => {
    await store.set('dmg', 'bearer', 'q'.repeat(6000));
    await store.set('dmg', 'bearer#part:2', 'tampered');
    expect(await store.get('dmg', 'bearer')).toBeUndefined();
  });
});
