/**
 * Where an endpoint's credentials go (zod-free, so the UI can use it too).
 */
import type { EndpointConfig } from './schemas.js';

/**
 * The server an endpoint's credentials go to, which they are bound to: the URL's scheme, host and
 * port (RFC 6454 origin), plus ` via ssh <destination>` for an endpoint behind SSH (that host sees
 * the requests in clear). See `engine/auth/bindings.ts`.
 */
export function credentialOrigin(config: Pick<EndpointConfig, 'url' | 'ssh'>): string {
  const origin = new URL(config.url ?? '').origin;
  return config.ssh ? `${origin} via ssh ${config.ssh.destination}` : origin;
}
